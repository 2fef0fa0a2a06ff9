import ClusterStorage
import Dispatch
import Foundation
import ISO8583
import Switch
import Synchronization
import Testing
import TestSupport

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
}
