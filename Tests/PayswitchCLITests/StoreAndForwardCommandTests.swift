import Foundation
import ISO8583
import PaymentModel
import Testing
import TestSupport

/// Nothing lost across a crash: `payswitch serve` killed with SIGKILL while reversals are pending
/// and requests are in flight, started again on the same storage, between `sim` processes.
@Suite(.serialized) struct StoreAndForwardCommandTests {
    /// Journal records as `payswitch journal query --format json` prints them.
    static func journal(_ config: String, _ filters: [String] = [], input: String = "") throws -> [[String: Any]] {
        let run = try PayswitchRunner.run(["journal", "query", "--config", config, "--format", "json", "--limit", "100000"] + filters,
                                          input: input)
        return run.stdout.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// Records of a `sim issuer --record` file.
    static func records(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func report(_ run: PayswitchRunner.Result?) -> [String: Any] {
        (run.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) } as? [String: Any]) ?? [:]
    }

    /// An 0220 advice in iso87ascii, as hex for `sim pos --template`.
    static func adviceTemplate() throws -> String {
        var advice = ISO8583Message(mti: MTI("0220")!)
        for (field, value) in [(2, "4761739001010119"), (3, "000000"), (4, "000000001500"), (7, "1121103000"), (11, "000001"),
                               (12, "103000"), (13, "1121"), (22, "051"), (32, "123456"), (37, "000000000001"), (41, "TERM0009"),
                               (42, "MERCHANT0000001"), (49, "978")] {
            advice.set(field, value)
        }
        return Hex.encode(try advice.encoded(as: try Dialect.shipped("iso87ascii")))
    }

