public import PaymentModel

/// The values of a message that field tests read, in the form both evaluators compare.
///
/// Shared by the reference evaluator and the compiled snapshot so that the two differ only in how
/// they find the first matching rule, which is what the equivalence tests check.
enum FieldValue {
    /// The BIN key of the PAN (first eight digits), or nil.
    @inline(__always)
    static func bin(_ message: PaymentMessage) -> Int64? {
        guard let pan = message.pan else { return nil }
        var key: Int64 = 0
        pan.withRevealedDigits { key = BINKey.of($0) }
        return key
    }

    /// The processing code as a six-digit number, or nil.
    @inline(__always)
    static func processing(_ message: PaymentMessage) -> Int64? { message.processing.map { Int64($0.number) } }

    /// The merchant category code as a number, or nil when absent or not one to four digits: read
    /// from the message's inline bytes, without a string.
    @inline(__always)
    static func mcc(_ message: PaymentMessage) -> Int64? {
        var value: Int64? = nil
        message.withText(.merchantCategoryCode) { bytes in value = bytes.flatMap { digits($0, maximum: 4) } }
        return value
    }

    /// One to `maximum` ASCII digits as a number, or nil.
    @inline(__always)
    static func digits(_ bytes: UnsafeBufferPointer<UInt8>, maximum: Int) -> Int64? {
        guard (1...maximum).contains(bytes.count) else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value
    }

    /// A text of one to `maximum` ASCII digits as a number, or nil.
    static func digits(_ text: String?, maximum: Int) -> Int64? {
        guard var text else { return nil }
        return text.withUTF8 { digits($0, maximum: maximum) }
    }

    /// A processing-code prefix as (value, scale): a code matches when `code / scale == value`.
    static func processingPrefix(_ prefix: String) -> (value: Int64, scale: Int64)? {
        guard let value = digits(prefix, maximum: 6) else { return nil }
        var scale: Int64 = 1
        for _ in prefix.count..<6 { scale *= 10 }
        return (value, scale)
    }

    /// Whether `text` starts with the bytes of `prefix` (byte-wise, as the compiled form compares).
    @inline(__always)
    static func hasPrefix(_ text: String?, _ prefix: String) -> Bool {
        guard let text else { return false }
        return text.utf8.starts(with: prefix.utf8)
    }
}

extension FieldTest {
    /// Whether the message passes the test: the reference semantics.
    public func matches(_ message: PaymentMessage, _ context: RoutingContext) -> Bool {
        switch self {
        case .kind(let set): return set.contains(message.kind)
        case .function(let set): return set.contains(message.function)
        case .processing(let prefixes):
            guard let code = FieldValue.processing(message) else { return false }
            return prefixes.contains { prefix in FieldValue.processingPrefix(prefix).map { code / $0.scale == $0.value } ?? false }
        case .bin(let set): return FieldValue.bin(message).map(set.contains) ?? false
        case .amount(let currency, let range):
            guard let amount = message.amount, amount.currency.code == currency else { return false }
            return range.contains(amount.minorUnits)
        case .currency(let set): return message.amount.map { set.contains($0.currency.code) } ?? false
        case .mcc(let set): return FieldValue.mcc(message).map(set.contains) ?? false
        case .merchant(let set): return message.merchantID.map(set.contains) ?? false
        case .terminal(let set): return message.terminal.map(set.contains) ?? false
        case .acquirer(let set): return message.acquirer.map(set.contains) ?? false
        case .country(let set): return message.merchantCountry.map(set.contains) ?? false
        case .posEntryMode(let prefixes): return prefixes.contains { FieldValue.hasPrefix(message.posEntryMode, $0) }
        case .debtorAgent(let prefixes): return prefixes.contains { FieldValue.hasPrefix(message.debtorAgent, $0) }
        case .creditorAgent(let prefixes): return prefixes.contains { FieldValue.hasPrefix(message.creditorAgent, $0) }
        case .serviceLevel(let set): return message.serviceLevel.map(set.contains) ?? false
        case .localInstrument(let set): return message.localInstrument.map(set.contains) ?? false
        case .categoryPurpose(let set): return message.categoryPurpose.map(set.contains) ?? false
        case .timeOfDay(let set): return set.contains(Int64(context.minuteOfDay))
        }
    }
}

extension Condition {
    /// Whether the message satisfies the condition: the reference semantics.
    public func matches(_ message: PaymentMessage, _ context: RoutingContext) -> Bool {
        var ignored: [Explanation.TestResult]?
        return matches(message, context, trace: &ignored)
    }

    func matches(_ message: PaymentMessage, _ context: RoutingContext, trace: inout [Explanation.TestResult]?) -> Bool {
        switch self {
        case .all(let parts):
            for part in parts where !part.matches(message, context, trace: &trace) { return false }
            return true
        case .any(let parts):
            for part in parts where part.matches(message, context, trace: &trace) { return true }
            return false
        case .not(let inner):
            return !inner.matches(message, context, trace: &trace)
        case .test(let test, let position):
            let result = test.matches(message, context)
            trace?.append(Explanation.TestResult(
                position: position, field: test.field, expected: test.summary,
                actual: Explanation.printable(test.field, message, context), passed: result))
            return result
        }
    }
}

