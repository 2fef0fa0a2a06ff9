import Foundation
import PostgresNIO
import Testing
import TestSupport

@testable import ClusterStorage

/// The shared store-and-forward queue: one sender per host, order kept across a takeover, and a
/// node that lost its host (fenced) sends and marks nothing.
@Suite struct ClusterQueueTests {
    static func cluster(_ database: String) throws -> (a: ClusterStore, b: ClusterStore, leaseA: NodeLease, leaseB: NodeLease) {
        let url = try TemporaryPostgres.database(database)
        let a = try ClusterStore.connect(url), b = try ClusterStore.connect(url)
        try a.migrate()
        return (a, b, try a.join(node: "a"), try b.join(node: "b"))
    }

    @Test func oneReversalPerOriginalWhicheverNodeQueuesIt() throws {
        let (a, b, leaseA, leaseB) = try Self.cluster("queue_ids")
        defer { a.close(); b.close() }
        #expect(try a.enqueue(id: "t-1/reversal", host: "issuer", payload: [1], by: leaseA))
        #expect(try b.enqueue(id: "t-1/reversal", host: "issuer", payload: [2], by: leaseB) == false)
        #expect(try a.acquireHost("issuer", by: leaseA))
        #expect(try a.nextItems(of: "issuer", by: leaseA) == [QueuedItem(id: "t-1/reversal", host: "issuer", payload: [1], attempts: 0)])
    }

    @Test func oneSenderPerHostUntilItsLeaseRunsOut() throws {
        let (a, b, leaseA, leaseB) = try Self.cluster("queue_hosts")
        defer { a.close(); b.close() }
        #expect(try a.enqueue(id: "t-1/reversal", host: "issuer", payload: [1], by: leaseA))
        #expect(try a.acquireHost("issuer", by: leaseA, seconds: 1))
        #expect(try b.acquireHost("issuer", by: leaseB) == false)
        #expect(try b.nextItems(of: "issuer", by: leaseB).isEmpty, "a node that does not hold the host reads nothing to send")
        #expect(try b.beginSend("t-1/reversal", by: leaseB) == false)
        #expect(try a.acquireHost("issuer", by: leaseA, seconds: 1), "the holder renews")
        // Let the lease run out (bounded: 3 s at most).
        var acquired = false
        for _ in 0..<30 where !acquired {
            usleep(100_000)
            acquired = try b.acquireHost("issuer", by: leaseB)
        }
        #expect(acquired)
        #expect(try a.nextItems(of: "issuer", by: leaseA).isEmpty)
        #expect(try b.nextItems(of: "issuer", by: leaseB).map(\.id) == ["t-1/reversal"])
    }

    @Test func aTakeoverKeepsTheHostsOrderAndFencesTheOldSender() throws {
        let (a, b, leaseA, leaseB) = try Self.cluster("queue_takeover")
        defer { a.close(); b.close() }
        let ids = (1...10).map { "t-\($0)/reversal" }
        for (index, id) in ids.enumerated() {
            // Both nodes queue for the host; its order is the order queued.
            let (store, lease) = index.isMultiple(of: 2) ? (a, leaseA) : (b, leaseB)
            #expect(try store.enqueue(id: id, host: "issuer", payload: Array(id.utf8), by: lease))
        }
        #expect(try a.acquireHost("issuer", by: leaseA, seconds: 60))
        for id in ids.prefix(3) { #expect(try a.beginSend(id, by: leaseA)) }
        for id in ids.prefix(2) { #expect(try a.acknowledge(id, by: leaseA)) }
        // a stops (its third send unanswered); b sees it and takes over, once.
        let takeover = try #require(try b.takeOver(node: "a", seenEpoch: leaseA.epoch, by: leaseB))
        #expect(takeover == Takeover(items: 4, hosts: 1))
        #expect(try a.takeOver(node: "a", seenEpoch: leaseA.epoch, by: leaseA) == nil, "the epoch moved on: no second takeover")
        // a wakes: it cannot renew, send, acknowledge nor queue any more.
        #expect(try a.renew(leaseA) == false)
        #expect(try a.acknowledge(ids[2], by: leaseA) == false, "a stale epoch marks nothing done")
        #expect(try a.beginSend(ids[3], by: leaseA) == false)
        #expect(try a.acquireHost("issuer", by: leaseA) == false)
        #expect(try a.enqueue(id: "t-99/reversal", host: "issuer", payload: [9], by: leaseA) == false)
        // b sends the rest in order; the one a may have sent goes out as a repeat.
        #expect(try b.acquireHost("issuer", by: leaseB))
        let rest = try b.nextItems(of: "issuer", by: leaseB)
        #expect(rest.map(\.id) == Array(ids.dropFirst(2)))
        #expect(rest.map(\.attempts) == [1, 0, 0, 0, 0, 0, 0, 0])
        for item in rest {
            #expect(try b.beginSend(item.id, by: leaseB))
            #expect(try b.acknowledge(item.id, by: leaseB))
        }
        #expect(try b.nextItems(of: "issuer", by: leaseB).isEmpty)
    }

    @Test func anAcknowledgedItemKeepsNoPayload() throws {
        let (a, b, leaseA, _) = try Self.cluster("queue_payload")
        defer { a.close(); b.close() }
        let sealed = [UInt8](repeating: 0xA5, count: 64)
        #expect(try a.enqueue(id: "t-1/reversal", host: "issuer", payload: sealed, by: leaseA))
        #expect(try a.acquireHost("issuer", by: leaseA))
        #expect(try a.beginSend("t-1/reversal", by: leaseA))
        #expect(try a.acknowledge("t-1/reversal", by: leaseA))
        #expect(try a.acknowledge("t-1/reversal", by: leaseA) == false, "acknowledged once")
        let rows = try a.exclusive { () throws(ClusterStoreError) in
            try a.rows("SELECT length(payload), state FROM saf WHERE id = 't-1/reversal'", "read back")
        }
        let (length, state) = try #require(rows.first).decode((Int32, String).self)
        #expect(length == 0 && state == "acknowledged")
    }
}
