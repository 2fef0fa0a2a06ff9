internal import PaymentModel

/// A compiled, immutable rule set: what the switch decides with.
///
/// Compiling indexes every rule on six dimensions (message kind, BIN, currency, MCC, debtor and
/// creditor agent BIC). For each
/// dimension value it keeps a bitset of the rules that *can* match there, from a sound
/// over-approximation of each rule's condition (a rule without a test on the dimension is in every
/// set). A decision ANDs the six bitsets for the message and fully evaluates only the rules left,
/// lowest index first; the first that matches wins. Since the filter never removes a rule that
/// matches, the answer is always that of reading the rules top to bottom (``RuleSet/firstMatch(_:_:)``).
public struct RoutingSnapshot: Sendable {
    /// The rules as written.
    public let ruleSet: RuleSet
    let program: CompiledProgram

    /// The content hash of the rule file and its BIN tables.
    public var version: String { ruleSet.contentHash }

    public init(_ ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        self.program = CompiledProgram(ruleSet)
    }

    /// Reads, validates and compiles a rule file; nil with the diagnostics when it has errors.
    public static func compile(yaml: String, file: String, readFile: (String) -> String? = { _ in nil }) -> (snapshot: RoutingSnapshot?, check: RuleFileCheck) {
        let check = RuleSet.load(yaml: yaml, file: file, readFile: readFile)
        return (check.ruleSet.map(RoutingSnapshot.init), check)
    }
}

/// A fixed-size bitset pool: bitset `id` is words `id * words ..< (id + 1) * words`.
struct BitsetPool {
    let words: Int
    private(set) var storage: [UInt64] = []
    private var ids: [[UInt64]: Int32] = [:]

    init(rules: Int) { words = max(1, (rules + 63) / 64) }

    /// The id of a bitset, shared with every equal bitset interned before.
    mutating func intern(_ bits: [UInt64]) -> Int32 {
        if let id = ids[bits] { return id }
        let id = Int32(storage.count / words)
        storage += bits
        ids[bits] = id
        return id
    }

    func empty() -> [UInt64] { [UInt64](repeating: 0, count: words) }
}

/// A partition of an integer domain into intervals, each with the bitset id of the rules that can
/// match a value in it: BIN keys and MCCs.
struct IntervalIndex {
    /// The first value of each interval, ascending, starting at the domain's lower bound.
    let starts: [Int64]
    let ids: [Int32]
    /// The bitset for a message without the field.
    let absent: Int32

    @inline(__always)
    func id(_ value: Int64?) -> Int32 {
        guard let value else { return absent }
        var low = 0, high = starts.count
        while high - low > 1 {
            let middle = (low + high) >> 1
            if starts[middle] <= value { low = middle } else { high = middle }
        }
        return ids[low]
    }

    /// Sweeps the rules' intervals over the domain.
    /// - Parameters:
    ///   - sets: Each rule's allowed values, nil when the rule does not test the dimension.
    ///   - live: The rules that can match at all.
    init(domain: ClosedRange<Int64>, sets: [IntervalSet?], live: [Bool], pool: inout BitsetPool) {
        var base = pool.empty()
        var events: [(point: Int64, rule: Int, add: Bool)] = []
        for (rule, set) in sets.enumerated() where live[rule] {
            guard let set else {
                base[rule >> 6] |= 1 << UInt64(rule & 63)
                continue
            }
            for range in set.ranges {
                let low = max(range.lowerBound, domain.lowerBound), high = min(range.upperBound, domain.upperBound)
                guard low <= high else { continue }
                events.append((low, rule, true))
                if high < domain.upperBound { events.append((high + 1, rule, false)) }
            }
        }
        absent = pool.intern(base)
        // Removals before additions at one point: a rule's intervals are merged, so it never both
        // ends and starts at the same point, but this keeps the sweep right regardless.
        events.sort { ($0.point, $0.add ? 1 : 0) < ($1.point, $1.add ? 1 : 0) }
        var current = base
        var starts: [Int64] = [domain.lowerBound]
        var ids: [Int32] = [absent]
        var index = 0
        while index < events.count {
            let point = events[index].point
            while index < events.count && events[index].point == point {
                let event = events[index]
                if event.add {
                    current[event.rule >> 6] |= 1 << UInt64(event.rule & 63)
                } else {
                    current[event.rule >> 6] &= ~(1 << UInt64(event.rule & 63))
                }
                index += 1
            }
            let id = pool.intern(current)
            if starts.last == point {
                ids[ids.count - 1] = id
            } else if ids.last != id {
                starts.append(point)
                ids.append(id)
            }
        }
        self.starts = starts
        self.ids = ids
    }
}

/// The compiled form: per-dimension bitset indexes and each rule's condition as flat nodes.
final class CompiledProgram: Sendable {
    enum Node {
        case all(first: Int32, count: Int32)
        case any(first: Int32, count: Int32)
        case not(Int32)
        case test(Int32)
    }

    /// A field test with its operands in the form the message's values are compared in.
    enum Leaf {
        case kinds(UInt16)
        case functions(UInt8)
        case processing([(value: Int64, scale: Int64)])
        case bin(IntervalSet)
        case amount(currency: UInt32, minorUnits: IntervalSet)
        case currency([UInt32])
        case mcc(IntervalSet)
        case merchant(Set<String>)
        case terminal(Set<String>)
        case acquirer(Set<String>)
        case country(Set<String>)
        case posEntryMode([String])
        case debtorAgent([String])
        case creditorAgent([String])
        case serviceLevel(Set<String>)
        case localInstrument(Set<String>)
        case categoryPurpose(Set<String>)
        case time(IntervalSet)
    }

