public import PaymentModel
public import SpecFiles
import ISO8583

/// How the issuer simulator answers: response rules, latency and faults, read from a YAML file.
///
/// ```yaml
/// responses:                       # first match wins; requests (0100, 0200, pacs.008 …) only
///   - when: {amountOver: "1000.00"}
///     result: Insufficient funds   # a name or canonical code of specs/codes/results.yaml
///   - when: {panPrefix: "400000"}
///     result: "1014"
///   - when: {amountEquals: "444.44"}
///     answer: false                # left unanswered: the switch's timeout and reversal

/// default: Approved
/// approvalCode: true               # DE 38 on approvals (a per-process sequence)
/// latency: {distribution: uniform, minMs: 1, maxMs: 5}
/// faults: {drop: 0.01, late: 0.01, close: 0.001, garbage: 0.001, stopReading: 0}
/// faultsOn: ["0100", "0200"]        # the messages faults apply to (default: every one answered)
/// lateMs: 35000                    # how late a "late" answer comes: past the switch's timeout
/// seed: 42
/// ```
public struct IssuerBehaviour: Sendable {
    /// One response rule.
    public struct Rule: Sendable {
        /// Every condition must hold.
        public var conditions: [Condition]
        public var result: ResultCode
        /// False for a request to leave unanswered, deterministically (`answer: false`).
        public var answers = true
    }

    /// A condition on the request.
    public enum Condition: Sendable, Equatable {
        /// The amount, in its currency, is above (below, equal to) a decimal value.
        case amountOver(Decimal), amountUnder(Decimal), amountEquals(Decimal)
        /// The PAN starts with these digits.
        case panPrefix(String)
        /// The currency (alphabetic or numeric code).
        case currency(String)
        /// The ISO 8583 MTI (`0100`), or the ISO 20022 message (`pacs.008.001.08`).
        case message(String)
    }

    /// A decimal from a rule: `digits` scaled by 10^-`scale` (`12.50` is 1250, 2).
    public struct Decimal: Sendable, Equatable {
        public var digits: Int64
        public var scale: Int

        /// Compares an amount with this value: -1, 0 or 1, for any amount (no overflow).
        func compare(_ amount: Amount) -> Int {
            // Bring both to the larger scale; a side that overflows Int64 there is the larger in magnitude.
            let common = max(scale, amount.currency.minorUnits)
            switch (Decimal.scaled(amount.minorUnits, by: common - amount.currency.minorUnits), Decimal.scaled(digits, by: common - scale)) {
            case let (left?, right?): return left < right ? -1 : (left == right ? 0 : 1)
            case (nil, _): return amount.minorUnits < 0 ? -1 : 1
            case (_, nil): return digits < 0 ? 1 : -1
            }
        }

        /// `value` × 10^`exponent`, or nil when it does not fit.
        static func scaled(_ value: Int64, by exponent: Int) -> Int64? {
            var result = value
            for _ in 0..<exponent {
                let (product, overflow) = result.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                result = product
            }
            return result
        }
    }

    /// A latency distribution, in milliseconds.
    public enum Latency: Sendable, Equatable {
        case fixed(Double)
        case uniform(min: Double, max: Double)
        case normal(mean: Double, standardDeviation: Double)
        /// Log-normal with this median and 99th percentile: most answers fast, a few very slow.
        case longTail(median: Double, p99: Double)
    }

    /// Probabilities (0…1) of each fault, drawn per request.
    public struct Faults: Sendable, Equatable {
        /// No answer at all.
        public var drop = 0.0
        /// The answer comes after ``IssuerBehaviour/lateMilliseconds``.
        public var late = 0.0
        /// The connection is closed instead of answering.
        public var close = 0.0
        /// A frame that is no message is sent instead of the answer.
        public var garbage = 0.0
        /// The simulator stops reading the connection (and answers nothing more on it).
        public var stopReading = 0.0

        public init(drop: Double = 0, late: Double = 0, close: Double = 0, garbage: Double = 0, stopReading: Double = 0) {
            self.drop = drop
            self.late = late
            self.close = close
            self.garbage = garbage
            self.stopReading = stopReading
        }
    }

