import Foundation
import ISO8583
import PaymentModel
import Simulators
import Switch
import Testing
import TestSupport
import Transport

/// Requests through a running switch to hosts on 127.0.0.1: approval, decline, translation,
/// pass-through, STAN assignment, duplicates.
@Suite struct SwitchFlowTests {
    @Test func approvalAndDeclineComeBackWithTheTerminalsOwnSTAN() throws {
        let behaviour = try IssuerBehaviour.load(yaml: """
            responses:
              - when: {amountOver: "1000.00"}
                result: Insufficient funds
            default: Approved
            """, file: "issuer.yaml")
        let issuer = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), behaviour: behaviour, loops: 1))
        let issuerPort = try issuer.start()
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuerPort])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)

        let approved = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 4711, amount: 12_550)))
        #expect(approved.mti.description == "0210")
        #expect(approved.string(39) == "00")
        #expect(approved.string(11) == "004711")
        #expect(approved.string(38)?.count == 6)
        #expect(!approved.contains(35) && !approved.contains(52))

        let declined = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 4712, amount: 200_000)))
        #expect(declined.string(39) == "51")
        #expect(declined.string(11) == "004712")
        #expect(!declined.contains(38))
        // The issuer saw the switch's STANs, not the terminal's.
        let seen = issuer.received.compactMap(\.stan)
        #expect(seen.count == 3 || seen.count == 2)  // the sign-on 0800 has a STAN too
        #expect(!seen.contains("004711") && !seen.contains("004712"))
    }

    @Test(arguments: [("iso87ascii", "iso93ascii"), ("iso93ascii", "iso87binary")])
    func translatesBetweenDialectsBothWays(listener: String, host: String) throws {
        let hostDialect = try Dialect.shipped(host)
        let listenerDialect = try Dialect.shipped(listener)
        let issuer = try ScriptedHost(dialect: hostDialect)
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(listenerDialect: listener, channels: SwitchHarness.channel("issuer", ports: [issuer.port], dialect: host)),
            rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: listenerDialect)
        var request = SwitchFixtures.purchase(stan: 321)
        if listener == "iso93ascii" {
            request = SwitchFixtures.purchase1993(request)
        } else if host == "iso93ascii" {
            // Nor the other way: 1993 has no element for 1987's POS entry and condition codes
            // (aFieldTheHostDialectCannotCarryIsDeclinedNeverDropped shows the decline).
            request.remove(22)
            request.remove(25)
        }
        let answer = try #require(try pos.exchange(request))
        #expect(answer.mti.description == (listener == "iso93ascii" ? "1210" : "0210"))
        #expect(answer.string(39) == (listener == "iso93ascii" ? "000" : "00"))
        #expect(answer.string(11) == "000321")
        #expect(answer.string(4) == request.string(4))
        let forwarded = try #require(issuer.requests.first)
        #expect(forwarded.mti.description == (host == "iso93ascii" ? "1200" : "0200"))
        #expect(forwarded.string(2) == SwitchFixtures.pan && forwarded.string(4) == request.string(4))
    }

    @Test func aFieldTheHostDialectCannotCarryIsDeclinedNeverDropped() throws {
        let issuer = try ScriptedHost(dialect: SwitchFixtures.iso87binary)
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(listenerDialect: "iso93ascii", channels: SwitchHarness.channel("issuer", ports: [issuer.port], dialect: "iso87binary")),
            rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso93ascii)
        var request = SwitchFixtures.purchase(stan: 12)
        request.mti = MTI("1200")!
        request.set(12, "261121103000")
        request.remove(13)
        request.set(22, "A1B2C3D4E5F6")  // a 1993 POS data code: twelve positions the 1987 DE 22 cannot hold
        let answer = try #require(try pos.exchange(request))
        #expect(answer.string(39) == "909")
        #expect(issuer.requests.isEmpty)
    }

    @Test(arguments: [false, true])
    func aFieldOnlyTheTerminalsDialectHasIsDroppedOnlyWhereTheChannelSaysItMayBe(mayDrop: Bool) throws {
        let issuer = try ScriptedHost(dialect: SwitchFixtures.iso93ascii)
        defer { issuer.stop() }
        let channel = SwitchHarness.channel("issuer", ports: [issuer.port], dialect: "iso93ascii",
                                            extra: mayDrop ? "may-drop: [pos-entry-mode]" : "")
        let (payments, ports) = try SwitchHarness.start(SwitchHarness.yaml(channels: channel), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: try Dialect.shipped("iso87ascii"))
        let request = SwitchFixtures.purchase(stan: 22)  // DE 22 "051": a 1987 POS entry mode
        let answer = try #require(try pos.exchange(request))
        if mayDrop {
            #expect(answer.string(39) == "00")
            let forwarded = try #require(issuer.requests.first)
            #expect(forwarded.mti.description == "1200" && !forwarded.contains(22))
        } else {
            #expect(answer.string(39) == "96", "declined by the switch, not cut")
            #expect(issuer.requests.isEmpty)
        }
    }

    @Test func sameDialectPassesTheBytesThroughWithOnlyTheSTANRewritten() throws {
        let issuer = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuer.port])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        let request = SwitchFixtures.purchase(stan: 777)
        let sent = try request.encoded(as: SwitchFixtures.iso87ascii)
        pos.sendFrame(sent)
        let answerBytes = try #require(pos.receiveFrame())
        let received = try #require(issuer.received.last)
        #expect(received.count == sent.count)
        let stanRange = try #require(try ISO8583Message(decoding: sent, dialect: SwitchFixtures.iso87ascii).wireBytes(11)).indices
        let differing = sent.indices.filter { sent[$0] != received[$0] }
        #expect(!differing.isEmpty && differing.allSatisfy { stanRange.contains($0) }, "bytes other than DE 11 changed: \(differing)")
        // The answer is the host's, byte for byte, but for the STAN put back.
        let hostAnswer = try ScriptedHost.answer(ISO8583Message(decoding: received, dialect: SwitchFixtures.iso87ascii), code: nil)
            .encoded(as: SwitchFixtures.iso87ascii)
        var expected = hostAnswer
        let answerStan = try #require(try ISO8583Message(decoding: hostAnswer, dialect: SwitchFixtures.iso87ascii).wireBytes(11)).indices
        for (index, byte) in zip(answerStan, Array("000777".utf8)) { expected[index] = byte }
        #expect(answerBytes == expected)
    }

    @Test func twoTerminalsWithTheSameSTANNeverCollide() throws {
        let issuer = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            .answerAfter(milliseconds: 200, ScriptedHost.answer(request, code: nil))
        }
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuer.port])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let first = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        let second = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        try first.send(SwitchFixtures.purchase(stan: 42, amount: 100, terminal: "TERM0001"))
        try second.send(SwitchFixtures.purchase(stan: 42, amount: 200, terminal: "TERM0002"))
        let one = try #require(try first.receive())
        let two = try #require(try second.receive())
        #expect(one.string(39) == "00" && two.string(39) == "00")
        #expect(one.string(11) == "000042" && two.string(11) == "000042")
        #expect(one.string(41) == "TERM0001" && one.integer(4) == 100)
        #expect(two.string(41) == "TERM0002" && two.integer(4) == 200)
        let stans = issuer.requests.compactMap { $0.string(11) }
        #expect(stans.count == 2 && Set(stans).count == 2)
    }

    @Test func aDuplicateInFlightIsRefusedAndNotForwarded() throws {
        let issuer = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            .answerAfter(milliseconds: 300, ScriptedHost.answer(request, code: nil))
        }
        defer { issuer.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuer.port])), rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        try pos.send(SwitchFixtures.purchase(stan: 9))
        try pos.send(SwitchFixtures.purchase(stan: 9))
        let refused = try #require(try pos.receive())
        let answered = try #require(try pos.receive())
        #expect(refused.string(39) == "94")
        #expect(answered.string(39) == "00")
        #expect(issuer.requests.count == 1)
        // Once answered, the same key is free again.
        let again = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 9)))
        #expect(again.string(39) == "00")
    }

    @Test func aRuleDeclineAndAnUnknownRouteAreAnsweredByTheSwitch() throws {
        let issuer = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { issuer.stop() }
        let rules = SwitchFixtures.rules(["issuer"], extraRules: """
              - id: no-gambling
                when: {mcc: [7995]}
                then: {decline: "1061"}
            """)
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [issuer.port])), rules: rules)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: SwitchFixtures.iso87ascii)
        let declined = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 5, mcc: "7995")))
        #expect(declined.string(39) == "57")
        #expect(issuer.requests.isEmpty)
    }
}