    let nodes: [Node]
    /// Children of `all`/`any` nodes, as node indexes.
    let children: [Int32]
    let leaves: [Leaf]
    /// Each rule's root node.
    let roots: [Int32]
    let pool: [UInt64]
    let words: Int
    /// Bitset id per message kind, in `PaymentMessage.Kind.allCases` order.
    let kindIDs: [Int32]
    let bin: IntervalIndex
    let mcc: IntervalIndex
    let debtorAgent: IntervalIndex
    let creditorAgent: IntervalIndex
    /// Packed currency codes tested by some rule, ascending, and the bitset id of each.
    let currencies: [UInt32]
    let currencyIDs: [Int32]
    /// The bitset for a currency no rule names, or no amount.
    let otherCurrencyID: Int32
    /// Each rule's action and the default's.
    let actions: [RouteAction]
    let defaultAction: RouteAction

    init(_ ruleSet: RuleSet) {
        var builder = Builder()
        roots = ruleSet.rules.map { builder.add($0.condition) }
        nodes = builder.nodes
        children = builder.children
        leaves = builder.leaves
        actions = ruleSet.rules.map(\.action)
        defaultAction = ruleSet.defaultAction

        let boxes = ruleSet.rules.map(\.condition.overApproximation)
        let live = boxes.map { $0 != nil }
        var pool = BitsetPool(rules: ruleSet.rules.count)
        words = pool.words
        kindIDs = PaymentMessage.Kind.allCases.map { kind in
            var bits = pool.empty()
            for (rule, box) in boxes.enumerated() where box.map({ $0.kinds.map { $0 & kind.bit != 0 } ?? true }) ?? false {
                bits[rule >> 6] |= 1 << UInt64(rule & 63)
            }
            return pool.intern(bits)
        }
        bin = IntervalIndex(domain: 0...BINKey.upper, sets: boxes.map { $0?.bin }, live: live, pool: &pool)
        mcc = IntervalIndex(domain: 0...9999, sets: boxes.map { $0?.mcc }, live: live, pool: &pool)
        let bicDomain = 0...BICKey.interval("").upperBound
        debtorAgent = IntervalIndex(domain: bicDomain, sets: boxes.map { $0?.debtorAgent.map(Self.bicIntervals) }, live: live, pool: &pool)
        creditorAgent = IntervalIndex(domain: bicDomain, sets: boxes.map { $0?.creditorAgent.map(Self.bicIntervals) }, live: live, pool: &pool)
        let codes = Set(boxes.compactMap { $0?.currency }.flatMap { $0 }).map(Self.pack).sorted()
        currencies = codes
        func currencyBits(_ code: UInt32?) -> [UInt64] {
            var bits = pool.empty()
            for (rule, box) in boxes.enumerated() {
                guard let box else { continue }
                let allowed = box.currency.map { set in code.map { set.map(Self.pack).contains($0) } ?? false } ?? true
                if allowed { bits[rule >> 6] |= 1 << UInt64(rule & 63) }
            }
            return bits
        }
        currencyIDs = codes.map { pool.intern(currencyBits($0)) }
        otherCurrencyID = pool.intern(currencyBits(nil))
        self.pool = pool.storage
    }

    static func bicIntervals(_ prefixes: [String]) -> IntervalSet { IntervalSet(prefixes.map(BICKey.interval)) }

    /// A three-letter currency code as a number (its bytes), compared without hashing.
    @inline(__always)
    static func pack(_ code: String) -> UInt32 {
        var value: UInt32 = 0
        for byte in code.utf8 { value = value << 8 | UInt32(byte) }
        return value
    }

    /// Flattens conditions into nodes and leaves.
    struct Builder {
        var nodes: [Node] = []
        var children: [Int32] = []
        var leaves: [Leaf] = []

        mutating func add(_ condition: Condition) -> Int32 {
            let node: Node
            switch condition {
            case .all(let parts), .any(let parts):
                let indexes = parts.map { add($0) }
                let first = Int32(children.count)
                children += indexes
                if case .all = condition {
                    node = .all(first: first, count: Int32(indexes.count))
                } else {
                    node = .any(first: first, count: Int32(indexes.count))
                }
            case .not(let inner):
                node = .not(add(inner))
            case .test(let test, _):
                leaves.append(Self.leaf(test))
                node = .test(Int32(leaves.count - 1))
            }
            nodes.append(node)
            return Int32(nodes.count - 1)
        }

        static func leaf(_ test: FieldTest) -> Leaf {
            switch test {
            case .kind(let set): .kinds(set.reduce(0) { $0 | $1.bit })
            case .function(let set): .functions(set.reduce(0) { $0 | $1.bit })
            // A prefix that is not one to six digits never matches: (-1, 1) compares false.
            case .processing(let prefixes): .processing(prefixes.map { FieldValue.processingPrefix($0) ?? (-1, 1) })
            case .bin(let set): .bin(set)
            case .amount(let currency, let set): .amount(currency: CompiledProgram.pack(currency), minorUnits: set)
            case .currency(let set): .currency(set.map(CompiledProgram.pack))
            case .mcc(let set): .mcc(set)
            case .merchant(let set): .merchant(set)
            case .terminal(let set): .terminal(set)
            case .acquirer(let set): .acquirer(set)
            case .country(let set): .country(set)
            case .posEntryMode(let prefixes): .posEntryMode(prefixes)
            case .debtorAgent(let prefixes): .debtorAgent(prefixes)
            case .creditorAgent(let prefixes): .creditorAgent(prefixes)
            case .serviceLevel(let set): .serviceLevel(set)
            case .localInstrument(let set): .localInstrument(set)
            case .categoryPurpose(let set): .categoryPurpose(set)
            case .timeOfDay(let set): .time(set)
            }
        }
    }
}