    public var rules: [Rule]
    public var defaultResult: ResultCode
    public var approvalCode: Bool
    public var latency: Latency
    public var faults: Faults
    /// The MTIs or ISO 20022 messages (`pacs.008.001.08`) faults apply to; nil: every message answered.
    public var faultsOn: Set<String>?
    public var lateMilliseconds: Double
    public var seed: UInt64

    /// Approves everything at once, with no faults.
    public init(rules: [Rule] = [], defaultResult: ResultCode = .approved, approvalCode: Bool = true, latency: Latency = .fixed(0),
                faults: Faults = Faults(), lateMilliseconds: Double = 35_000, seed: UInt64 = 1) {
        self.rules = rules
        self.defaultResult = defaultResult
        self.approvalCode = approvalCode
        self.latency = latency
        self.faults = faults
        self.lateMilliseconds = lateMilliseconds
        self.seed = seed
    }

    /// Whether faults are drawn for this message (``faultsOn``).
    func faultsApply(mti: MTI?, name: String?) -> Bool {
        guard let faultsOn else { return true }
        if let mti { return faultsOn.contains(mti.description) }
        return name.map(faultsOn.contains) ?? false
    }

    /// The result for a request: the first rule whose conditions all hold, else the default; nil
    /// when that rule says to leave the request unanswered.
    public func result(for request: PaymentMessage, messageName: String) -> ResultCode? {
        for rule in rules where rule.conditions.allSatisfy({ $0.holds(for: request, messageName: messageName) }) {
            return rule.answers ? rule.result : nil
        }
        return defaultResult
    }
}

extension IssuerBehaviour.Condition {
    func holds(for request: PaymentMessage, messageName: String) -> Bool {
        switch self {
        case .amountOver(let value): return request.amount.map { value.compare($0) > 0 } ?? false
        case .amountUnder(let value): return request.amount.map { value.compare($0) < 0 } ?? false
        case .amountEquals(let value): return request.amount.map { value.compare($0) == 0 } ?? false
        case .panPrefix(let prefix): return request.pan?.revealed.hasPrefix(prefix) ?? false
        case .currency(let code):
            guard let currency = request.amount?.currency else { return false }
            return currency.code == code || currency.numeric == code
        case .message(let name): return name == messageName
        }
    }
}

// MARK: Loading

extension IssuerBehaviour {
    /// Reads a behaviour file; every error names file:line:column.
    public static func load(yaml: String, file: String, results: ResultCodeTable = .shipped) throws(SpecError) -> IssuerBehaviour {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("the issuer behaviour", allowed: ["responses", "default", "approvalCode", "latency", "faults", "faultsOn", "lateMs", "seed"])
        var behaviour = IssuerBehaviour()
        if let responses = top["responses"] {
            for item in try responses.sequence("responses") {
                let rule = try item.mapping("a response rule", allowed: ["when", "result", "answer"])
                var conditions: [Condition] = []
                if let when = rule["when"] {
                    let mapping = try when.mapping("when", allowed: ["amountOver", "amountUnder", "amountEquals", "panPrefix", "currency", "message"])
                    for key in mapping.keys {
                        let node = try mapping.required(key, in: "when")
                        conditions.append(try condition(key, node))
                    }
                }
                let answers = try rule["answer"]?.boolean("answer") ?? true
                if !answers, let stray = rule["result"] { throw stray.error("a rule with answer: false sends no result") }
                let code = answers ? try result(try rule.required("result", in: "a response rule"), results) : .approved
                behaviour.rules.append(Rule(conditions: conditions, result: code, answers: answers))
            }
        }
        if let node = top["default"] { behaviour.defaultResult = try result(node, results) }
        if let node = top["approvalCode"] { behaviour.approvalCode = try node.boolean("approvalCode") }
        if let node = top["latency"] { behaviour.latency = try latency(node) }
        if let node = top["faults"] {
            let mapping = try node.mapping("faults", allowed: ["drop", "late", "close", "garbage", "stopReading"])
            func rate(_ key: String) throws(SpecError) -> Double {
                guard let node = mapping[key] else { return 0 }
                let value = try number(node, key)
                guard (0...1).contains(value) else { throw node.error("\(key) is a probability: a number from 0 to 1") }
                return value
            }
            behaviour.faults = Faults(drop: try rate("drop"), late: try rate("late"), close: try rate("close"),
                                      garbage: try rate("garbage"), stopReading: try rate("stopReading"))
            guard behaviour.faults.total <= 1 else { throw node.error("the fault rates add up to more than 1") }
        }
        if let node = top["faultsOn"] {
            var names: Set<String> = []
            for item in try node.sequence("faultsOn") { names.insert(try item.string("an MTI or ISO 20022 message")) }
            behaviour.faultsOn = names
        }
        if let node = top["lateMs"] { behaviour.lateMilliseconds = try nonNegative(node, "lateMs") }
        if let node = top["seed"] {
            guard let seed = UInt64(exactly: try node.integer("seed")) else { throw node.error("seed must be a whole number, 0 or more") }
            behaviour.seed = seed
        }
        return behaviour
    }

