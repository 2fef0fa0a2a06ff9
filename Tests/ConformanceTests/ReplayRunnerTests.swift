import Conformance
import Foundation
import ISO8583
import PaymentModel
import Simulators
import Testing
import Transport

@Suite("Replay against a real host on 127.0.0.1")
struct ReplayRunnerTests {
    static let pan = PAN.testCard(range: "476173", account: "900101011")

    /// An issuer simulator that declines amounts over 500.00 and approves the rest.
    static func withIssuer(_ body: (UInt16) throws -> Void) throws {
        let behaviour = try IssuerBehaviour.load(yaml: """
            responses:
              - when: {amountOver: "500.00"}
                result: Insufficient funds
            default: Approved
            """, file: "rules")
        let issuer = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(try Dialect.shipped("iso87ascii")), behaviour: behaviour, loops: 1))
        let port = try issuer.start()
        defer { issuer.stop() }
        try body(port)
    }

    static func capture(_ steps: String) throws -> Capture {
        try Capture.load(yaml: """
            capture: 1
            name: runner
            sessions:
              - name: one
                framing: bin2
                iso8583: iso87ascii
                steps:
            \(steps)
            """, file: "runner.yaml")
    }

    static func send(stan: String, amount: String) -> String {
        """
              - send:
                  mti: "0100"
                  fields: {2: "\(pan)", 3: "000000", 4: "\(amount)", 7: "1201120000", 11: "\(stan)", 41: "TERM0001", 49: "840"}
        """
    }

    let runner = ReplayRunner(options: ReplayOptions(asFastAsPossible: true, defaultWithin: .seconds(3)))

    @Test func approvalsAndDeclinesAreJudgedFieldByField() throws {
        try Self.withIssuer { port in
            let capture = try Self.capture(Self.send(stan: "000001", amount: "000000001000") + """

                      - expect: {mti: "0110", fields: {39: "00", 11: {echo: true}, 38: {pattern: "[0-9A-Z]{6}"}, 2: {echo: true}}}
                """ + "\n" + Self.send(stan: "000002", amount: "000000090000") + """

                      - expect: {mti: "0110", fields: {39: "00", 11: "000001"}}
                      - expect-silence: 0.1
                """)
            let outcome = runner.run(capture.sessions[0], of: capture.name, host: "127.0.0.1", port: port)
            #expect(outcome.steps.count == 5)
            #expect(outcome.steps[1].passed, "\(outcome.steps[1].differences)")
            #expect(outcome.steps[3].differences == ["DE 39: expected \"00\", got \"51\"", "DE 11: expected \"000001\", got \"000002\""])
            #expect(outcome.steps[4].passed)
            #expect(!outcome.passed)
            #expect(outcome.failures.count == 2)
            for failure in outcome.failures { #expect(!failure.contains(Self.pan)) }
            let report = ReplayReport(outcomes: [outcome])
            #expect(report.table().contains("FAIL  runner / one"))
            #expect(report.junit().contains("<failure message=\"runner.yaml:"))
            #expect(!report.junit().contains(Self.pan))
        }
    }

    @Test func aMissingAnswerTimesOutAndAnUnexpectedOneIsCounted() throws {
        try Self.withIssuer { port in
            // A 0800 the simulator answers, sent twice, with one expectation: the second answer is unexpected.
            let frames = """
                      - send: {mti: "0800", fields: {7: "1201120000", 11: "000009", 70: "301"}}
                      - send: {mti: "0800", fields: {7: "1201120000", 11: "000010", 70: "301"}}
                      - expect: {mti: "0810"}
                      - expect-silence: 0.2
                """
            let outcome = runner.run(try Self.capture(frames).sessions[0], of: "runner", host: "127.0.0.1", port: port)
            #expect(outcome.steps[3].differences.first?.hasPrefix("a frame arrived: 0810") == true, "\(outcome.steps)")

            let silent = try Self.capture("      - expect: {mti: \"0110\"}\n        within: 0.2")
            let timedOut = runner.run(silent.sessions[0], of: "runner", host: "127.0.0.1", port: port)
            #expect(timedOut.steps.map(\.differences) == [["no answer within 0.2 s"]])
        }
    }

    @Test func aBrokenLengthPrefixIsSentAsWrittenAndTheCloseIsSeen() throws {
        try Self.withIssuer { port in
            // A 2-byte prefix announcing 65,535 bytes: over the simulator's frame limit, it closes.
            let capture = try Self.capture("      - send: {raw: \"FFFF30313030\"}\n      - expect-close: true")
            let outcome = runner.run(capture.sessions[0], of: "runner", host: "127.0.0.1", port: port)
            #expect(outcome.passed, "\(outcome.failures)")
        }
    }

    @Test func aHostThatIsDownFailsTheSessionWithTheReason() throws {
        let capture = try Self.capture(Self.send(stan: "000003", amount: "000000001000"))
        let outcome = runner.run(capture.sessions[0], of: "runner", host: "127.0.0.1", port: Listener.unusedLoopbackPort())
        #expect(!outcome.passed)
        #expect(outcome.failures.first?.contains("refused") == true, "\(outcome.failures)")
    }

    @Test func recordingBlessesTheAnswersWithoutWritingACardNumber() throws {
        try Self.withIssuer { port in
            let capture = try Self.capture(Self.send(stan: "000004", amount: "000000002000") + """

                      - expect: {mti: "0110", fields: {39: "05", 38: {pattern: "[0-9A-Z]{6}"}, 35: {absent: true}}}
                """)
            let outcome = runner.run(capture.sessions[0], of: "runner", host: "127.0.0.1", port: port)
            #expect(!outcome.passed)
            var blessed = capture
            blessed.sessions[0] = capture.sessions[0].recorded(from: outcome)
            let yaml = blessed.yaml()
            #expect(yaml.contains("39: \"00\""))
            #expect(yaml.contains("38: {pattern: \"[0-9A-Z]{6}\"}"))
            #expect(yaml.contains("2: {echo: true}"))
            #expect(yaml.contains("35: {absent: true}"))
            #expect(yaml.components(separatedBy: Self.pan).count == 2, "the card number only in the request, once")
            let again = runner.run(try Capture.load(yaml: yaml, file: "blessed.yaml").sessions[0], of: "runner", host: "127.0.0.1", port: port)
            #expect(again.passed, "\(again.failures)")
        }
    }
}
