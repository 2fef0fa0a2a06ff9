import Foundation
import Testing

/// End-to-end tests of `payswitch sim`: real processes on 127.0.0.1, stopped with SIGTERM.
@Suite(.serialized)
struct SimCommandTests {
    static let samplePAN = "4761739001010119"

    func temporaryFile(_ name: String, _ text: String = "") throws -> String {
        let path = NSTemporaryDirectory() + "payswitch-\(UUID().uuidString)-" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func posDrivesTheIssuerByItsRulesAndBothExitCleanly() throws {
        let rules = try temporaryFile("rules.yaml", "responses:\n  - when: {amountOver: \"0.50\"}\n    result: Insufficient funds\n")
        let record = try temporaryFile("record.jsonl")
        defer { for file in [rules, record] { try? FileManager.default.removeItem(atPath: file) } }
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--rules", rules, "--record", record, "--loops", "1"])
        let pos = try PayswitchRunner.run(["sim", "pos", "--port", String(issuer.port), "--count", "50", "--connections", "2"])
        let stopped = issuer.stop()
        #expect(pos.status == 0, "\(pos.stdout)\(pos.stderr)")
        #expect(pos.stdout.hasPrefix("PASS: 50 sent, 50 answered"))
        #expect(pos.stdout.contains("response codes: 51: 50"))
        #expect(stopped.status == 0 && stopped.stdout.contains("received 50, answered 50"))
        let recorded = try String(contentsOfFile: record, encoding: .utf8)
        #expect(recorded.split(separator: "\n").count == 50 && recorded.contains("476173******0119"))
        #expect(!recorded.contains(Self.samplePAN) && !pos.stdout.contains(Self.samplePAN))
    }

    @Test func missingAnswersMakeThePosFailWithAReport() throws {
        let rules = try temporaryFile("drop.yaml", "faults: {drop: 1}\n")
        defer { try? FileManager.default.removeItem(atPath: rules) }
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--rules", rules, "--loops", "1"])
        let pos = try PayswitchRunner.run(["sim", "pos", "--port", String(issuer.port), "--count", "4", "--connections", "1",
                                           "--window", "2", "--timeout-ms", "200", "--json"])
        _ = issuer.stop()
        #expect(pos.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(pos.stdout.utf8)) as? [String: Any])
        let counts = try #require(report["counts"] as? [String: Int])
        #expect(report["pass"] as? Bool == false && counts["timedOut"] == 4 && counts["matched"] == 0)
    }

    @Test func acquirerDrivesAnISO20022Issuer() throws {
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--iso20022", "--framing", "bin4", "--loops", "1"])
        let acquirer = try PayswitchRunner.run(["sim", "acquirer", "--port", String(issuer.port), "--framing", "bin4", "--count", "40"])
        _ = issuer.stop()
        #expect(acquirer.status == 0, "\(acquirer.stdout)\(acquirer.stderr)")
        #expect(acquirer.stdout.contains("PASS: 40 sent, 40 answered") && acquirer.stdout.contains("ACSC"))
    }

    @Test func badRulesFileIsReportedWithItsPlace() throws {
        let rules = try temporaryFile("bad.yaml", "latency: {distribution: fixed}\n")
        defer { try? FileManager.default.removeItem(atPath: rules) }
        let result = try PayswitchRunner.run(["sim", "issuer", "--port", "0", "--rules", rules, "--seconds", "1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.yaml:1:10: error:") && result.stderr.contains("ms"))
    }
}
