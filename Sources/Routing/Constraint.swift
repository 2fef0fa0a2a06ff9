internal import PaymentModel

/// What a conjunction of field tests allows, field by field: a box in message space.
///
/// `nil` for a field means "anything, or absent"; a set means "present and in the set". The
/// validator intersects boxes along a path (an empty field is a contradiction) and compares them
/// (a later rule inside an earlier rule's box is shadowed); the compiler uses the over-approximation
/// of each rule to index it (``Condition/overApproximation``).
struct Constraint: Sendable, Equatable {
    var kinds: UInt16?
    var functions: UInt8?
    var processing: [String]?
    var bin: IntervalSet?
    var currency: Set<String>?
    var amount: IntervalSet?
    var mcc: IntervalSet?
    var merchant: Set<String>?
    var terminal: Set<String>?
    var acquirer: Set<String>?
    var country: Set<String>?
    var posEntryMode: [String]?
    var debtorAgent: [String]?
    var creditorAgent: [String]?
    var serviceLevel: Set<String>?
    var localInstrument: Set<String>?
    var categoryPurpose: Set<String>?
    var time: IntervalSet?

    /// No constraint at all.
    static let anything = Constraint()

    /// Exactly what one test allows.
    init(_ test: FieldTest) {
        switch test {
        case .kind(let set): kinds = set.reduce(0) { $0 | $1.bit }
        case .function(let set): functions = set.reduce(0) { $0 | $1.bit }
        case .processing(let prefixes): processing = prefixes
        case .bin(let set): bin = set
        case .amount(let code, let range): currency = [code]; amount = range
        case .currency(let set): currency = set
        case .mcc(let set): mcc = set
        case .merchant(let set): merchant = set
        case .terminal(let set): terminal = set
        case .acquirer(let set): acquirer = set
        case .country(let set): country = set
        case .posEntryMode(let prefixes): posEntryMode = prefixes
        case .debtorAgent(let prefixes): debtorAgent = prefixes
        case .creditorAgent(let prefixes): creditorAgent = prefixes
        case .serviceLevel(let set): serviceLevel = set
        case .localInstrument(let set): localInstrument = set
        case .categoryPurpose(let set): categoryPurpose = set
        case .timeOfDay(let set): time = set
        }
    }

    init() {}

    // The fields by the type of their set, so each operation is written once per type.
    private static var intervalFields: [WritableKeyPath<Constraint, IntervalSet?>] { [\.bin, \.amount, \.mcc, \.time] }
    private static var textFields: [WritableKeyPath<Constraint, Set<String>?>] {
        [\.currency, \.merchant, \.terminal, \.acquirer, \.country, \.serviceLevel, \.localInstrument, \.categoryPurpose]
    }
    private static var prefixFields: [WritableKeyPath<Constraint, [String]?>] { [\.processing, \.posEntryMode, \.debtorAgent, \.creditorAgent] }

    /// Whether some field allows nothing, so no message fits the box.
    var isEmpty: Bool {
        kinds == 0 || functions == 0 || Self.intervalFields.contains { self[keyPath: $0]?.isEmpty == true }
            || Self.textFields.contains { self[keyPath: $0]?.isEmpty == true }
            || Self.prefixFields.contains { self[keyPath: $0]?.isEmpty == true }
    }

    func intersection(_ other: Constraint) -> Constraint {
        var result = Constraint()
        result.kinds = Self.meet(kinds, other.kinds) { $0 & $1 }
        result.functions = Self.meet(functions, other.functions) { $0 & $1 }
        for field in Self.intervalFields { result[keyPath: field] = Self.meet(self[keyPath: field], other[keyPath: field]) { $0.intersection($1) } }
        for field in Self.textFields { result[keyPath: field] = Self.meet(self[keyPath: field], other[keyPath: field]) { $0.intersection($1) } }
        for field in Self.prefixFields { result[keyPath: field] = Self.meet(self[keyPath: field], other[keyPath: field], Self.prefixIntersection) }
        return result
    }