extension RuleSet {
    /// The index of the first rule that matches, reading top to bottom; nil means the default.
    ///
    /// The reference the compiled snapshot must always agree with, and what ``explain(_:_:)`` walks.
    public func firstMatch(_ message: PaymentMessage, _ context: RoutingContext) -> Int? {
        rules.firstIndex { $0.condition.matches(message, context) }
    }

    /// The rules tested on the way to the decision, with every field test and its result.
    public func explain(_ message: PaymentMessage, _ context: RoutingContext) -> Explanation {
        var steps: [Explanation.Step] = []
        for (index, rule) in rules.enumerated() {
            var trace: [Explanation.TestResult]? = []
            let matched = rule.condition.matches(message, context, trace: &trace)
            steps.append(Explanation.Step(rule: index, id: rule.id, position: rule.position, tests: trace ?? [], matched: matched))
            if matched { return Explanation(steps: steps, matchedRule: index) }
        }
        return Explanation(steps: steps, matchedRule: nil)
    }
}

/// Why a message went where it went: each rule tried, its field tests and their results.
///
/// Values are printed as they are safe to print: a PAN only masked, its BIN as six digits.
public struct Explanation: Sendable {
    /// One field test on the way.
    public struct TestResult: Sendable {
        public let position: SourcePosition
        public let field: RoutingField
        /// What the test wants, shortened for long lists.
        public let expected: String
        /// What the message has (masked where sensitive), or "absent".
        public let actual: String
        public let passed: Bool
    }

    /// One rule tried.
    public struct Step: Sendable {
        public let rule: Int
        public let id: String
        public let position: SourcePosition
        public let tests: [TestResult]
        public let matched: Bool
    }

    public let steps: [Step]
    /// The rule that decided, or nil for the default action.
    public let matchedRule: Int?

    /// The message's value of a field, safe to print.
    static func printable(_ field: RoutingField, _ message: PaymentMessage, _ context: RoutingContext) -> String {
        let value: String? = switch field {
        case .kind: message.kind.rawValue
        case .function: message.function.rawValue
        case .processing: message.processing?.description
        case .bin: message.pan.map { "\($0.bin(length: 6)) (PAN \($0))" }
        case .amount: message.amount?.description
        case .currency: message.amount?.currency.code
        case .mcc: message.merchantCategoryCode
        case .merchant: message.merchantID
        case .terminal: message.terminal
        case .acquirer: message.acquirer
        case .country: message.merchantCountry
        case .posEntryMode: message.posEntryMode
        case .debtorAgent: message.debtorAgent
        case .creditorAgent: message.creditorAgent
        case .serviceLevel: message.serviceLevel
        case .localInstrument: message.localInstrument
        case .categoryPurpose: message.categoryPurpose
        case .time: TimeText.format(Int64(context.minuteOfDay))
        }
        return value ?? "absent"
    }
}

extension FieldTest {
    /// What the test wants, in rule-file terms; long lists are cut to their first few items.
    var summary: String {
        func list(_ items: [String]) -> String {
            items.count <= 6 ? items.joined(separator: ", ") : items.prefix(5).joined(separator: ", ") + " and \(items.count - 5) more"
        }
        func ranges(_ set: IntervalSet, _ format: (Int64) -> String) -> String {
            list(set.ranges.map { $0.lowerBound == $0.upperBound ? format($0.lowerBound) : "\(format($0.lowerBound))-\(format($0.upperBound))" })
        }
        func padded(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        switch self {
        case .kind(let set): return "in [\(list(set.map(\.rawValue).sorted()))]"
        case .function(let set): return "in [\(list(set.map(\.rawValue).sorted()))]"
        case .processing(let prefixes), .posEntryMode(let prefixes), .debtorAgent(let prefixes), .creditorAgent(let prefixes):
            return "starts with [\(list(prefixes))]"
        case .bin(let set): return "in [\(ranges(set) { padded($0, 8) })]"
        case .amount(let currency, let set): return "\(currency) minor units in [\(ranges(set) { $0 == .max ? "max" : String($0) })]"
        case .currency(let set), .merchant(let set), .terminal(let set), .acquirer(let set), .country(let set),
             .serviceLevel(let set), .localInstrument(let set), .categoryPurpose(let set):
            return "in [\(list(set.sorted()))]"
        case .mcc(let set): return "in [\(ranges(set) { padded($0, 4) })]"
        case .timeOfDay(let set): return "in [\(ranges(set, TimeText.format))]"
        }
    }
}

/// Minutes since midnight as HH:MM.
enum TimeText {
    static func format(_ minute: Int64) -> String {
        let hour = String(minute / 60), rest = String(minute % 60)
        return (hour.count == 1 ? "0" : "") + hour + ":" + (rest.count == 1 ? "0" : "") + rest
    }
}
