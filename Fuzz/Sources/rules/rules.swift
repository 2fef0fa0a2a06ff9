// Fuzz target: routing rule files (RuleSet.load), their analysis and the compiled decision index.
//
// Input: UTF-8 text (other bytes are skipped), read as a rule file whose BIN tables all read as the
// example table of specs/routing, as a routing cases file, and as a BIN table. A rule file that
// compiles decides fixed canonical messages at several times of day, and two oracles apply:
// - the compiled index (RoutingSnapshot.decide) and the reference evaluator (RuleSet.firstMatch)
//   pick the same rule, as RoutingSnapshot.explainText promises;
// - a rule the analysis reports as shadowed ("can never match") never decides.
import FuzzMain
import PaymentModel
import Routing

let binTable = """
low,high,label
40000000,40999999,visa
476173,476173,visa
450875,450876,domestic-debit
51000000,55999999,mastercard
"""

let messages: [PaymentMessage] = {
    var card = PaymentMessage(kind: .authorization, function: .request)
    card.pan = PAN(PAN.testCard(range: "476173", account: "900101011"))  // a published test card
    card.processing = ProcessingCode("000000")
    card.amount = Currency("EUR").map { Amount(minorUnits: 150_000, currency: $0) }
    card.merchant = Merchant(id: "MERCHANT0000001", categoryCode: "5411", name: "ACME", city: "Springfield", country: "276")
    card.terminal = "TERM0001"
    card.acquirer = "123456"
    card.posEntryMode = "051"
    card.stan = "123456"
    card.rrn = "432015123456"

    var large = card
    large.kind = .financial
    large.pan = PAN(PAN.testCard(range: "550000", account: "000000000"))
    large.amount = Currency("JPY").map { Amount(minorUnits: 999_999_999_999, currency: $0) }
    large.merchant = Merchant(categoryCode: "7995", country: "840")
    large.posEntryMode = "07"

    var transfer = PaymentMessage(kind: .creditTransfer, function: .request)
    transfer.amount = Currency("EUR").map { Amount(minorUnits: 5_000_000, currency: $0) }
    transfer.debtorAgent = "COBADEFFXXX"
    transfer.creditorAgent = "DEUTDEFF"
    transfer.identifiers.endToEndId = "E2E-1"
    transfer.identifiers.transactionId = "TX-1"

    let echo = PaymentMessage(kind: .networkManagement, function: .request)
    return [card, large, transfer, echo]
}()

let times = [0, 359, 360, 12 * 60, 22 * 60 + 59, 23 * 60, 1439].map { RoutingContext(minuteOfDay: $0) }

/// Rules after specs/routing/example.yaml, for running fuzzed cases files against. Compiled per use,
/// not kept in a global: LeakSanitizer cannot follow pointers to indirect enum payloads (Swift keeps
/// the case in the pointer's spare bits), so a rule set held for the whole run reads as a leak.
func example() -> RoutingSnapshot? {
    RoutingSnapshot.compile(yaml: """
    channels: [visa-acq-a, visa-acq-b, mc-acq, backup-host]
    bin-tables: {issuers: bins.csv}
    rules:
      - {id: gambling, when: {mcc: [7995, 7800-7802], not: {country: "276"}}, then: {decline: "1061"}}
      - {id: visa-large, when: {bin: {table: issuers, label: visa}, amount: {currency: EUR, gte: "1000.00"}}, then: {route: [visa-acq-a, backup-host]}}
      - {id: visa-split, when: {bin: [{table: issuers, label: visa}]}, then: {split: {visa-acq-a: 70, visa-acq-b: 30}}}
      - {id: mastercard, when: {bin: ["22210000-27209999", "51-55"], any: [{time: {from: "06:00", to: "23:00"}}, {pos-entry-mode: ["05", "07"]}]}, then: {route: [mc-acq, backup-host]}}
    default: {route: backup-host}
    """, file: "example.yaml", readFile: { _ in binTable }).snapshot
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = String(validating: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self) else { return 0 }
    var sink = 0

    let check = RuleSet.load(yaml: text, file: "fuzz.yaml", readFile: { _ in binTable })
    for diagnostic in check.diagnostics { sink &+= diagnostic.description.count }
    if let ruleSet = check.ruleSet {
        let snapshot = RoutingSnapshot(ruleSet)
        let shadowed = Set(check.warnings.filter { $0.kind == .shadowed }.map(\.position))
        for message in messages {
            for context in times {
                let decision = snapshot.decide(message, context)
                let reference = ruleSet.firstMatch(message, context)
                if decision.rule != reference {
                    fatalError("the compiled index picks rule \(String(describing: decision.rule)), the reference evaluator \(String(describing: reference)), for a \(message.kind) at minute \(context.minuteOfDay)\n\(text)")
                }
                if let rule = decision.rule, shadowed.contains(ruleSet.rules[rule].position) {
                    fatalError("rule '\(ruleSet.rules[rule].id)' is reported shadowed but decides a \(message.kind) at minute \(context.minuteOfDay)\n\(text)")
                }
                sink &+= snapshot.channels(for: decision).count + snapshot.ruleID(for: decision).count
            }
        }
        sink &+= snapshot.explainText(messages[0], times[2]).count
    }

    if let cases = try? RoutingCase.load(yaml: text, file: "cases.yaml"), !cases.isEmpty, let example = example() {
        for routingCase in cases { sink &+= routingCase.run(example).channels.count }
    }
    if let table = try? BINTable.parse(csv: text, file: "bins.csv") {
        sink &+= table.rowCount + (table.all.contains(47_617_390) ? 1 : 0)
    }
    if sink == 0x5EED_F00D { print("") }
    return 0
}

/// libFuzzer's entry point (see Sources/FuzzMain/FuzzMain.c).
@_cdecl("rules_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    payswitch_fuzz_main(argc, argv)
}