    /// The smallest box holding both (an over-approximation of their union).
    func union(_ other: Constraint) -> Constraint {
        var result = Constraint()
        result.kinds = Self.join(kinds, other.kinds) { $0 | $1 }
        result.functions = Self.join(functions, other.functions) { $0 | $1 }
        for field in Self.intervalFields { result[keyPath: field] = Self.join(self[keyPath: field], other[keyPath: field]) { $0.union($1) } }
        for field in Self.textFields { result[keyPath: field] = Self.join(self[keyPath: field], other[keyPath: field]) { $0.union($1) } }
        for field in Self.prefixFields { result[keyPath: field] = Self.join(self[keyPath: field], other[keyPath: field]) { $0 + $1 } }
        return result
    }

    /// Whether every message in this box is also in `other`.
    func isSubset(of other: Constraint) -> Bool {
        Self.within(kinds, other.kinds) { $0 & ~$1 == 0 }
            && Self.within(functions, other.functions) { $0 & ~$1 == 0 }
            && Self.intervalFields.allSatisfy { Self.within(self[keyPath: $0], other[keyPath: $0]) { $0.isSubset(of: $1) } }
            && Self.textFields.allSatisfy { Self.within(self[keyPath: $0], other[keyPath: $0]) { $0.isSubset(of: $1) } }
            && Self.prefixFields.allSatisfy { Self.within(self[keyPath: $0], other[keyPath: $0], Self.prefixSubset) }
    }

    private static func meet<T>(_ a: T?, _ b: T?, _ combine: (T, T) -> T) -> T? {
        guard let a else { return b }
        guard let b else { return a }
        return combine(a, b)
    }

    private static func join<T>(_ a: T?, _ b: T?, _ combine: (T, T) -> T) -> T? {
        guard let a, let b else { return nil }
        return combine(a, b)
    }

    private static func within<T>(_ a: T?, _ b: T?, _ subset: (T, T) -> Bool) -> Bool {
        guard let b else { return true }
        guard let a else { return false }
        return subset(a, b)
    }

    /// The texts starting with a prefix in both lists: the longer of each compatible pair.
    private static func prefixIntersection(_ a: [String], _ b: [String]) -> [String] {
        var result: [String] = []
        for x in a {
            for y in b {
                if x.hasPrefix(y) { result.append(x) } else if y.hasPrefix(x) { result.append(y) }
            }
        }
        return Array(Set(result)).sorted()
    }

    private static func prefixSubset(_ a: [String], _ b: [String]) -> Bool {
        a.allSatisfy { x in b.contains { x.hasPrefix($0) } }
    }
}

extension PaymentMessage.Kind {
    /// This kind's bit in a kind mask.
    @inline(__always)
    var bit: UInt16 { 1 << UInt16(ordinal) }
}

extension PaymentMessage.Function {
    /// This function's bit in a function mask.
    @inline(__always)
    var bit: UInt8 {
        switch self {
        case .request: 1
        case .response: 2
        case .advice: 4
        case .adviceResponse: 8
        case .repeat: 16
        }
    }
}

extension Condition {
    /// A box holding every message that can satisfy the condition, or nil when none can.
    ///
    /// Sound but not exact: `any` widens to the smallest box around its branches and `not` to
    /// anything, so it may hold messages that fail the condition, never the reverse. That makes it
    /// safe for indexing (a rule is never filtered out of a message it matches).
    var overApproximation: Constraint? {
        switch self {
        case .test(let test, _):
            let box = Constraint(test)
            return box.isEmpty ? nil : box
        case .all(let parts):
            var box = Constraint.anything
            for part in parts {
                guard let inner = part.overApproximation else { return nil }
                box = box.intersection(inner)
                if box.isEmpty { return nil }
            }
            return box
        case .any(let parts):
            var box: Constraint?
            for part in parts {
                guard let inner = part.overApproximation else { continue }
                box = box.map { $0.union(inner) } ?? inner
            }
            return box
        case .not:
            return .anything
        }
    }

    /// The exact box of a condition made only of tests joined by `all`, else nil.
    var exactBox: Constraint? {
        switch self {
        case .test(let test, _):
            return Constraint(test)
        case .all(let parts):
            var box = Constraint.anything
            for part in parts {
                guard let inner = part.exactBox else { return nil }
                box = box.intersection(inner)
            }
            return box
        case .any, .not:
            return nil
        }
    }
}
