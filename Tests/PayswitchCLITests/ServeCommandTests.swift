import Foundation
import Testing
import TestSupport

/// `payswitch serve` as a process, between `sim issuer` and `sim pos` processes, all on 127.0.0.1.
@Suite(.serialized) struct ServeCommandTests {
    /// One HTTP/1.1 request; the whole response as text.
    static func http(_ method: String, _ path: String, port: UInt16) -> String {
        guard let fd = try? RawClient.connect(port) else { return "" }
        defer { close(fd) }
        RawClient.send(fd, Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8))
        return String(decoding: RawClient.receive(fd, count: 1 << 20), as: UTF8.self)
    }

    @Test func theSwitchAnswersEveryRequestAndItsMetricsCountWhatThePOSCounted() throws {
        let directory = NSTemporaryDirectory() + "serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87binary", "--loops", "1"])
        defer { _ = issuer.stop() }
        let adminPort = RawClient.freePort()
        try """
            channels: [issuer]
            rules: []
            default: {route: issuer}
            """.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            name: e2e
            loops: 1
            rules: rules.yaml
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87ascii}
            channels:
              - {name: issuer, addresses: ["127.0.0.1:\(issuer.port)"], framing: bin2, protocol: iso8583, dialect: iso87binary}
            admin: "127.0.0.1:\(adminPort)"
            """.write(toFile: directory + "/switch.yaml", atomically: true, encoding: .utf8)
        #expect(try PayswitchRunner.run(["config", "check", directory + "/switch.yaml"]).status == 0)

        let server = try PayswitchServer(["serve", "--config", directory + "/switch.yaml"])
        var stopped = false
        defer { if !stopped { _ = server.stop() } }
        #expect(Self.waitUntilReady(adminPort: adminPort))

        // iso87ascii terminals, an iso87binary issuer: every request translated both ways.
        let pos = try PayswitchRunner.run(["sim", "pos", "--port", String(server.port), "--spec", "iso87ascii", "--count", "300",
                                           "--connections", "2", "--window", "4", "--quiet"])
        #expect(pos.status == 0, "\(pos.stdout)")
        #expect(pos.stdout.contains("300 sent, 300 answered"))
        #expect(!pos.stdout.contains("4761739001010119"))
        let metrics = Self.http("GET", "/metrics", port: adminPort)
        #expect(metrics.contains("payswitch_requests_total{listener=\"pos\"} 300"), "\(metrics)")
        #expect(metrics.contains("payswitch_answers_total{listener=\"pos\",channel=\"issuer\",rule=\"default\",result=\"0000\"} 300"))

        // A reload of an unchanged file is accepted; SIGTERM stops the switch cleanly.
        #expect(Self.http("POST", "/reload", port: adminPort).contains("\"accepted\":true"))
        let (status, _) = server.stop()
        stopped = true
        #expect(status == 0)
    }

    @Test func configCheckOpensTheTLSFilesUnlessToldNotTo() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/switch/example.yaml").path
        let without = try PayswitchRunner.run(["config", "check", "--without-tls-files", example])
        #expect(without.status == 0 && without.stdout.contains("ok: 3 listener(s), 3 channel(s)"), "\(without.stderr)")
        // The example's tls/ files do not ship: the first `tls:` entry is the error, by line and column.
        let with = try PayswitchRunner.run(["config", "check", example])
        #expect(with.status == 1)
        #expect(with.stderr.contains("example.yaml:26:7:") && with.stderr.contains("cannot use these TLS files"), "\(with.stderr)")
    }

    /// Polls `/ready` until every channel group has a signed-on link (at most ten seconds).
    static func waitUntilReady(adminPort: UInt16) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if http("GET", "/ready", port: adminPort).contains("\"ready\":true") { return true }
            usleep(50_000)
        }
        return false
    }

    /// The figures after `label{labels}` in a Prometheus text page, or 0 when the series is absent.
    static func sample(_ metrics: String, _ series: String) -> Int {
        for line in metrics.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int(Double(line.dropFirst(series.count + 1)) ?? 0)
        }
        return 0
    }

    /// "N sent, M answered" from a `sim pos` report.
    static func sentAndAnswered(_ report: String) -> (sent: Int, answered: Int)? {
        guard let range = report.range(of: #"(\d+) sent, (\d+) answered"#, options: .regularExpression) else { return nil }
        let numbers = report[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    @Test func aMutualTLSIssuerAndASIGHUPReloadUnderLoadLoseNothing() throws {
        let directory = NSTemporaryDirectory() + "serve-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A few milliseconds per answer keeps requests in flight while the rules change.
        try "latency: {distribution: fixed, ms: 2}\n".write(toFile: directory + "/slow.yaml", atomically: true, encoding: .utf8)
        let tlsIssuer = try PayswitchServer([
            "sim", "issuer", "--port", "0", "--spec", "iso87binary", "--loops", "1", "--rules", directory + "/slow.yaml",
            "--tls-cert", TestCertificates.path("server.pem"), "--tls-key", TestCertificates.path("server.key"),
            "--tls-ca", TestCertificates.path("ca.pem")])
        defer { _ = tlsIssuer.stop() }
        let plainIssuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso93ascii", "--loops", "1",
                                               "--rules", directory + "/slow.yaml"])
        defer { _ = plainIssuer.stop() }
        let adminPort = RawClient.freePort()
        let rules = { (channel: String) in
            "channels: [tls-issuer, plain-issuer]\nrules: []\ndefault: {route: \(channel)}\n"
        }
        try rules("tls-issuer").write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            name: e2e-tls
            loops: 1
            rules: rules.yaml
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87binary}
            channels:
              - name: tls-issuer
                addresses: ["127.0.0.1:\(tlsIssuer.port)"]
                framing: bin2
                protocol: iso8583
                dialect: iso87binary
                tls: {ca: "\(TestCertificates.path("ca.pem"))", server-name: localhost,
                      certificate: "\(TestCertificates.path("client.pem"))", key: "\(TestCertificates.path("client.key"))"}
              - {name: plain-issuer, addresses: ["127.0.0.1:\(plainIssuer.port)"], framing: bin2, protocol: iso8583, dialect: iso93ascii,
                 may-drop: [pos-entry-mode, pos-condition, merchant-name-location]}
            admin: "127.0.0.1:\(adminPort)"
            """.write(toFile: directory + "/switch.yaml", atomically: true, encoding: .utf8)
        let server = try PayswitchServer(["serve", "--config", directory + "/switch.yaml"])
        defer { _ = server.stop() }
        #expect(Self.waitUntilReady(adminPort: adminPort), "both links signed on, one over mutual TLS")

        // Load for three seconds; partway, the rules send everything to the other issuer.
        let load = BackgroundRun(["sim", "pos", "--port", String(server.port), "--spec", "iso87binary", "--seconds", "3",
                                  "--connections", "2", "--window", "4", "--quiet"])
        // Change the rules once the first issuer has answered some of the load (bounded: ten seconds).
        let started = Date().addingTimeInterval(10)
        while Self.sample(Self.http("GET", "/metrics", port: adminPort),
                          "payswitch_answers_total{listener=\"pos\",channel=\"tls-issuer\",rule=\"default\",result=\"0000\"}") < 50
                && Date() < started {
            usleep(20_000)
        }
        try rules("plain-issuer").write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        let pos = try #require(load.wait())
        let counts = try #require(Self.sentAndAnswered(pos.stdout), "\(pos.stdout)")
        #expect(pos.status == 0 && counts.sent > 0 && counts.answered == counts.sent, "\(pos.stdout)")

        let metrics = Self.http("GET", "/metrics", port: adminPort)
        #expect(Self.sample(metrics, "payswitch_reloads_total{outcome=\"accepted\"}") == 1, "\(metrics)")
        let viaTLS = Self.sample(metrics, "payswitch_answers_total{listener=\"pos\",channel=\"tls-issuer\",rule=\"default\",result=\"0000\"}")
        let viaPlain = Self.sample(metrics, "payswitch_answers_total{listener=\"pos\",channel=\"plain-issuer\",rule=\"default\",result=\"0000\"}")
        #expect(viaTLS > 0 && viaPlain > 0, "the reload took effect under load: \(viaTLS) before, \(viaPlain) after")
        #expect(viaTLS + viaPlain == counts.sent, "every request answered once, and only once")
        #expect(Self.sample(metrics, "payswitch_requests_total{listener=\"pos\"}") == counts.sent)
    }

    @Test func SIGTERMWaitsForWhatIsInFlightAndAnswersIt() throws {
        let directory = NSTemporaryDirectory() + "serve-term-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Every answer takes 800 ms: the signal arrives with all eight requests at the issuer.
        try "latency: {distribution: fixed, ms: 800}\n".write(toFile: directory + "/slow.yaml", atomically: true, encoding: .utf8)
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87binary", "--loops", "1",
                                          "--rules", directory + "/slow.yaml"])
        defer { _ = issuer.stop() }
        let adminPort = RawClient.freePort()
        try "channels: [issuer]\nrules: []\ndefault: {route: issuer}\n".write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            name: e2e-term
            loops: 1
            admin: "127.0.0.1:\(adminPort)"
            rules: rules.yaml
            shutdown-grace: 5s
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87binary}
            channels:
              - {name: issuer, addresses: ["127.0.0.1:\(issuer.port)"], framing: bin2, protocol: iso8583, dialect: iso87binary}
            """.write(toFile: directory + "/switch.yaml", atomically: true, encoding: .utf8)
        let server = try PayswitchServer(["serve", "--config", directory + "/switch.yaml"])
        defer { _ = server.stop() }
        #expect(Self.waitUntilReady(adminPort: adminPort))

        let load = BackgroundRun(["sim", "pos", "--port", String(server.port), "--spec", "iso87binary", "--count", "8",
                                  "--connections", "2", "--window", "4", "--quiet"])
        // Signal once all eight are at the switch.
        let sent = Date().addingTimeInterval(10)
        while Self.sample(Self.http("GET", "/metrics", port: adminPort), "payswitch_requests_total{listener=\"pos\"}") < 8 && Date() < sent {
            usleep(20_000)
        }
        let signalled = Date()
        let (status, _) = server.stop()
        let stoppedAfter = Date().timeIntervalSince(signalled)
        let pos = try #require(load.wait())
        #expect(pos.stdout.contains("8 sent, 8 answered"), "\(pos.stdout)")
        #expect(pos.stdout.contains("response codes: 00: 8"), "the issuer's approvals, not the switch's timeout declines: \(pos.stdout)")
        #expect(status == 0)
        #expect(stoppedAfter > 0.2, "the switch waited for the issuer's answers before it stopped")
    }
}
