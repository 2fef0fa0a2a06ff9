import Foundation
import PostgresNIO
import Switch
import Testing
import TestSupport

@testable import ClusterStorage

/// The shared store-and-forward queue: one sender per host, order kept across a takeover, and a
/// node that lost its host (fenced) sends and marks nothing.
@Suite struct ClusterQueueTests {
    /// Two nodes, each with its storage (as `serve` opens it: the node's items are its own).
    struct Cluster {
        var a: ClusterStore, b: ClusterStore, leaseA: NodeLease, leaseB: NodeLease
        var storageA: ClusterStore, storageB: ClusterStore

        func close() { [a, b, storageA, storageB].forEach { $0.close() } }
    }

    static func cluster(_ database: String) throws -> Cluster {
        let url = try TemporaryPostgres.database(database)
        let a = try ClusterStore.connect(url), b = try ClusterStore.connect(url)
        try a.migrate()
        let leaseA = try a.join(node: "a"), leaseB = try b.join(node: "b")
        return Cluster(a: a, b: b, leaseA: leaseA, leaseB: leaseB,
                       storageA: try ClusterStore.switchStorage(url, member: leaseA), storageB: try ClusterStore.switchStorage(url, member: leaseB))
    }

    /// Queues a reversal of `transaction` for the issuer, as the switch's storage writes it.
    @discardableResult
    static func queue(_ transaction: String, on storage: ClusterStore, payload: [UInt8] = [1]) throws -> Int64 {
        var batch = StorageBatch()
        batch.newForwards = [ForwardItem(channel: "issuer", kind: .reversal, transaction: transaction, sealedMessage: payload, created: 1)]
        return try #require(try storage.write(batch).forwardIDs.first)
    }

