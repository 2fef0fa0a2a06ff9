import Foundation
import Testing
import TestSupport

/// Two key zones end to end, with real processes on 127.0.0.1: POS terminals enter a PIN under
/// DUKPT, the switch translates each block to the issuer's zone key, and the issuer simulator
/// verifies every one; then nothing secret is found in any log, record or output.
@Suite(.serialized) struct PINZonesCommandTests {
    /// Long enough that finding it anywhere means it leaked.
    static let pin = "739215846021"

    @Test func aPINEnteredUnderDUKPTVerifiesAtTheIssuerUnderItsZoneKey() throws {
        let directory = NSTemporaryDirectory() + "pin-zones-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = ["--key-store", directory + "/keys.json", "--master-key-file", directory + "/master.key"]
        // Known key values, so that the scan below can look for them.
        let bdk = "0123456789ABCDEFFEDCBA9876543210", zpk = "89ABCDEF0123456776543210FEDCBA98FEDCBA9801234567"
        for (name, usage, key) in [("terminal-bdk", "bdk", bdk), ("issuer-zpk", "zpk", zpk)] {
            let imported = try PayswitchRunner.run(["keys", "import", "--name", name, "--usage", usage] + store, input: key + "\n")
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let issuerLog = directory + "/issuer.log", serveLog = directory + "/serve.log"
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87ascii", "--loops", "1", "--pin-key", "issuer-zpk",
                                          "--record", directory + "/issuer.jsonl"] + store, standardError: issuerLog, input: Self.pin + "\n")
        defer { _ = issuer.stop() }
        try """
            channels: [issuer]
            rules: []
            default: {route: issuer}
            """.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        let adminPort = RawClient.freePort()
        try """
            name: zones
            loops: 1
            rules: rules.yaml
            security: {key-store: keys.json, master-key-file: master.key}
            storage: {path: data/switch.sqlite, key-file: data/data.key}
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87ascii,
                 pin: {key: terminal-bdk, format: 0, ksn-field: 62}}
            channels:
              - {name: issuer, addresses: ["127.0.0.1:\(issuer.port)"], framing: bin2, protocol: iso8583, dialect: iso87ascii,
                 pin: {key: issuer-zpk, format: 0}}
            admin: "127.0.0.1:\(adminPort)"
            """.write(toFile: directory + "/switch.yaml", atomically: true, encoding: .utf8)
        let server = try PayswitchServer(["serve", "--config", directory + "/switch.yaml"], standardError: serveLog)
        defer { _ = server.stop() }
        #expect(ServeCommandTests.waitUntilReady(adminPort: adminPort))

        let pos = try PayswitchRunner.run(["sim", "pos", "--port", String(server.port), "--spec", "iso87ascii", "--count", "60",
                                           "--connections", "2", "--window", "2", "--quiet", "--pin-key", "terminal-bdk",
                                           "--ksn", "FFFF9876543210E00000", "--ksn-field", "62"] + store, input: Self.pin + "\n")
        #expect(pos.status == 0, "\(pos.stdout) \(pos.stderr)")
        #expect(pos.stdout.contains("60 sent, 60 answered"), "\(pos.stdout)")
        _ = server.stop()
        let issuerOutput = issuer.stop().stdout
        let records = (try? String(contentsOfFile: directory + "/issuer.jsonl", encoding: .utf8)) ?? ""
        let purchases = records.split(separator: "\n").filter { $0.contains("\"message\":\"0200\"") }
        #expect(purchases.count == 60)
        #expect(purchases.allSatisfy { $0.contains("\"pin\":\"verified\"") && $0.contains("\"result\":\"00\"") }, "\(records.prefix(400))")

        // The journal has every purchase, its messages masked when shown.
        let journal = try PayswitchRunner.run(["journal", "query", "--config", directory + "/switch.yaml", "--format", "json", "--messages",
                                               "--limit", "1000"])
        #expect(journal.status == 0, "\(journal.stderr)")
        #expect(journal.stdout.split(separator: "\n").filter { $0.contains("\"message\":\"0200\"") }.count == 60)

        // Terminals with a fixed PIN key: their PINs verify too, and a wrong one is refused by the issuer (55), not by the switch.
        #expect(try PayswitchRunner.run(["keys", "generate", "--name", "terminal-tpk", "--usage", "tpk"] + store).status == 0)
        let (right, wrong) = try fixedKeyTerminals(directory: directory, store: store)
        #expect(right.contains("5 sent, 5 answered") && right.contains("00"), "\(right)")
        #expect(wrong.contains("5 sent, 5 answered") && wrong.contains("55"), "\(wrong)")

        // Nothing secret in clear anywhere the processes wrote: outputs, logs, records, key store, journal.
        var written = [pos.stdout, pos.stderr, issuerOutput, records, journal.stdout]
        for file in ["switch.sqlite", "switch.sqlite-wal"] {
            if let data = FileManager.default.contents(atPath: directory + "/data/" + file) { written.append(String(decoding: data, as: UTF8.self)) }
        }
        for file in [issuerLog, serveLog, directory + "/keys.json"] { written.append((try? String(contentsOfFile: file, encoding: .utf8)) ?? "") }
        for text in written {
            for secret in [Self.pin, bdk, zpk] { #expect(!text.uppercased().contains(secret), "\(secret.prefix(4))… found") }
        }
    }

    /// The same chain with terminals that enter PINs under a fixed terminal PIN key: the right
    /// PIN, then another one; the POS reports of both runs.
    private func fixedKeyTerminals(directory: String, store: [String]) throws -> (right: String, wrong: String) {
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87ascii", "--loops", "1", "--pin-key", "issuer-zpk"] + store,
                                         input: Self.pin + "\n")
        defer { _ = issuer.stop() }
        let config = try String(contentsOfFile: directory + "/switch.yaml", encoding: .utf8)
            .replacingOccurrences(of: #"127\.0\.0\.1:\d+"\], framing"#, with: "127.0.0.1:\(issuer.port)\"], framing", options: .regularExpression)
            .replacingOccurrences(of: #"admin: .*"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: "storage: {path: data/switch.sqlite, key-file: data/data.key}", with: "")
            .replacingOccurrences(of: "pin: {key: terminal-bdk, format: 0, ksn-field: 62}", with: "pin: {key: terminal-tpk, format: 0}")
        try config.write(toFile: directory + "/switch2.yaml", atomically: true, encoding: .utf8)
        let server = try PayswitchServer(["serve", "--config", directory + "/switch2.yaml"])
        defer { _ = server.stop() }
        func run(_ pin: String) throws -> String {
            var report = ""
            for _ in 0..<50 {
                report = try PayswitchRunner.run(["sim", "pos", "--port", String(server.port), "--spec", "iso87ascii", "--count", "5", "--quiet",
                                                  "--pin-key", "terminal-tpk"] + store, input: pin + "\n").stdout
                if !report.contains("91") { break }
                usleep(100_000)  // the channel signs on first
            }
            return report
        }
        return (try run(Self.pin), try run("739215846022"))
    }
}
