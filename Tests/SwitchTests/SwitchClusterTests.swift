import ClusterStorage
import Dispatch
import Foundation
import ISO8583
import ISO20022
import PaymentModel
import Simulators
import Switch
import Synchronization
import Testing
import TestSupport
import Transport

/// Switch nodes sharing one PostgreSQL: a request claimed by one node is forwarded by it alone.
@Suite struct SwitchClusterTests {
    @Test func theSameRequestsSentToTwoNodesAtOnceAreEachForwardedOnce() throws {
        let url = try TemporaryPostgres.database("cluster_nodes")
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in .answer(ScriptedHost.answer(request, code: nil)) }
        defer { host.stop() }
        let nodes = try ["a", "b"].map { try ClusterNode(configuration: ClusterConfiguration(node: $0, database: url)) }
        defer { nodes.forEach { $0.leave() } }
        let switches = try nodes.map { node in
            try SwitchHarness.start(SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port]),
                                                       extra: "cluster: {node: \(node.lease.node), database: \"\(url)\"}"),
                                    rules: SwitchFixtures.rules(["issuer"]), cluster: node)
        }
        defer { switches.forEach { $0.0.shutdown(grace: .zero) } }
        #expect(switches.allSatisfy { $0.0.configuration.cluster?.database == url })
        #expect(SwitchHarness.wait { switches.allSatisfy { $0.0.isReady } })
        let clients = try switches.map { try PosClient(port: $0.1["pos"]!) }
        let count = 200
        // Every request reaches both nodes at once, as from an acquirer sending it on two links.
        let answers = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            for stan in 1...count {
                let code = (try? clients[index].exchange(SwitchFixtures.purchase(stan: stan)))?.string(39) ?? "none"
                answers.withLock { $0.append(code) }
            }
        }
        let codes = answers.withLock { $0 }
        #expect(codes.count == 2 * count)
        #expect(codes.filter { $0 == "00" }.count == count, "one approval per request")
        #expect(codes.filter { $0 == "94" }.count == count, "and one duplicate")
        let forwarded = host.requests.filter { $0.mti.description == "0200" }
        #expect(forwarded.count == count, "each forwarded once")
        // Each node's STANs come from its own blocks: the host never sees one STAN from both.
        #expect(Set(host.requests.compactMap { $0.string(11) }).count == host.requests.count, "no STAN sent twice")
        #expect(nodes.allSatisfy { !$0.isFenced })
    }

    @Test func aRetransmissionGetsTheAnswerTheRequestGotFromAnyNode() throws {
        let url = try TemporaryPostgres.database("cluster_answers")
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            var answer = ScriptedHost.answer(request, code: nil)
            answer.set(38, "A1B2C3")
            return .answer(answer)
        }
        defer { host.stop() }
        let nodes = try ["a", "b"].map { try ClusterNode(configuration: ClusterConfiguration(node: $0, database: url)) }
        defer { nodes.forEach { $0.leave() } }
        let stores = try nodes.map { try StorageFixture(backend: .postgres, url: url, member: $0.lease) }
        defer { stores.forEach { $0.remove() } }
        let switches = try zip(nodes, stores).map { node, store in
            try SwitchHarness.start(SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port]),
                                                       extra: "cluster: {node: \(node.lease.node), database: \"\(url)\"}"),
                                    rules: SwitchFixtures.rules(["issuer"]), storage: store, cluster: node)
        }
        defer { switches.forEach { $0.0.shutdown(grace: .zero) } }
        #expect(SwitchHarness.wait { switches.allSatisfy { $0.0.isReady } })
        let clients = try switches.map { try PosClient(port: $0.1["pos"]!) }
        let request = SwitchFixtures.purchase(stan: 7)
        let original = try #require(try clients[0].exchange(request))
        #expect(original.string(39) == "00" && original.string(38) == "A1B2C3")
        // The POS did not get it (say) and sends it again, on the other link: the answer it got, not a refusal.
        let again = try #require(try clients[1].exchange(request))
        #expect(again.string(39) == "00", "the stored answer, not 94")
        #expect(again.string(38) == "A1B2C3" && again.string(11) == original.string(11) && again.string(37) == original.string(37))
        let sameNode = try #require(try clients[0].exchange(request))
        #expect(sameNode.string(39) == "00" && sameNode.string(38) == "A1B2C3", "and again from the node that forwarded it")
        #expect(host.requests.filter { $0.mti.description == "0200" }.count == 1, "forwarded once")
    }

    @Test func theSameCreditTransferSentToTwoNodesAtOnceGoesToTheBankOnce() throws {
        let url = try TemporaryPostgres.database("cluster_iso20022")
        let bank = try IssuerSimulator(.init(format: .bin4, wire: .iso20022, behaviour: IssuerBehaviour(), loops: 1))
        let bankPort = try bank.start()
        defer { bank.stop() }
        let nodes = try ["a", "b"].map { try ClusterNode(configuration: ClusterConfiguration(node: $0, database: url)) }
        defer { nodes.forEach { $0.leave() } }
        let switches = try nodes.map { node in
            try SwitchHarness.start("""
                name: \(node.lease.node)
                rules: rules.yaml
                listeners:
                  - {name: banks, address: "127.0.0.1:0", framing: bin4, protocol: iso20022}
                channels:
                  - {name: bank, addresses: ["127.0.0.1:\(bankPort)"], framing: bin4, protocol: iso20022, request-timeout: 2s}
                cluster: {node: \(node.lease.node), database: "\(url)"}
                """, rules: "channels: [bank]\nrules: []\ndefault: {route: bank}\n", cluster: node)
        }
        defer { switches.forEach { $0.0.shutdown(grace: .zero) } }
        #expect(SwitchHarness.wait { switches.allSatisfy { $0.0.isReady } })
        let transfer = try SwitchISO20022Tests.sample("pacs.008.001.08_valid.xml")
        let statuses = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            guard let client = try? PosClient(port: switches[index].1["banks"]!, lengthBytes: 4) else { return }
            client.sendFrame(transfer)
            let status = client.receiveFrame().flatMap { try? ISO20022Codec().decode($0) }
            statuses.withLock { $0.append(status?.status ?? "none") }
        }
        // One node carried it to the bank (its status ACSC), the other refused it as a duplicate (RJCT).
        #expect(statuses.withLock { $0.sorted() } == ["ACSC", "RJCT"])
        #expect(bank.received.count == 1, "the bank got the credit transfer once")
    }
}
