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
        let deadline = Date().addingTimeInterval(10)
        while !Self.http("GET", "/ready", port: adminPort).contains("\"ready\":true") && Date() < deadline { usleep(50_000) }
        #expect(Self.http("GET", "/ready", port: adminPort).contains("200 OK"))

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
}