    @Test func oneReversalPerOriginalWhicheverNodeQueuesIt() throws {
        let cluster = try Self.cluster("queue_ids")
        defer { cluster.close() }
        try Self.queue("t-1", on: cluster.storageA)
        #expect(throws: StorageError.self, "a second reversal of the same original is refused, not dropped") {
            try Self.queue("t-1", on: cluster.storageB, payload: [2])
        }
        #expect(try cluster.a.acquireHost("issuer", by: cluster.leaseA))
        let items = try cluster.a.nextItems(of: "issuer", by: cluster.leaseA)
        #expect(items.map(\.transaction) == ["t-1"] && items.map(\.sealedMessage) == [[1]] && items.map(\.attempts) == [0])
    }

    @Test func oneSenderPerHostUntilItsLeaseRunsOut() throws {
        let cluster = try Self.cluster("queue_hosts")
        defer { cluster.close() }
        let (a, b, leaseA, leaseB) = (cluster.a, cluster.b, cluster.leaseA, cluster.leaseB)
        let id = try Self.queue("t-1", on: cluster.storageA)
        #expect(try a.acquireHost("issuer", by: leaseA, seconds: 1))
        #expect(try b.acquireHost("issuer", by: leaseB) == false)
        #expect(try b.nextItems(of: "issuer", by: leaseB).isEmpty, "a node that does not hold the host reads nothing to send")
        #expect(try b.beginSend(id, by: leaseB) == nil)
        #expect(try a.acquireHost("issuer", by: leaseA, seconds: 1), "the holder renews")
        // Let the lease run out (bounded: 3 s at most).
        var acquired = false
        for _ in 0..<30 where !acquired {
            usleep(100_000)
            acquired = try b.acquireHost("issuer", by: leaseB)
        }
        #expect(acquired)
        #expect(try a.nextItems(of: "issuer", by: leaseA).isEmpty)
        #expect(try b.nextItems(of: "issuer", by: leaseB).map(\.id) == [id])
    }

    @Test func aReleasedHostIsFreeAtOnce() throws {
        let cluster = try Self.cluster("queue_release")
        defer { cluster.close() }
        #expect(try cluster.a.acquireHost("issuer", by: cluster.leaseA, seconds: 60))
        #expect(try cluster.b.acquireHost("issuer", by: cluster.leaseB) == false)
        try cluster.a.releaseHost("issuer", by: cluster.leaseA)
        #expect(try cluster.b.acquireHost("issuer", by: cluster.leaseB))
    }

    @Test func aTakeoverKeepsTheHostsOrderAndFencesTheOldSender() throws {
        let cluster = try Self.cluster("queue_takeover")
        defer { cluster.close() }
        let (a, b, leaseA, leaseB) = (cluster.a, cluster.b, cluster.leaseA, cluster.leaseB)
        var ids: [Int64] = []
        for index in 0..<10 {
            // Both nodes queue for the host; its order is the order queued.
            ids.append(try Self.queue("t-\(index)", on: index.isMultiple(of: 2) ? cluster.storageA : cluster.storageB))
        }
        #expect(try a.acquireHost("issuer", by: leaseA, seconds: 60))
        for id in ids.prefix(3) { #expect(try a.beginSend(id, by: leaseA) == 1) }
        for id in ids.prefix(2) { #expect(try a.acknowledge(id, responseCode: "00", by: leaseA)) }
        // a stops (its third send unanswered); b sees it and takes over, once.
        let takeover = try #require(try b.takeOver(node: "a", seenEpoch: leaseA.epoch, by: leaseB))
        #expect(takeover == Takeover(items: 4, hosts: 1, claimBlocks: []))
        #expect(try a.takeOver(node: "a", seenEpoch: leaseA.epoch, by: leaseA) == nil, "the epoch moved on: no second takeover")
        // a wakes: it cannot renew, send, acknowledge, hold the host nor write any more.
        #expect(try a.renew(leaseA) == false)
        var late = StorageBatch()
        late.newForwards = [ForwardItem(channel: "issuer", kind: .reversal, transaction: "t-late", sealedMessage: [1], created: 1)]
        late.acknowledged = [(ids[2], "00")]
        #expect(throws: StorageError.self, "a fenced node's storage writes nothing") { try cluster.storageA.write(late) }
        #expect(try cluster.storageB.forwardStates(of: ["t-late", "t-2"]) == ["t-2": ForwardState(state: "pending", responseCode: nil)])
        #expect(try a.acknowledge(ids[2], responseCode: "00", by: leaseA) == false, "a stale epoch marks nothing done")
        #expect(try a.beginSend(ids[3], by: leaseA) == nil)
        #expect(try a.acquireHost("issuer", by: leaseA) == false)
        // b sends the rest in order; the one a may have sent goes out as a repeat.
        #expect(try b.acquireHost("issuer", by: leaseB))
        let rest = try b.nextItems(of: "issuer", by: leaseB)
        #expect(rest.map(\.id) == Array(ids.dropFirst(2)))
        #expect(rest.map(\.attempts) == [1, 0, 0, 0, 0, 0, 0, 0])
        for item in rest {
            #expect(try b.beginSend(item.id, by: leaseB) == item.attempts + 1)
            #expect(try b.acknowledge(item.id, responseCode: "00", by: leaseB))
        }
        #expect(try b.nextItems(of: "issuer", by: leaseB).isEmpty)
    }

    @Test func anAcknowledgedItemKeepsNoMessage() throws {
        let cluster = try Self.cluster("queue_payload")
        defer { cluster.close() }
        let (a, leaseA) = (cluster.a, cluster.leaseA)
        let id = try Self.queue("t-1", on: cluster.storageA, payload: [UInt8](repeating: 0xA5, count: 64))
        #expect(try a.acquireHost("issuer", by: leaseA))
        #expect(try a.beginSend(id, by: leaseA) == 1)
        #expect(try a.acknowledge(id, responseCode: "00", by: leaseA))
        #expect(try a.acknowledge(id, responseCode: "00", by: leaseA) == false, "acknowledged once")
        let rows = try a.exclusive { () throws(ClusterStoreError) in
            try a.rows("SELECT length(message), state, response_code, owner FROM forward WHERE id = \(id)", "read back")
        }
        let (length, state, code, owner) = try #require(rows.first).decode((Int32, String, String, String).self)
        #expect(length == 0 && state == "acknowledged" && code == "00" && owner == "a")
        #expect(try cluster.storageA.forwardStates(of: ["t-1"]) == ["t-1": ForwardState(state: "acknowledged", responseCode: "00")])
    }

    @Test func aNodeRecoversItsOwnClaimsOnlyAndASurvivorAdoptsADeadNodes() throws {
        let cluster = try Self.cluster("queue_claims")
        defer { cluster.close() }
        for storage in [cluster.storageA, cluster.storageB] {
            var batch = StorageBatch()
            batch.claims = [7]
            _ = try storage.write(batch)
        }
        #expect(try cluster.storageA.claimBlocks().count == 1)
        #expect(try cluster.storageB.claimBlocks().count == 1)
        let takeover = try #require(try cluster.b.takeOver(node: "a", seenEpoch: cluster.leaseA.epoch, by: cluster.leaseB))
        #expect(takeover.claimBlocks.count == 1)
        #expect(try cluster.storageA.claimBlocks().isEmpty)
        #expect(try cluster.storageB.claimBlocks().count == 2)
    }
}