    private static func condition(_ key: String, _ node: SpecNode) throws(SpecError) -> Condition {
        switch key {
        case "amountOver": return .amountOver(try decimal(node, key))
        case "amountUnder": return .amountUnder(try decimal(node, key))
        case "amountEquals": return .amountEquals(try decimal(node, key))
        case "panPrefix":
            let prefix = try node.string(key)
            guard !prefix.isEmpty, prefix.count <= 19, prefix.allSatisfy(\.isASCIIDigit) else {
                throw node.error("panPrefix must be 1 to 19 digits")
            }
            return .panPrefix(prefix)
        case "currency":
            let code = try node.string(key)
            guard Currency(code) != nil else { throw node.error("unknown currency '\(code)'") }
            return .currency(code)
        default: return .message(try node.string(key))
        }
    }

    /// A result by canonical code (`"1016"`) or by its name in the table (`Insufficient funds`).
    private static func result(_ node: SpecNode, _ results: ResultCodeTable) throws(SpecError) -> ResultCode {
        let text = try node.string("result")
        if let row = results.rows.first(where: { $0.name.lowercased() == text.lowercased() }) { return row.canonical }
        if text.count == 4, let value = Int(text), let code = ResultCode(value), results.row(code) != nil { return code }
        throw node.error("unknown result '\(text)': give a name or canonical code of specs/codes/results.yaml (Approved, Insufficient funds, 1016 …)")
    }

    private static func latency(_ node: SpecNode) throws(SpecError) -> Latency {
        let mapping = try node.mapping("latency", allowed: ["distribution", "ms", "minMs", "maxMs", "meanMs", "stddevMs", "medianMs", "p99Ms"])
        let distribution = try mapping.required("distribution", in: "latency")
        func value(_ key: String) throws(SpecError) -> Double {
            try nonNegative(try mapping.required(key, in: "latency"), key)
        }
        switch try distribution.string("distribution") {
        case "fixed": return .fixed(try value("ms"))
        case "uniform":
            let low = try value("minMs"), high = try value("maxMs")
            guard low <= high else { throw node.error("minMs is above maxMs") }
            return .uniform(min: low, max: high)
        case "normal": return .normal(mean: try value("meanMs"), standardDeviation: try value("stddevMs"))
        case "longTail":
            let median = try value("medianMs"), p99 = try value("p99Ms")
            guard median > 0, p99 >= median else { throw node.error("longTail needs 0 < medianMs <= p99Ms") }
            return .longTail(median: median, p99: p99)
        default:
            throw distribution.error("unknown distribution; one of fixed, uniform, normal, longTail")
        }
    }

    private static func decimal(_ node: SpecNode, _ key: String) throws(SpecError) -> Decimal {
        let text = try node.string(key)
        let decimals = text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        guard decimals <= 6, let digits = try? Amount.scaled(text, scale: decimals) else {
            throw node.error("\(key) must be a decimal amount such as 1000.00, with at most 6 decimals, below \(Int64.max)")
        }
        return Decimal(digits: digits, scale: decimals)
    }

    private static func number(_ node: SpecNode, _ key: String) throws(SpecError) -> Double {
        guard let value = Double(try node.string(key)), value.isFinite else { throw node.error("\(key) must be a number") }
        return value
    }

    private static func nonNegative(_ node: SpecNode, _ key: String) throws(SpecError) -> Double {
        let value = try number(node, key)
        guard value >= 0 else { throw node.error("\(key) must not be negative") }
        return value
    }
}

extension IssuerBehaviour.Faults {
    var total: Double { drop + late + close + garbage + stopReading }
}
