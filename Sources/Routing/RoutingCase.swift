public import PaymentModel
internal import SpecFiles

/// One case of a rule author's test table: a message, the time, and the route expected for it.
public struct RoutingCase: Sendable {
    public let name: String
    public let position: SourcePosition
    public let message: PaymentMessage
    public let context: RoutingContext
    /// The id of the rule expected to decide (`default` for the default action), if given.
    public let expectedRule: String?
    /// The channels expected, in order, if given.
    public let expectedChannels: [String]?
    /// The decline code expected, if given.
    public let expectedDecline: ResultCode?

    /// What the snapshot decided for this case, and whether that is what was expected.
    public struct Outcome: Sendable {
        public let rule: String
        public let channels: [String]
        public let decline: ResultCode?
        public let passed: Bool
    }

    /// Decides the case with the static rules (no channel health: a rule file's own CI has none).
    public func run(_ snapshot: RoutingSnapshot) -> Outcome {
        let decision = snapshot.decide(message, context)
        let rule = snapshot.ruleID(for: decision)
        let channels = snapshot.channels(for: decision)
        var decline: ResultCode?
        if case .decline(let code) = snapshot.action(for: decision) { decline = code }
        let passed = (expectedRule.map { $0 == rule } ?? true) && (expectedChannels.map { $0 == channels } ?? true)
            && (expectedDecline.map { $0 == decline } ?? true)
        return Outcome(rule: rule, channels: channels, decline: decline, passed: passed)
    }

    static let messageKeys: Set<String> = [
        "kind", "function", "pan", "processing", "amount", "currency", "mcc", "merchant", "terminal", "acquirer", "country",
        "pos-entry-mode", "debtor-agent", "creditor-agent", "service-level", "local-instrument", "category-purpose", "stan", "original-stan", "original-acquirer", "uetr",
        "end-to-end-id", "transaction-id",
    ]

    /// Reads a cases file: `cases:` a list of `{name, time, message, expect: {rule, channels, decline}}`.
    /// Errors name file:line:column and never show a PAN.
    public static func load(yaml: String, file: String) throws(RoutingDiagnostic) -> [RoutingCase] {
        let root = try reading(.syntax) { try SpecNode.parse(yaml: yaml, file: file) }
        let top = try reading(.syntax) { try root.mapping("a cases file", allowed: ["cases"]) }
        var cases: [RoutingCase] = []
        for node in try reading(.syntax, { try top.required("cases", in: "a cases file").sequence("cases") }) {
            cases.append(try read(node))
        }
        return cases
    }

    private static func read(_ node: SpecNode) throws(RoutingDiagnostic) -> RoutingCase {
        let map = try reading(.syntax) { try node.mapping("a case", allowed: ["name", "time", "message", "expect"]) }
        let name = try reading(.syntax) { try map.required("name", in: "a case").string("name") }
        var context = RoutingContext()
        if let time = map["time"] {
            let text = try reading(.wrongType) { try time.string("time") }
            let parts = text.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw time.diagnostic(.wrongType, "time '\(text)' must be HH:MM")
            }
            context = RoutingContext(hour: parts[0], minute: parts[1])
        }
        let message = try self.message(try reading(.syntax) { try map.required("message", in: "a case") })
        let expectNode = try reading(.syntax) { try map.required("expect", in: "a case") }
        let expect = try reading(.syntax) { try expectNode.mapping("expect", allowed: ["rule", "channels", "decline"]) }
        let rule = try reading(.wrongType) { try expect["rule"]?.string("rule") }
        let channels = try reading(.wrongType) { try expect["channels"].map { node in
            try ((try? node.sequence("channels")) ?? [node]).map { try $0.string("a channel") }
        } }
        var decline: ResultCode?
        if let declineNode = expect["decline"] {
            let text = try reading(.wrongType) { try declineNode.string("decline") }
            guard text.count == 4, let value = Int(text), let code = ResultCode(value) else {
                throw declineNode.diagnostic(.wrongType, "decline '\(text)' must be a four-digit canonical code")
            }
            decline = code
        }
        return RoutingCase(name: name, position: node.position, message: message, context: context,
                           expectedRule: rule, expectedChannels: channels, expectedDecline: decline)
    }

    private static func message(_ node: SpecNode) throws(RoutingDiagnostic) -> PaymentMessage {
        let map = try reading(.unknownField) { try node.mapping("a message", allowed: messageKeys) }
        func text(_ key: String) throws(RoutingDiagnostic) -> String? { try reading(.wrongType) { try map[key]?.string(key) } }
        let kind = try reading(.wrongType) { try map.required("kind", in: "a message").choice("kind", PaymentMessage.Kind.self) }
        let function = try reading(.wrongType) { try map["function"]?.choice("function", PaymentMessage.Function.self) } ?? .request
        var message = PaymentMessage(kind: kind, function: function)
        if let pan = try text("pan") {
            guard let value = PAN(pan) else { throw map["pan"]!.diagnostic(.wrongType, "pan \(PAN.masked(pan)) must be 12 to 19 digits") }
            message.pan = value
        }
        if let processing = try text("processing") {
            guard let value = ProcessingCode(processing) else { throw map["processing"]!.diagnostic(.wrongType, "processing must be six digits") }
            message.processing = value
        }
        if let amount = try text("amount") {
            guard let code = try text("currency"), let currency = Currency(code) else {
                throw map["amount"]!.diagnostic(.unknownCode, "amount needs a known currency")
            }
            do {
                message.amount = try Amount(parsing: amount, currency: currency)
            } catch {
                throw map["amount"]!.diagnostic(.wrongType, "'\(amount)' is not an amount in \(currency.code): \(error)")
            }
        } else if let code = try text("currency") {
            guard let currency = Currency(code) else { throw map["currency"]!.diagnostic(.unknownCode, "unknown currency '\(code)'") }
            message.amount = Amount(minorUnits: 0, currency: currency)
        }
        let merchant = Merchant(id: try text("merchant"), categoryCode: try text("mcc"), country: try text("country"))
        if merchant != Merchant() { message.merchant = merchant }
        message.terminal = try text("terminal")
        message.acquirer = try text("acquirer")
        message.posEntryMode = try text("pos-entry-mode")
        message.debtorAgent = try text("debtor-agent")
        message.creditorAgent = try text("creditor-agent")
        message.serviceLevel = try text("service-level")
        message.localInstrument = try text("local-instrument")
        message.categoryPurpose = try text("category-purpose")
        message.stan = try text("stan")
        if let stan = try text("original-stan") {
            message.original = OriginalData(stan: stan, acquirer: try text("original-acquirer"))
        }
        message.identifiers.uetr = try text("uetr")
        message.identifiers.endToEndId = try text("end-to-end-id")
        message.identifiers.transactionId = try text("transaction-id")
        return message
    }
}