    @Test func reversalsAndAdvicesPendingAtAKillAreDeliveredExactlyOnceAfterARestart() throws {
        let directory = NSTemporaryDirectory() + "saf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // An issuer that signs on but never answers a purchase, a reversal or an advice.
        try "faults: {drop: 1}\nfaultsOn: [\"0200\", \"0400\", \"0401\", \"0220\", \"0221\"]\n".write(toFile: directory + "/silent.yaml", atomically: true, encoding: .utf8)
        let silent = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87binary", "--loops", "1",
                                          "--rules", directory + "/silent.yaml", "--record", directory + "/silent.jsonl"])
        var silentStopped = false
        defer { if !silentStopped { _ = silent.stop() } }
        let adminPort = RawClient.freePort()
        try "channels: [issuer]\nrules: []\ndefault: {route: issuer}\n".write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        let config = directory + "/switch.yaml"
        try """
            name: saf
            loops: 1
            rules: rules.yaml
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87ascii}
            channels:
              - {name: issuer, addresses: ["127.0.0.1:\(silent.port)"], framing: bin2, protocol: iso8583, dialect: iso87binary,
                 request-timeout: 400ms, forward-retry: 200ms, forward-retry-max: 1s}
            health: {minimum-failures: 100000}
            admin: "127.0.0.1:\(adminPort)"
            storage: {path: data/switch.sqlite, key-file: data/data.key, forward-alarm-after: 1s}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = directory + "/serve.log"

        let first = try PayswitchServer(["serve", "--config", config], standardError: log)
        var firstKilled = false
        defer { if !firstKilled { first.kill9() } }
        #expect(ServeCommandTests.waitUntilReady(adminPort: adminPort))
        // Every purchase times out: each is declined and leaves a reversal the silent issuer never acknowledges.
        let timedOut = Self.report(try PayswitchRunner.run(["sim", "pos", "--port", String(first.port), "--spec", "iso87ascii",
                                                            "--count", "24", "--connections", "2", "--window", "3", "--quiet", "--json"]))
        #expect((timedOut["codes"] as? [String: Int]) == ["91": 24])
        // Advices: acknowledged by the switch once stored, though the issuer answers none of them.
        let advices = Self.report(try PayswitchRunner.run(["sim", "pos", "--port", String(first.port), "--spec", "iso87ascii",
                                                           "--template", Self.adviceTemplate(), "--count", "3", "--connections", "1",
                                                           "--window", "1", "--quiet", "--json"]))
        #expect((advices["codes"] as? [String: Int]) == ["00": 3])
        // The day as it grows: 24 reversals made, none answered, and the alarm once they wait past its bound.
        let today = BusinessDay().date(atUnixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000)).description
        var during = ""
        let alarmed = Date().addingTimeInterval(5)
        repeat {
            usleep(200_000)
            during = ServeCommandTests.http("GET", "/metrics", port: adminPort)
        } while Date() < alarmed && !during.contains("payswitch_forward_overdue{channel=\"issuer\"} 1")
        #expect(during.contains("payswitch_forward_overdue{channel=\"issuer\"} 1"), "\(during)")
        #expect(during.contains("payswitch_day_reversals{channel=\"issuer\",date=\"\(today)\"} 24"))
        #expect(during.contains("payswitch_day_approved{channel=\"issuer\",date=\"\(today)\"} 0"), "nothing approved")
        #expect((try? String(contentsOfFile: log, encoding: .utf8))?.contains("longer than the alarm bound") == true)
        // More purchases, in flight at the silent issuer when the switch is killed.
        let cut = BackgroundRun(["sim", "pos", "--port", String(first.port), "--spec", "iso87ascii", "--count", "6",
                                 "--connections", "2", "--window", "3", "--quiet", "--json", "--timeout-ms", "3000"])
        // Killed once the silent issuer holds all 30 purchases (its record file says so).
        let forwarded = Date().addingTimeInterval(10)
        while Date() < forwarded, Self.records(directory + "/silent.jsonl").filter({ ($0["message"] as? String) == "0200" }).count < 30 {
            usleep(20_000)
        }
        first.kill9()
        firstKilled = true
        let interrupted = Self.report(cut.wait())
        let cutCounts = interrupted["counts"] as? [String: Int] ?? [:]
        #expect((cutCounts["matched"] ?? -1) == 0, "nothing was answered before the kill: \(interrupted)")
        _ = silent.stop()
        silentStopped = true
        let pendingAtKill = try Self.journal(config).filter { ($0["forwardState"] as? String) == "pending" }
        #expect(pendingAtKill.count == 27, "24 reversals and 3 advices")

        // The issuer comes back, answering everything; the switch starts again on the same storage.
        let alive = try PayswitchServer(["sim", "issuer", "--port", String(silent.port), "--spec", "iso87binary", "--loops", "1",
                                         "--record", directory + "/alive.jsonl"])
        defer { _ = alive.stop() }
        let second = try PayswitchServer(["serve", "--config", config], standardError: log)
        var secondStopped = false
        defer { if !secondStopped { _ = second.stop() } }
        let deadline = Date().addingTimeInterval(20)
        var records: [[String: Any]] = []
        repeat {
            usleep(200_000)
            records = try Self.journal(config)
        } while Date() < deadline && !(records.count == 33 && records.allSatisfy { ($0["forwardState"] as? String) == "acknowledged" })
        // The queue's metrics: everything acknowledged, nothing left (sampled once a second).
        usleep(1_200_000)
        let metrics = ServeCommandTests.http("GET", "/metrics", port: adminPort)
        #expect(metrics.contains("payswitch_forwards_total{channel=\"issuer\",kind=\"reversal\",event=\"acknowledged\"} 30"), "\(metrics)")
        #expect(metrics.contains("payswitch_forwards_total{channel=\"issuer\",kind=\"advice\",event=\"acknowledged\"} 3"))
        #expect(metrics.contains("payswitch_forward_queue_depth{channel=\"issuer\"} 0"))
        #expect(metrics.contains("payswitch_forward_overdue{channel=\"issuer\"} 0"))
        #expect(metrics.contains("payswitch_journal_queue_depth 0"))
        #expect(metrics.contains("payswitch_storage_write_seconds_count"))
        _ = second.stop()
        secondStopped = true

        // The journal: 24 timeouts and 6 requests interrupted by the kill, each with its reversal acknowledged.
        #expect(records.count == 33)
        #expect(records.filter { ($0["outcome"] as? String) == "timeout" }.count == 24)
        #expect(records.filter { ($0["outcome"] as? String) == "interrupted" }.count == 6)
        #expect(records.filter { ($0["outcome"] as? String) == "stored" && ($0["forward"] as? String) == "advice" }.count == 3)
        #expect(records.allSatisfy { ($0["forward"] as? String) != "none" && ($0["forwardState"] as? String) == "acknowledged" })
        // Each advice reached the issuer that answers, once, though the first switch died holding them.
        let delivered = Self.records(directory + "/alive.jsonl").filter { ($0["message"] as? String)?.hasPrefix("022") == true }
        #expect(delivered.count == 3 && Set(delivered.compactMap { $0["rrn"] as? String }).count == 3)
        // Exactly once each at the issuer that answered, for every purchase the silent issuer saw.
        let purchases = Set(Self.records(directory + "/silent.jsonl").filter { ($0["message"] as? String) == "0200" }.compactMap { $0["stan"] as? String })
        let reversals = Self.records(directory + "/alive.jsonl").filter { ($0["kind"] as? String) == "reversal" }
        let originals = reversals.compactMap { ($0["original"] as? String).map { String($0.dropFirst(4).prefix(6)) } }
        #expect(purchases.count == 30)
        #expect(originals.count == 30 && Set(originals) == purchases, "one reversal per purchase, none twice")
        // One at a time per host, in order: before the kill only the first reversals were sent (and
        // not answered); those go out again as repeats, the rest for the first time.
        let sentBefore = Set(Self.records(directory + "/silent.jsonl").filter { ($0["kind"] as? String) == "reversal" }
            .compactMap { ($0["original"] as? String).map { String($0.dropFirst(4).prefix(6)) } })
        #expect(!sentBefore.isEmpty)
        for (reversal, original) in zip(reversals, originals) {
            #expect((reversal["message"] as? String) == (sentBefore.contains(original) ? "0401" : "0400"), "\(original)")
        }

        // Searching: by the full card number (its keyed hash), the masked one, time, outcome; counting.
        #expect(try Self.journal(config, ["--pan", "-"], input: "4761739001010119\n").count == 33)
        #expect(try Self.journal(config, ["--pan", "476173******0119", "--outcome", "interrupted"]).count == 6)
        #expect(try Self.journal(config, ["--since", "2999-01-01T00:00:00Z"]).isEmpty)
        let stats = try PayswitchRunner.run(["journal", "stats", "--config", config]).stdout
        #expect(stats.contains("issuer   timeout      91") && stats.contains("33 record(s)"), "\(stats)")

        // No clear card number anywhere the switch and simulators wrote: no Luhn-valid digit run in
        // the logs, the records or any journal row; the database files (binary: numbers stored side
        // by side can form digit runs) hold no byte sequence of the card number sent.
        for file in ["serve.log", "silent.jsonl", "alive.jsonl"] {
            let bytes = Array((FileManager.default.contents(atPath: directory + "/" + file)) ?? Data())
            #expect(bytes.count > 1000, "\(file) was written")
            #expect(CardNumberScan.luhnValidRuns(in: bytes).isEmpty, "\(file): \(CardNumberScan.luhnValidRuns(in: bytes))")
        }
        let rows = try PayswitchRunner.run(["journal", "query", "--config", config, "--format", "json", "--limit", "100"]).stdout
        #expect(rows.split(separator: "\n").count == 33)
        #expect(CardNumberScan.luhnValidRuns(in: Array(rows.utf8)).isEmpty)
        let table = try PayswitchRunner.run(["journal", "query", "--config", config, "--messages", "--limit", "100"]).stdout
        #expect(CardNumberScan.luhnValidRuns(in: Array(table.utf8)).isEmpty)
        #expect(table.contains("476173******0119"))
        for file in ["data/switch.sqlite", "data/switch.sqlite-wal"] {
            let bytes = Array((FileManager.default.contents(atPath: directory + "/" + file)) ?? Data())
            #expect(!bytes.contains(bytes: Array("4761739001010119".utf8)), "\(file) holds the card number")
        }
    }

    @Test func theCardNumberScanFindsAClearPANAndNotAMaskedOne() {
        #expect(CardNumberScan.luhnValidRuns(in: Array("pan=4761739001010119;".utf8)) == ["476173******0119"])
        #expect(CardNumberScan.luhnValidRuns(in: Array("476173******0119 4761739001010118 47617390010101190".utf8)).isEmpty)
    }
}
