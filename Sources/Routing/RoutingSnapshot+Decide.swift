public import PaymentModel

/// The static decision for one message: which rule matched and, for a split, which arm won.
///
/// A small value: deciding allocates nothing. ``RoutingSnapshot/channels(for:)`` turns it into
/// the ordered channel list.
public struct Decision: Sendable, Hashable {
    /// The matched rule's index, or nil when the default action applied.
    public let rule: Int?
    /// For a split, the index of the arm the transaction key selected.
    public let splitArm: Int?
}

extension RoutingSnapshot {
    /// The first matching rule, through the compiled index: the switch's hot path.
    public func decide(_ message: PaymentMessage, _ context: RoutingContext) -> Decision {
        let rule = program.firstMatch(message, context)
        let action = rule.map { program.actions[$0] } ?? program.defaultAction
        if case .split(let arms) = action {
            return Decision(rule: rule, splitArm: TransactionKey.arm(arms, hash: TransactionKey.hash(message)))
        }
        return Decision(rule: rule, splitArm: nil)
    }

    /// The action a decision applies.
    public func action(for decision: Decision) -> RouteAction {
        decision.rule.map { ruleSet.rules[$0].action } ?? ruleSet.defaultAction
    }

    /// The id of the rule that decided, or `default`.
    public func ruleID(for decision: Decision) -> String {
        decision.rule.map { ruleSet.rules[$0].id } ?? "default"
    }

    /// The channels to try, in order: a split's chosen arm first, the others after it as fallbacks;
    /// empty for a decline.
    public func channels(for decision: Decision) -> [String] {
        switch action(for: decision) {
        case .route(let channels):
            return channels.map { ruleSet.channels[$0] }
        case .split(let arms):
            let chosen = decision.splitArm ?? 0
            return [ruleSet.channels[arms[chosen].channel]]
                + arms.indices.filter { $0 != chosen }.map { ruleSet.channels[arms[$0].channel] }
        case .decline:
            return []
        }
    }
}

extension CompiledProgram {
    /// The first rule whose full condition holds, among those the indexes leave.
    @inline(__always)
    func firstMatch(_ message: PaymentMessage, _ context: RoutingContext) -> Int? {
        let kind = Int(kindIDs[message.kind.ordinal]) &* words
        let bin = Int(self.bin.id(FieldValue.bin(message))) &* words
        let mcc = Int(self.mcc.id(FieldValue.mcc(message))) &* words
        let currency = Int(currencyID(message)) &* words
        let debtor = Int(debtorAgent.id(message.debtorAgent.map(BICKey.of))) &* words
        let creditor = Int(creditorAgent.id(message.creditorAgent.map(BICKey.of))) &* words
        return pool.withUnsafeBufferPointer { pool in
            for word in 0..<words {
                var bits = pool[kind &+ word] & pool[bin &+ word] & pool[mcc &+ word] & pool[currency &+ word]
                    & pool[debtor &+ word] & pool[creditor &+ word]
                while bits != 0 {
                    let rule = word << 6 | bits.trailingZeroBitCount
                    if evaluate(roots[rule], message, context) { return rule }
                    bits &= bits &- 1
                }
            }
            return nil
        }
    }

    @inline(__always)
    private func currencyID(_ message: PaymentMessage) -> Int32 {
        guard let amount = message.amount else { return otherCurrencyID }
        let code = Self.pack(amount.currency.code)
        var low = 0, high = currencies.count
        while low < high {
            let middle = (low + high) >> 1
            if currencies[middle] < code { low = middle + 1 } else { high = middle }
        }
        return low < currencies.count && currencies[low] == code ? currencyIDs[low] : otherCurrencyID
    }

    private func evaluate(_ index: Int32, _ message: PaymentMessage, _ context: RoutingContext) -> Bool {
        switch nodes[Int(index)] {
        case .all(let first, let count):
            for child in first..<(first + count) where !evaluate(children[Int(child)], message, context) { return false }
            return true
        case .any(let first, let count):
            for child in first..<(first + count) where evaluate(children[Int(child)], message, context) { return true }
            return false
        case .not(let inner):
            return !evaluate(inner, message, context)
        case .test(let leaf):
            return test(leaves[Int(leaf)], message, context)
        }
    }

    private func test(_ leaf: Leaf, _ message: PaymentMessage, _ context: RoutingContext) -> Bool {
        switch leaf {
        case .kinds(let mask): return mask & message.kind.bit != 0
        case .functions(let mask): return mask & message.function.bit != 0
        case .processing(let prefixes):
            guard let code = FieldValue.processing(message) else { return false }
            for prefix in prefixes where code / prefix.scale == prefix.value { return true }
            return false
        case .bin(let set): return FieldValue.bin(message).map(set.contains) ?? false
        case .amount(let currency, let set):
            guard let amount = message.amount, Self.pack(amount.currency.code) == currency else { return false }
            return set.contains(amount.minorUnits)
        case .currency(let codes):
            guard let amount = message.amount else { return false }
            return codes.contains(Self.pack(amount.currency.code))
        case .mcc(let set): return FieldValue.mcc(message).map(set.contains) ?? false
        case .merchant(let set): return message.merchantID.map(set.contains) ?? false
        case .terminal(let set): return message.terminal.map(set.contains) ?? false
        case .acquirer(let set): return message.acquirer.map(set.contains) ?? false
        case .country(let set): return message.merchantCountry.map(set.contains) ?? false
        case .posEntryMode(let prefixes): return Self.anyPrefix(prefixes, of: message.posEntryMode)
        case .debtorAgent(let prefixes): return Self.anyPrefix(prefixes, of: message.debtorAgent)
        case .creditorAgent(let prefixes): return Self.anyPrefix(prefixes, of: message.creditorAgent)
        case .serviceLevel(let set): return message.serviceLevel.map(set.contains) ?? false
        case .localInstrument(let set): return message.localInstrument.map(set.contains) ?? false
        case .categoryPurpose(let set): return message.categoryPurpose.map(set.contains) ?? false
        case .time(let set): return set.contains(Int64(context.minuteOfDay))
        }
    }

    @inline(__always)
    private static func anyPrefix(_ prefixes: [String], of text: String?) -> Bool {
        for prefix in prefixes where FieldValue.hasPrefix(text, prefix) { return true }
        return false
    }
}

extension PaymentMessage.Kind {
    /// The kind's position in `allCases`, without searching.
    var ordinal: Int {
        switch self {
        case .authorization: 0
        case .financial: 1
        case .reversal: 2
        case .advice: 3
        case .networkManagement: 4
        case .creditTransfer: 5
        case .statusReport: 6
        case .paymentReturn: 7
        case .statusRequest: 8
        case .cancellationRequest: 9
        case .resolutionOfInvestigation: 10
        }
    }
}
