import PaymentModel
@testable import Routing
import TestSupport

/// Random rule sets and messages over small value domains, so that rules and messages meet often.
struct RandomRules {
    var generator: SeededRandom

    static let pans = ["4761739001010119", "4761731234567890", "5105105105105100", "5555444433331111", "4000056655665556", "3530111333300000"]
    static let binTexts = ["4", "47", "476173", "47617390", "51", "51-55", "400000-479999", "35", "555544", "40000566-40000599"]
    static let currencies = ["EUR", "USD", "JPY"]
    static let mccs = ["5411", "5812", "7995", "6011", "4111"]
    static let merchants = ["M1", "M2", "M3"]
    static let terminals = ["T1", "T2"]
    static let acquirers = ["123456", "654321"]
    static let countries = ["840", "276", "250"]
    static let posModes = ["051", "071", "012", "901"]
    static let bics = ["DEUTDEFF", "BNPAFRPP", "COBADEFF", "CHASUS33", "deutdeff", "DEUT-XXX", "CO"]

    init(seed: UInt64) { generator = SeededRandom(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    mutating func some<T: Hashable>(_ items: [T]) -> Set<T> { Set((0...int(0...1)).map { _ in pick(items) }) }

    mutating func ruleSet(rules count: Int) -> RuleSet {
        let channels = ["a", "b", "c", "d"]
        var rules: [Rule] = []
        for index in 0..<count {
            rules.append(Rule(id: "r\(index)", condition: condition(depth: 0), action: action()))
        }
        return RuleSet(channels: channels, rules: rules, defaultAction: .route([0]))
    }

    mutating func action() -> RouteAction {
        switch int(0...2) {
        case 0: return .route([int(0...3)])
        case 1: return .split([SplitArm(channel: 0, weight: int(1...5)), SplitArm(channel: 1, weight: int(1...5))])
        default: return .decline(.doNotHonour)
        }
    }

    mutating func condition(depth: Int) -> Condition {
        if depth < 3 && chance(35) {
            let parts = (0..<int(1...3)).map { _ in condition(depth: depth + 1) }
            switch int(0...2) {
            case 0: return .all(parts)
            case 1: return .any(parts)
            default: return .not(condition(depth: depth + 1))
            }
        }
        if depth == 0 && chance(50) {
            // The common shape: a conjunction of tests at the top, which the index narrows.
            return .all((0..<int(1...3)).map { _ in .test(test()) })
        }
        return .test(test())
    }

    mutating func test() -> FieldTest {
        switch int(0...17) {
        case 0: return .kind(some(PaymentMessage.Kind.allCases))
        case 1: return .function(some(PaymentMessage.Function.allCases))
        case 2: return .processing(prefixes: Array(some(["00", "01", "000000", "003000", "20"])))
        case 3:
            let ranges = some(Self.binTexts).map { text -> ClosedRange<Int64> in
                let parts = text.split(separator: "-")
                return BINKey.lowerBound(of: parts[0])!...BINKey.upperBound(of: parts[parts.count - 1])!
            }
            return .bin(IntervalSet(ranges))
        case 4:
            let low = Int64(int(0...20_000)), high = low + Int64(int(0...50_000))
            return .amount(currency: pick(Self.currencies), minorUnits: IntervalSet(low...high))
        case 5: return .currency(some(Self.currencies))
        case 6:
            let low = Int64(pick(Self.mccs))!
            return .mcc(IntervalSet(low...(low + Int64(int(0...2)))))
        case 7: return .merchant(some(Self.merchants))
        case 8: return .terminal(some(Self.terminals))
        case 9: return .acquirer(some(Self.acquirers))
        case 10: return .country(some(Self.countries))
        case 11: return .posEntryMode(prefixes: Array(some(["05", "07", "0", "9"])))
        case 12: return .debtorAgent(prefixes: Array(some(["DEUT", "BNPAFR", "CO", "CHASUS33", "de", "DEUT-", ""])))
        case 13: return .creditorAgent(prefixes: Array(some(["DEUT", "BNPA", "CHAS"])))
        case 14: return .serviceLevel(some(["SEPA", "URGP", "G001"]))
        case 15: return .localInstrument(some(["INST", "CORE"]))
        case 16: return .categoryPurpose(some(["SALA", "SUPP", "TAXS"]))
        default:
            let from = Int64(int(0...1439)), length = Int64(int(1...900))
            let to = (from + length) % 1440
            return .timeOfDay(from < to ? IntervalSet(from...(to - 1)) : IntervalSet([from...1439, 0...max(0, to - 1)]))
        }
    }

    mutating func message() -> PaymentMessage {
        var message = PaymentMessage(kind: pick(PaymentMessage.Kind.allCases), function: pick(PaymentMessage.Function.allCases))
        if chance(85) { message.pan = PAN(pick(Self.pans)) }
        if chance(80) { message.processing = ProcessingCode(pick(["000000", "003000", "010000", "200000"])) }
        if chance(85) { message.amount = Amount(minorUnits: Int64(int(0...80_000)), currency: Currency(pick(Self.currencies))!) }
        if chance(80) {
            var merchant = Merchant(id: chance(80) ? pick(Self.merchants) : nil, categoryCode: chance(85) ? pick(Self.mccs + ["5413"]) : nil)
            merchant.country = chance(80) ? pick(Self.countries) : nil
            message.merchant = merchant
        }
        if chance(80) { message.terminal = pick(Self.terminals) }
        if chance(80) { message.acquirer = pick(Self.acquirers) }
        if chance(80) { message.posEntryMode = pick(Self.posModes) }
        if chance(50) { message.debtorAgent = pick(Self.bics) }
        if chance(50) { message.creditorAgent = pick(Self.bics) }
        if chance(80) { message.serviceLevel = pick(["SEPA", "URGP", "G001"]) }
        if chance(80) { message.localInstrument = pick(["INST", "CORE"]) }
        if chance(80) { message.categoryPurpose = pick(["SALA", "SUPP", "TAXS"]) }
        message.stan = String(int(100_000...999_999))
        return message
    }
}
