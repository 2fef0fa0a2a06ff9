// A generated rule set the size the issue asks for. Everything here runs at registration, never
// inside a measured closure.
import PaymentModel
import Routing

/// SplitMix64, so the rule set is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct RuleFixture {
    let ruleSet: RuleSet
    let snapshot: RoutingSnapshot
    let typicalMessage: PaymentMessage
    let unmatchedMessage: PaymentMessage
    let transferMessage: PaymentMessage

    /// `binRanges` disjoint 8-digit BIN ranges in 500 issuer groups, as a CSV table would give them,
    /// and `rules` rules: most test an issuer group (through its ranges) plus kind, currency,
    /// amount, MCC or POS entry mode, the way real card routing reads; some route transfers by BIC.
    init(rules count: Int, binRanges: Int, seed: UInt64) {
        var random = SeededGenerator(state: seed)
        let groups = 500
        var issuers = [[ClosedRange<Int64>]](repeating: [], count: groups)
        // Ranges of 1 to 100 keys, 1,000 keys apart on average, over 30000000...99999999.
        var low: Int64 = 30_000_000
        for _ in 0..<binRanges {
            low += Int64.random(in: 100...1_300, using: &random)
            let high = low + Int64.random(in: 0...99, using: &random)
            issuers[Int.random(in: 0..<groups, using: &random)].append(low...high)
            low = high + 1
        }
        let channels = (0..<20).map { "host-\($0)" }
        let currencies = ["EUR", "USD", "GBP", "JPY", "CHF"]
        let mccs: [Int64] = [5411, 5812, 5999, 4111, 7011, 5541, 5732, 7995]
        var rules: [Rule] = []
        for index in 0..<count {
            var tests: [Condition] = []
            if index % 10 == 9 {
                tests.append(.test(.kind([.creditTransfer])))
                tests.append(.test(.creditorAgent(prefixes: ["BK\(index % 97)"])))
            } else {
                tests.append(.test(.kind([.authorization, .financial])))
                tests.append(.test(.bin(IntervalSet(issuers[index % groups]))))
                switch index % 4 {
                case 0: tests.append(.test(.currency([currencies[index % currencies.count]])))
                case 1: tests.append(.test(.amount(currency: "EUR", minorUnits: IntervalSet(0...Int64(index) * 1_000))))
                case 2:
                    let mcc = mccs[index % mccs.count]
                    tests.append(.test(.mcc(IntervalSet(mcc...(mcc + 2)))))
                default: tests.append(.any([.test(.posEntryMode(prefixes: ["05", "07"])), .test(.merchant(["M\(index)"]))]))
                }
            }
            let action: RouteAction = index % 3 == 0
                ? .split([SplitArm(channel: index % 20, weight: 70), SplitArm(channel: (index + 1) % 20, weight: 30)])
                : .route([index % 20, (index + 7) % 20])
            rules.append(Rule(id: "rule-\(index)", condition: .all(tests), action: action))
        }
        ruleSet = RuleSet(channels: channels, rules: rules, defaultAction: .route([0]))
        snapshot = RoutingSnapshot(ruleSet)

        // Typical: a purchase whose PAN falls in an issuer group that rule 666 tests (index % 4 == 2:
        // MCC), matched after the rules for the same group earlier in the list fail on other tests.
        let target = 666
        let range = issuers[target % groups][0]
        var typical = PaymentMessage(kind: .financial, function: .request)
        typical.pan = PAN(String(range.lowerBound) + "01010119")
        typical.processing = ProcessingCode("000000")
        typical.amount = Amount(minorUnits: 10_000, currency: Currency("USD")!)
        typical.merchant = Merchant(id: "MERCHANT0000001", categoryCode: String(mccs[target % mccs.count]), country: "840")
        typical.terminal = "TERM0001"
        typical.acquirer = "123456"
        typical.posEntryMode = "901"
        typical.stan = "123456"
        typicalMessage = typical

        var unmatched = typical
        unmatched.pan = PAN("2999999901010119")
        unmatchedMessage = unmatched

        var transfer = PaymentMessage(kind: .creditTransfer, function: .request)
        transfer.amount = Amount(minorUnits: 250_000, currency: Currency("EUR")!)
        transfer.debtorAgent = "DEUTDEFF"
        transfer.creditorAgent = "BK\(819 % 97)XXXX"
        transfer.identifiers.uetr = "e5a1c3f2-8b4d-4c6e-9f0a-123456789abc"
        transferMessage = transfer

        let decided = snapshot.decide(typical, RoutingContext())
        precondition(decided.rule == ruleSet.firstMatch(typical, RoutingContext()), "the compiled index disagrees")
        precondition(decided.rule == target, "the typical message should match rule \(target), got \(String(describing: decided.rule))")
        precondition(snapshot.decide(unmatched, RoutingContext()).rule == nil)
        precondition(snapshot.decide(transfer, RoutingContext()).rule == ruleSet.firstMatch(transfer, RoutingContext()))
    }
}
