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

    @Test(arguments: [
        ("responses:\n  - when: {amountOvr: \"1\"}\n    result: Approved\n", 2, 12, "amountOvr"),
        ("default: Bogus\n", 1, 10, "unknown result 'Bogus'"),
        ("faults: {drop: 1.5}\n", 1, 16, "probability"),
        ("faults: {drop: 0.6, close: 0.6}\n", 1, 9, "add up to more than 1"),
        ("latency: {distribution: gamma, ms: 1}\n", 1, 25, "unknown distribution"),
        ("responses:\n  - when: {panPrefix: \"41x\"}\n    result: Approved\n", 2, 23, "digits"),
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
