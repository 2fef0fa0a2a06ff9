import Foundation
import ISO8583
import PaymentModel
import Simulators
import Switch
import Testing
import TestSupport
import Transport

/// Links, sign-on, failover, breakers and bad input: what keeps traffic flowing when a host or a
/// terminal misbehaves.
@Suite struct SwitchHealthTests {
    /// Whether the channel's first link is signed on.
    static func signedOn(_ payments: PaymentSwitch, _ channel: String) -> Bool {
        payments.channelReports().first { $0.name == channel }?.links.contains { $0.state == "signed-on" } ?? false
    }

    @Test func aChannelThatIsDownIsSkippedForTheNextInOrder() throws {
        let down = RawClient.freePort()
        let backup = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { backup.stop() }
        let channels = SwitchHarness.channel("primary", ports: [down]) + "\n" + SwitchHarness.channel("backup", ports: [backup.port])
        let (payments, ports) = try SwitchHarness.start(SwitchHarness.yaml(channels: channels), rules: SwitchFixtures.rules(["primary", "backup"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { Self.signedOn(payments, "backup") })
        #expect(!payments.isReady)  // the primary's group has no link
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        let answer = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 1)))
        #expect(answer.string(39) == "00")
        #expect(backup.requests.count == 1)
    }

    @Test func aSecondAddressTakesOverWhenTheFirstIsDown() throws {
        let down = RawClient.freePort()
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [down, host.port])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 2))?.string(39) == "00")
    }

    @Test func noChannelUsableIsAnsweredAtOnceNotAfterATimeout() throws {
        let down = RawClient.freePort()
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [down])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        let started = Date()
        let answer = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 3)))
        #expect(answer.string(39) == "91")
        #expect(Date().timeIntervalSince(started) < 1)  // the request timeout is 2 s
    }

    @Test func noTrafficBeforeSignOnAndTrafficAfter() throws {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            // Sign-on refused until the test allows it.
            request.mti.messageClass == 8 ? .answer(ScriptedHost.answer(request, code: "91")) : ScriptedHost.approve(request)
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        // The link is up and has tried to sign on, and is refused.
        #expect(SwitchHarness.wait { host.received.count >= 2 })
        #expect(!payments.isReady)
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 4))?.string(39) == "91")
        #expect(host.requests.isEmpty)

        host.setBehaviour(ScriptedHost.approve)
        #expect(SwitchHarness.wait { payments.isReady })
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 5))?.string(39) == "00")
        #expect(host.requests.count == 1)
        let signOns = host.received.compactMap { try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii) }
            .filter { $0.mti.description == "0800" && $0.string(70) == "001" }
        #expect(signOns.count >= 2)
    }

    @Test func aBreakerOpensOnAFailingIssuerAndClosesAfterItRecovers() throws {
        let failing = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.messageClass == 8 ? ScriptedHost.approve(request) : .drop
        }
        defer { failing.stop() }
        let good = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { good.stop() }
        let channels = SwitchHarness.channel("failing", ports: [failing.port], timeout: "200ms") + "\n"
            + SwitchHarness.channel("good", ports: [good.port])
        let health = "health: {window: 5s, minimum-failures: 3, failure-rate: 0.5, open-for: 1s, half-open-probes: 1}"
        let (payments, ports) = try SwitchHarness.start(SwitchHarness.yaml(channels: channels, extra: health),
                                                        rules: SwitchFixtures.rules(["failing", "good"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        // Timeouts on the failing issuer are declined as such, not sent elsewhere (it may have acted on them).
        for stan in 1...4 { #expect(try pos.exchange(SwitchFixtures.purchase(stan: stan))?.string(39) == "91") }
        #expect(payments.channelReports().first { $0.name == "failing" }?.breaker == "open")
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 5))?.string(39) == "00")
        #expect(good.requests.count == 1)

        failing.setBehaviour(ScriptedHost.approve)
        Thread.sleep(forTimeInterval: 1.6)
        // The half-open probe goes to the recovered issuer and closes the breaker.
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 6))?.string(39) == "00")
        #expect(payments.channelReports().first { $0.name == "failing" }?.breaker == "closed")
        #expect(failing.requests.count == 5)
    }

    @Test func garbageFromOneTerminalCostsAnotherNothing() throws {
        let issuer = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), loops: 1))
        let issuerPort = try issuer.start()
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuerPort])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let port = ports["pos"]!

        // A frame whose MTI and STAN read but whose end is cut gets a format error with its STAN.
        let bad = try PosClient(port: port, dialect: SwitchFixtures.iso87ascii)
        let whole = try SwitchFixtures.purchase(stan: 66).encoded(as: SwitchFixtures.iso87ascii)
        bad.sendFrame(Array(whole.dropLast(5)))
        let formatError = try #require(try bad.receive())
        #expect(formatError.mti.description == "0210" && formatError.string(39) == "30" && formatError.string(11) == "000066")

        let load = Thread {
            var random = SeededRandom(seed: 7)
            for _ in 0..<40 { bad.sendFrame((0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }) }
        }
        load.start()
        let exchange = try ISO8583Exchange(dialect: SwitchFixtures.iso87ascii, templates: [(SwitchFixtures.purchase(), 1)])
        let report = LoadGenerator(.init(port: port, format: .bin2, connections: 2, mode: .closedLoop(window: 4), limit: .count(300),
                                         timeoutMilliseconds: 3_000, loops: 1), exchange: exchange).run()
        #expect(report.isClean, "\(report.text)")
        #expect(report.counts.matched == 300)
        #expect(!report.text.contains(SwitchFixtures.pan))
    }

    @Test func mutualTLSToTheIssuer() throws {
        let serverTLS = try TLSContext(.server(certificateChainFile: TestCertificates.path("server.pem"), privateKeyFile: TestCertificates.path("server.key"),
                                               clientCAFile: TestCertificates.path("ca.pem")), isClient: false)
        let issuer = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), tls: serverTLS, loops: 1))
        let issuerPort = try issuer.start()
        defer { issuer.stop() }
        let tls = """
            tls: {ca: "\(TestCertificates.path("ca.pem"))", server-name: localhost, certificate: "\(TestCertificates.path("client.pem"))", key: "\(TestCertificates.path("client.key"))"}
            """
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuerPort], extra: tls)), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 8))?.string(39) == "00")
        #expect(issuer.counters.answered >= 1)
    }

    @Test func aHostWithoutTheClientCertificateNeverSignsOn() throws {
        // The issuer demands a client certificate; the channel presents none.
        let serverTLS = try TLSContext(.server(certificateChainFile: TestCertificates.path("server.pem"), privateKeyFile: TestCertificates.path("server.key"),
                                               clientCAFile: TestCertificates.path("ca.pem")), isClient: false)
        let issuer = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), tls: serverTLS, loops: 1))
        let issuerPort = try issuer.start()
        defer { issuer.stop() }
        let tls = "tls: {ca: \"\(TestCertificates.path("ca.pem"))\", server-name: localhost}"
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuerPort], extra: tls)), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!payments.isReady)
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 9))?.string(39) == "91")
        #expect(issuer.counters.received == 0)
    }
}
