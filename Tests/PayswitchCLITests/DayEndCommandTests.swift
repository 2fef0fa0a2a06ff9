import Foundation
import Testing
import TestSupport

/// Day end between real processes: `sim issuer --clearing-file` books what the switch sends,
/// `payswitch reconcile` matches the journal against that file, `payswitch recon totals --send`
/// checks the day with the issuer.
@Suite(.serialized) struct DayEndCommandTests {
    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func reconcileFindsTheIssuersExtraRowAndTheTotalsBalance() throws {
        let directory = NSTemporaryDirectory() + "day-end-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clearing = directory + "/clearing.csv"
        // An issuer that books everything and adds one row of a transaction that never happened.
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87ascii", "--loops", "1",
                                          "--clearing-file", clearing, "--extra-rows", "1"])
        defer { _ = issuer.stop() }
        let adminPort = RawClient.freePort()
        try "channels: [issuer]\nrules: []\ndefault: {route: issuer}\n".write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        let config = directory + "/switch.yaml"
        try """
            name: day-end
            loops: 1
            rules: rules.yaml
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87ascii}
            channels:
              - {name: issuer, addresses: ["127.0.0.1:\(issuer.port)"], framing: bin2, protocol: iso8583, dialect: iso87ascii}
            business-day: {cutover: "00:00"}
            admin: "127.0.0.1:\(adminPort)"
            storage: {path: data/switch.sqlite, key-file: data/data.key}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try PayswitchServer(["serve", "--config", config], standardError: directory + "/serve.log")
        var served = true
        defer { if served { _ = serve.stop() } }
        #expect(ServeCommandTests.waitUntilReady(adminPort: adminPort))
        let pos = try PayswitchRunner.run(["sim", "pos", "--port", String(serve.port), "--spec", "iso87ascii", "--count", "20",
                                           "--connections", "1", "--window", "2", "--quiet", "--json"])
        #expect((Self.json(pos.stdout)["codes"] as? [String: Int]) == ["00": 20], "\(pos.stdout)")
        _ = serve.stop()
        served = false
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])

        // The journal against the issuer's file: 20 matched, the extra row at the host only; exit 1.
        let reconcile = try PayswitchRunner.run(["reconcile", clearing, "--config", config, "--channel", "issuer", "--date", today,
                                                 "--format", "json"])
        #expect(reconcile.status == 1, "\(reconcile.stderr)")
        let report = Self.json(reconcile.stdout)
        let counts = report["counts"] as? [String: Int] ?? [:]
        #expect(counts.filter { $0.value > 0 } == ["matched": 20, "host-only": 1], "\(reconcile.stdout)")
        #expect(!reconcile.stdout.contains("4761739001010119"), "no card number in the report")

        // The totals: 20 debits of 100.00, in balance with the issuer's books; exit 0.
        let totals = try PayswitchRunner.run(["recon", "totals", "--config", config, "--channel", "issuer", "--date", today, "--send",
                                              "--format", "json"])
        let sent = Self.json(totals.stdout)
        #expect(totals.status == 0, "\(totals.stdout) \(totals.stderr)")
        #expect((sent["fields"] as? [String: String])?["76"] == "0000000020")
        #expect((sent["host"] as? [String: Any])?["code"] as? String == "00")

        // A broken layout is refused at its line and column.
        try "layout: broken\nformat: csv\nkeys: [rrn, colour]\n".write(toFile: directory + "/broken.yaml", atomically: true, encoding: .utf8)
        let broken = try PayswitchRunner.run(["reconcile", clearing, "--config", config, "--channel", "issuer", "--date", today,
                                              "--layout", directory + "/broken.yaml"])
        #expect(broken.status != 0 && broken.stderr.contains("broken.yaml:3:"), "\(broken.stderr)")
        // And a bad date before anything is read.
        let badDate = try PayswitchRunner.run(["reconcile", clearing, "--config", config, "--channel", "issuer", "--date", "01/12/2026"])
        #expect(badDate.status != 0 && badDate.stderr.contains("yyyy-MM-dd"))
    }
}
