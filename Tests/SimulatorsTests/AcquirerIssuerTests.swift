import Foundation
import PaymentModel
import Simulators
import SpecFiles
import Testing
import Transport

/// The acquirer simulator's ISO 20022 traffic against the issuer simulator, and the behaviour file.
@Suite(.serialized)
struct AcquirerIssuerTests {
    static let format = FrameFormat.preset(named: "bin4")!

    static let creditTransfer = ISO20022Exchange.sample("pacs.008")!
    static let statusRequest = ISO20022Exchange.sample("pacs.028")!
    static let cancellation = ISO20022Exchange.sample("camt.056")!

    func run(_ behaviour: IssuerBehaviour, templates: [ISO20022Exchange.Template], count: Int) throws -> (LoadReport, IssuerSimulator) {
        let simulator = try IssuerSimulator(.init(format: Self.format, wire: .iso20022, behaviour: behaviour, loops: 1))
        let port = try simulator.start()
        let generator = LoadGenerator(.init(port: port, format: Self.format, connections: 2, mode: .closedLoop(window: 2),
                                            limit: .count(count), timeoutMilliseconds: 3_000, loops: 1),
                                      exchange: try ISO20022Exchange(templates: templates))
        let report = generator.run()
        simulator.stop()
        return (report, simulator)
    }

    @Test func creditTransfersStatusRequestsAndCancellationsAreAnsweredAndMatched() throws {
        let (report, issuer) = try run(IssuerBehaviour(), templates: [
            .init(message: Self.creditTransfer, weight: 2), .init(message: Self.statusRequest), .init(message: Self.cancellation),
        ], count: 60)
        #expect(report.isClean, "\(report.text)")
        #expect(report.counts.matched == 60)
        #expect(Set(report.codes.keys) == [ResponseCode("ACSC"), ResponseCode("CNCL")])
        #expect(Set(issuer.received.map(\.message)) == ["pacs.008.001.08", "pacs.028.001.03", "camt.056.001.08"])
    }

    @Test func rulesRejectWithAnISO20022Reason() throws {
        let behaviour = try IssuerBehaviour.load(yaml: "responses:\n  - when: {amountOver: \"1000\"}\n    result: Insufficient funds\n",
                                                 file: "rules.yaml")
        let (report, _) = try run(behaviour, templates: [.init(message: Self.creditTransfer)], count: 10)
        #expect(report.isClean, "\(report.text)")
        #expect(report.codes == [ResponseCode("RJCT/AM04"): 10])
    }

    /// JPY 100000000000000000 against `amountOver: "1000.00"` once overflowed Int64 in the
    /// comparison and killed the issuer simulator (rc 132). Amounts of any size now compare.
    @Test(arguments: [
        ("JPY", Int64(100_000_000_000_000_000), ResultCode.insufficientFunds), ("JPY", Int64.max, .insufficientFunds),
        ("EUR", Int64.max, .insufficientFunds), ("KWD", Int64.max, .insufficientFunds),
        ("JPY", 1000, .approved), ("JPY", 1001, .insufficientFunds), ("EUR", 100_000, .approved), ("EUR", 100_001, .insufficientFunds),
    ])
    func amountRulesCompareAmountsOfAnySize(currency: String, minor: Int64, expected: ResultCode) throws {
        let behaviour = try IssuerBehaviour.load(yaml: "responses:\n  - when: {amountOver: \"1000.00\"}\n    result: Insufficient funds\n",
                                                 file: "issuer.yaml")
        var request = PaymentMessage(kind: .creditTransfer, function: .request)
        request.amount = Amount(minorUnits: minor, currency: Currency(currency)!)
        #expect(behaviour.result(for: request, messageName: "pacs.008.001.08") == expected)
    }

    /// `answer: false` leaves a request unanswered every time (a timeout on demand), and sends no result.
    @Test func aRuleCanLeaveARequestUnanswered() throws {
        let behaviour = try IssuerBehaviour.load(yaml: """
            responses:
              - when: {amountEquals: "444.44"}
                answer: false
            default: Approved
            """, file: "issuer.yaml")
        var request = PaymentMessage(kind: .creditTransfer, function: .request)
        request.amount = Amount(minorUnits: 44_444, currency: Currency("EUR")!)
        #expect(behaviour.result(for: request, messageName: "pacs.008.001.08") == nil)
        request.amount = Amount(minorUnits: 44_445, currency: Currency("EUR")!)
        #expect(behaviour.result(for: request, messageName: "pacs.008.001.08") == .approved)
        let (report, issuer) = try run(behaviour, templates: [.init(message: Self.creditTransfer)], count: 5)
        #expect(report.counts.matched == 5, "the sample transfer is not 444.44: answered")
        #expect(issuer.counters.received == 5)
        do {
            _ = try IssuerBehaviour.load(yaml: "responses:\n  - when: {amountEquals: \"1\"}\n    answer: false\n    result: Approved\n", file: "issuer.yaml")
            Issue.record("a silent rule with a result was read")
        } catch {
            #expect(error.description == "issuer.yaml:4:13: error: a rule with answer: false sends no result")
        }
    }

    @Test func amountRuleBeyondInt64IsAFileError() {
        #expect(throws: SpecError.self) {
            _ = try IssuerBehaviour.load(yaml: "responses:\n  - when: {amountOver: \"99999999999999999999\"}\n    result: Approved\n",
                                         file: "issuer.yaml")
        }
    }

    @Test(arguments: [
        ("responses:\n  - when: {amountOvr: \"1\"}\n    result: Approved\n", 2, 12, "amountOvr"),
        ("default: Bogus\n", 1, 10, "unknown result 'Bogus'"),
        ("faults: {drop: 1.5}\n", 1, 16, "probability"),
        ("faults: {drop: 0.6, close: 0.6}\n", 1, 9, "add up to more than 1"),
        ("latency: {distribution: gamma, ms: 1}\n", 1, 25, "unknown distribution"),
        ("responses:\n  - when: {panPrefix: \"41x\"}\n    result: Approved\n", 2, 23, "digits"),
        // Found by the behaviour fuzz target: a negative seed trapped on conversion.
        ("seed:   -92\n", 1, 9, "0 or more"),
    ])
    func behaviourFileErrorsNameTheirPlace(yaml: String, line: Int, column: Int, message: String) {
        #expect {
            _ = try IssuerBehaviour.load(yaml: yaml, file: "issuer.yaml")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.file == "issuer.yaml" && error.line == line && error.column == column && error.message.contains(message)
        }
    }
}
