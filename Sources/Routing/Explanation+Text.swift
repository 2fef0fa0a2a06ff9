public import PaymentModel

extension RoutingSnapshot {
    /// A readable account of one decision: each rule tried with the tests on the way, the rule that
    /// matched, the candidates, and why channels were left out. PANs appear only masked.
    ///
    /// Walks the rules with the reference evaluator and states whether the compiled index agreed,
    /// so an explanation can never describe a different decision than the switch makes.
    public func explainText(_ message: PaymentMessage, _ context: RoutingContext, route: RouteResult? = nil) -> String {
        let explanation = ruleSet.explain(message, context)
        let decision = decide(message, context)
        var lines: [String] = ["rules version \(version)", "message: \(Self.summary(message)), time \(TimeText.format(Int64(context.minuteOfDay)))"]
        for step in explanation.steps {
            lines.append("rule \(step.id) (\(step.position)): \(step.matched ? "MATCH" : "no match")")
            for test in step.tests {
                lines.append("  \(test.position) \(test.field.rawValue) \(test.expected): \(test.actual) -> \(test.passed ? "yes" : "no")")
            }
        }
        let skipped = ruleSet.rules.count - explanation.steps.count
        if skipped > 0 { lines.append("(\(skipped) later rule\(skipped == 1 ? "" : "s") not tested: first match wins)") }
        lines.append("decision: \(ruleID(for: decision))" + (decision.rule == explanation.matchedRule ? "" : " (COMPILED INDEX DISAGREES: a bug)"))
        switch action(for: decision) {
        case .route(let channels):
            lines.append("action: route to \(channels.map { ruleSet.channels[$0] }.joined(separator: ", ")) in failover order")
        case .split(let arms):
            let total = arms.reduce(0) { $0 + $1.weight }
            let chosen = arms[decision.splitArm ?? 0]
            lines.append("action: split; the transaction key chose \(ruleSet.channels[chosen.channel]) (weight \(chosen.weight) of \(total)), the other arms follow as fallbacks")
        case .decline(let code):
            let name = ResultCodeTable.shipped.row(code)?.name ?? ""
            lines.append("action: decline with \(code) \(name)")
        }
        let candidates = route?.candidates ?? channels(for: decision)
        lines.append("candidates: " + (candidates.isEmpty ? "none" : candidates.joined(separator: ", ")))
        for dropped in route?.dropped ?? [] {
            lines.append("dropped \(dropped.channel): \(dropped.reason)")
        }
        return lines.joined(separator: "\n")
    }

    /// The message in one line, card data masked.
    static func summary(_ message: PaymentMessage) -> String {
        var parts = ["\(message.kind.rawValue) \(message.function.rawValue)"]
        if let pan = message.pan { parts.append("PAN \(pan)") }
        if let amount = message.amount { parts.append(amount.description) }
        if let mcc = message.merchantCategoryCode { parts.append("MCC \(mcc)") }
        if let merchant = message.merchantID { parts.append("merchant \(merchant)") }
        if let debtor = message.debtorAgent { parts.append("debtor agent \(debtor)") }
        if let creditor = message.creditorAgent { parts.append("creditor agent \(creditor)") }
        return parts.joined(separator: ", ")
    }
}
