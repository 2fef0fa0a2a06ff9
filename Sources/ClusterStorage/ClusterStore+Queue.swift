internal import NIOCore
import PostgresNIO

/// An item of the shared store-and-forward queue, as its sending node reads it.
public struct QueuedItem: Sendable, Equatable {
    /// Deterministic: the transaction and the kind (`t-42/reversal`).
    public var id: String
    public var host: String
    /// Sealed by the switch; no track data, PIN block or card verification value is ever queued.
    public var payload: [UInt8]
    /// Sends begun so far, by any node: from the second on (or after a takeover) a repeat
    /// (0401, 0421) goes out, since the host may have seen an earlier one.
    public var attempts: Int
}

/// What a survivor took over from a fenced node.
public struct Takeover: Sendable, Equatable {
    /// Its queued items, now the survivor's.
    public var items: Int
    /// The hosts it was sending to, now free to acquire.
    public var hosts: Int
}

extension ClusterStore {
    /// Queues `payload` for `host` under `id`, for the node holding `lease`: false when an item of
    /// that id is already queued (by any node), or when the node was fenced.
    public func enqueue(id: String, host: String, payload: [UInt8], by lease: NodeLease) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            try rows("""
                INSERT INTO saf (id, host, payload, owner, epoch)
                SELECT \(id), \(host), \(ByteBuffer(bytes: payload)), id, epoch FROM node WHERE id = \(lease.node) AND epoch = \(lease.epoch) AND state = 'alive'
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """, "queue an item for host \(host)").count == 1
        }
    }

    /// Acquires (or renews) the right to send `host`'s queue, for `seconds`: true when the node
    /// holding `lease` has it. It is free when nobody holds it, when its lease ran out, or when
    /// its holder's epoch is no longer current (fenced).
    public func acquireHost(_ host: String, by lease: NodeLease, seconds: Int = 5) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            let interval = "\(seconds) seconds"
            return try rows("""
                INSERT INTO saf_host (host, owner, epoch, lease_until)
                SELECT \(host), id, epoch, now() + \(interval)::interval FROM node WHERE id = \(lease.node) AND epoch = \(lease.epoch) AND state = 'alive'
                ON CONFLICT (host) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch, lease_until = excluded.lease_until
                WHERE (saf_host.owner = excluded.owner AND saf_host.epoch = excluded.epoch) OR saf_host.lease_until < now()
                   OR NOT EXISTS (SELECT 1 FROM node WHERE node.id = saf_host.owner AND node.epoch = saf_host.epoch AND node.state = 'alive')
                RETURNING 1
                """, "acquire host \(host)").count == 1
        }
    }

    /// The next pending items of `host`, oldest first, when the node holding `lease` holds the
    /// host; none otherwise.
    public func nextItems(of host: String, by lease: NodeLease, limit: Int = 100) throws(ClusterStoreError) -> [QueuedItem] {
        try exclusive { () throws(ClusterStoreError) -> [QueuedItem] in
            let purpose = "read the queue of host \(host)"
            return try rows("""
                SELECT id, payload, attempts FROM saf
                WHERE host = \(host) AND state = 'pending' AND payswitch_holds_host(host, \(lease.node), \(lease.epoch))
                ORDER BY seq LIMIT \(limit)
                """, purpose).map { row throws(ClusterStoreError) in
                do {
                    let (id, payload, attempts) = try row.decode((String, ByteBuffer, Int).self)
                    return QueuedItem(id: id, host: host, payload: Array(payload.readableBytesView), attempts: attempts)
                } catch {
                    throw ClusterStoreError(purpose: purpose, error: error)
                }
            }
        }
    }

    /// Notes a send of item `id` about to begin (written before the bytes leave): false, and
    /// nothing may be sent, when the node holding `lease` no longer holds the item's host.
    public func beginSend(_ id: String, by lease: NodeLease) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            try rows("""
                UPDATE saf SET attempts = attempts + 1 WHERE id = \(id) AND state = 'pending' AND payswitch_holds_host(host, \(lease.node), \(lease.epoch))
                RETURNING 1
                """, "note a send of a queued item").count == 1
        }
    }

    /// Marks item `id` acknowledged by its host and empties its payload: false when the node
    /// holding `lease` no longer holds the item's host (it lost it to a takeover, and marks
    /// nothing done).
    public func acknowledge(_ id: String, by lease: NodeLease) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            try rows("""
                UPDATE saf SET state = 'acknowledged', payload = ''::bytea WHERE id = \(id) AND state = 'pending' AND payswitch_holds_host(host, \(lease.node), \(lease.epoch))
                RETURNING 1
                """, "acknowledge a queued item").count == 1
        }
    }

    /// Takes over from `node`, seen at `epoch`, for the node holding `lease`: fences it, frees the
    /// hosts it was sending to and adopts its queued items, in one transaction. Nil when another
    /// survivor fenced it first (or its epoch moved on): that one takes over.
    public func takeOver(node: String, seenEpoch epoch: Int64, by lease: NodeLease) throws(ClusterStoreError) -> Takeover? {
        try transaction("take over from node \(node)") { () throws(ClusterStoreError) -> Takeover? in
            let purpose = "take over from node \(node)"
            guard try fenceStatement(node: node, seenEpoch: epoch, purpose) else { return nil }
            let hosts = try rows("DELETE FROM saf_host WHERE owner = \(node) RETURNING 1", purpose).count
            let items = try rows("""
                UPDATE saf SET owner = \(lease.node), epoch = \(lease.epoch) WHERE owner = \(node) AND state = 'pending' RETURNING 1
                """, purpose).count
            return Takeover(items: items, hosts: hosts)
        }
    }
}
