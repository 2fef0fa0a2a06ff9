import PaymentModel
import Testing
@testable import Routing

/// The compiled snapshot against the reference evaluator (rules read top to bottom, first match wins).
struct RoutingSnapshotTests {
    /// 200 random rule sets × 60 random messages × 2 times of day: 24,000 decisions compared.
    @Test(arguments: 0..<10)
    func compiledDecisionEqualsTopToBottomReading(batch: UInt64) {
        var random = RandomRules(seed: 0x5EED_0000 + batch)
        var compared = 0, defaults = 0, deepMatches = 0
        for _ in 0..<20 {
            let ruleSet = random.ruleSet(rules: random.chance(50) ? random.int(1...6) : random.int(20...150))
            let snapshot = RoutingSnapshot(ruleSet)
            for _ in 0..<60 {
                let message = random.message()
                for context in [RoutingContext(minuteOfDay: random.int(0...1439)), RoutingContext(hour: 23, minute: 59)] {
                    let expected = ruleSet.firstMatch(message, context)
                    let decision = snapshot.decide(message, context)
                    #expect(decision.rule == expected, "seed batch \(batch): rule \(String(describing: decision.rule)) vs \(String(describing: expected))")
                    #expect(ruleSet.explain(message, context).matchedRule == expected)
                    compared += 1
                    if let expected { deepMatches += expected >= 5 ? 1 : 0 } else { defaults += 1 }
                }
            }
        }
        #expect(compared == 2_400)
        // The generator must reach the default and rules deep in the list, or the comparison proves little.
        #expect(defaults > 150, "defaults: \(defaults)")
        #expect(deepMatches > 60, "deep matches: \(deepMatches)")
    }

    @Test func indexNarrowsByBINCurrencyKindAndMCC() {
        let ruleSet = RuleSet(channels: ["visa", "mc", "sepa"], rules: [
            Rule(id: "mc", condition: .test(.bin(IntervalSet(51_000_000...55_999_999))), action: .route([1])),
            Rule(id: "sepa", condition: .all([.test(.kind([.creditTransfer])), .test(.currency(["EUR"]))]), action: .route([2])),
            Rule(id: "grocery", condition: .test(.mcc(IntervalSet(5411...5411))), action: .route([0])),
        ], defaultAction: .decline(.doNotHonour))
        let snapshot = RoutingSnapshot(ruleSet)
        var card = PaymentMessage(kind: .financial, function: .request)
        card.pan = PAN("5105105105105100")
        #expect(snapshot.ruleID(for: snapshot.decide(card, RoutingContext())) == "mc")
        card.pan = PAN("4761739001010119")
        card.merchant = Merchant(categoryCode: "5411")
        #expect(snapshot.channels(for: snapshot.decide(card, RoutingContext())) == ["visa"])
        var transfer = PaymentMessage(kind: .creditTransfer, function: .request)
        transfer.amount = Amount(minorUnits: 100, currency: Currency("EUR")!)
        #expect(snapshot.ruleID(for: snapshot.decide(transfer, RoutingContext())) == "sepa")
        transfer.amount = Amount(minorUnits: 100, currency: Currency("USD")!)
        let fallback = snapshot.decide(transfer, RoutingContext())
        #expect(fallback.rule == nil)
        #expect(snapshot.action(for: fallback) == .decline(.doNotHonour))
        #expect(snapshot.channels(for: fallback).isEmpty)
    }

    /// The payment type of an ISO 20022 credit transfer, in a rule file: service level, local
    /// instrument and category purpose.
    @Test func paymentTypeCodesRoute() throws {
        let check = RuleSet.load(yaml: """
            channels: [instant, urgent, payroll, other]
            rules:
              - id: sepa-instant
                when: {kind: creditTransfer, service-level: SEPA, local-instrument: INST}
                then: {route: instant}
              - id: urgent
                when: {service-level: [URGP, G001]}
                then: {route: urgent}
              - id: salaries
                when: {category-purpose: SALA}
                then: {route: payroll}
            default: {route: other}
            """, file: "payment-type.yaml")
        #expect(check.diagnostics.isEmpty, "\(check.diagnostics)")
        let ruleSet = try #require(check.ruleSet)
        let snapshot = RoutingSnapshot(ruleSet)
        for (service, instrument, purpose, channel) in [("SEPA", "INST", nil, "instant"), ("SEPA", nil, "SALA", "payroll"), ("G001", "INST", nil, "urgent"),
                                                        (nil, "INST", "SUPP", "other"), ("sepa", "INST", nil, "other")] {
            var transfer = PaymentMessage(kind: .creditTransfer, function: .request)
            transfer.serviceLevel = service
            transfer.localInstrument = instrument
            transfer.categoryPurpose = purpose
            #expect(snapshot.channels(for: snapshot.decide(transfer, RoutingContext())) == [channel], "\(service ?? "-") \(instrument ?? "-") \(purpose ?? "-")")
            #expect(ruleSet.explain(transfer, RoutingContext()).matchedRule.map { ruleSet.rules[$0].id } == (channel == "other" ? nil : snapshot.ruleID(for: snapshot.decide(transfer, RoutingContext()))))
        }
        let bad = RuleSet.load(yaml: "channels: [a]\nrules:\n  - id: r\n    when: {service-level: \"SEPA INST\"}\n    then: {route: a}\ndefault: {route: a}\n", file: "bad.yaml")
        #expect(bad.diagnostics.first?.position.line == 4)
        #expect(bad.ruleSet == nil)
    }

    @Test func timeWindowsAcrossMidnight() {
        let check = RuleSet.load(yaml: """
            channels: [night, day]
            rules:
              - id: night
                when: {time: {from: "22:00", to: "06:00"}}
                then: {route: night}
            default: {route: day}
            """, file: "time.yaml")
        let snapshot = RoutingSnapshot(check.ruleSet!)
        let message = PaymentMessage(kind: .authorization, function: .request)
        for (hour, minute, channel) in [(21, 59, "day"), (22, 0, "night"), (23, 59, "night"), (0, 0, "night"), (5, 59, "night"), (6, 0, "day")] {
            #expect(snapshot.channels(for: snapshot.decide(message, RoutingContext(hour: hour, minute: minute))) == [channel])
        }
    }
}
