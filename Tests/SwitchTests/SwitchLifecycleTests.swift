import Foundation
import ISO8583
import PaymentModel
import Simulators
import SpecFiles
import Switch
import Synchronization
import Testing
import TestSupport
import Transport

/// Reload and shutdown while traffic flows: no request lost, none answered twice.
@Suite struct SwitchLifecycleTests {
    @Test func reloadingRulesUnderLoadLosesNothingAndARefusedFileKeepsTheOldRules() throws {
        let first = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        let second = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { first.stop(); second.stop() }
        let channels = SwitchHarness.channel("first", ports: [first.port]) + "\n" + SwitchHarness.channel("second", ports: [second.port])
        let yaml = SwitchHarness.yaml(channels: channels)
        let rules = Mutex(SwitchFixtures.rules(["first", "second"]))
        let reread: @Sendable () throws(SpecError) -> SwitchConfiguration = { () throws(SpecError) in
            try SwitchHarness.configuration(yaml, rules: rules.withLock { $0 })
        }
        let (payments, ports) = try SwitchHarness.start(yaml, rules: rules.withLock { $0 }, reread: reread)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })

        let exchange = try ISO8583Exchange(dialect: SwitchFixtures.iso87ascii, templates: [(SwitchFixtures.purchase(), 1)])
        let generator = LoadGenerator(.init(port: ports["pos"]!, format: .bin2, connections: 2, mode: .closedLoop(window: 4),
                                            limit: .count(2_000), timeoutMilliseconds: 3_000, loops: 1), exchange: exchange)
        let outcomes = Mutex<[ReloadOutcome]>([])
        let reloader = Thread {
            for round in 0..<10 {
                usleep(20_000)
                // Alternate the channel order; round 5 writes a broken file, which must be refused.
                rules.withLock { $0 = round == 5 ? "channels: [first]\nrules: [{id: x, then: {route: nowhere}}]\ndefault: {route: first}"
                    : SwitchFixtures.rules(round % 2 == 0 ? ["second", "first"] : ["first", "second"]) }
                let outcome = payments.reload()
                outcomes.withLock { $0.append(outcome) }
            }
        }
        reloader.start()
        let report = generator.run()
        #expect(SwitchHarness.wait { outcomes.withLock { $0.count } == 10 })
        #expect(report.isClean, "\(report.text)")
        #expect(report.counts.sent == 2_000 && report.counts.matched == 2_000)
        #expect(first.requests.count + second.requests.count == 2_000)
        let done = outcomes.withLock { $0 }
        #expect(done.filter(\.accepted).count == 9)
        let refused = try #require(done.first { !$0.accepted })
        #expect(refused.problems.first?.contains("rules.yaml:") == true)
    }

    @Test func shutdownAnswersWhatIsInFlightBeforeClosing() throws {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.messageClass == 8 ? ScriptedHost.approve(request) : .answerAfter(milliseconds: 300, ScriptedHost.answer(request, code: nil))
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port])), rules: SwitchFixtures.rules(["issuer"]))
        #expect(SwitchHarness.wait { payments.isReady })
        let clients = try (0..<5).map { _ in try PosClient(port: ports["pos"]!) }
        for (index, client) in clients.enumerated() { try client.send(SwitchFixtures.purchase(stan: 100 + index, terminal: "TERM000\(index)")) }
        #expect(SwitchHarness.wait { host.requests.count == 5 })
        payments.shutdown(grace: .seconds(3))
        for (index, client) in clients.enumerated() {
            let answer = try #require(try client.receive())
            #expect(answer.string(39) == "00" && answer.string(11) == SwitchFixtures.digits(100 + index, 6))
        }
    }

    @Test func shutdownPastItsGraceDeclinesWhatIsLeft() throws {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.messageClass == 8 ? ScriptedHost.approve(request) : .drop
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port], timeout: "30s")),
            rules: SwitchFixtures.rules(["issuer"]))
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: ports["pos"]!)
        try client.send(SwitchFixtures.purchase(stan: 55))
        #expect(SwitchHarness.wait { host.requests.count == 1 })
        payments.shutdown(grace: .milliseconds(200))
        let answer = try #require(try client.receive())
        #expect(answer.string(39) == "91" && answer.string(11) == "000055")
    }

    @Test func aTimedOutRequestIsDeclinedAndItsLateAnswerDropped() throws {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.messageClass == 8 ? ScriptedHost.approve(request) : .answerAfter(milliseconds: 500, ScriptedHost.answer(request, code: nil))
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port], timeout: "200ms")),
            rules: SwitchFixtures.rules(["issuer"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: ports["pos"]!)
        let started = Date()
        let answer = try #require(try client.exchange(SwitchFixtures.purchase(stan: 77)))
        #expect(answer.string(39) == "91")
        #expect(Date().timeIntervalSince(started) < 2)  // the host would have answered 00 at 500 ms
        // The late answer arrives and goes nowhere: the next answer on this connection is the next request's.
        Thread.sleep(forTimeInterval: 0.4)
        host.setBehaviour(ScriptedHost.approve)
        let next = try #require(try client.exchange(SwitchFixtures.purchase(stan: 78)))
        #expect(next.string(11) == "000078" && next.string(39) == "00")
    }
}
