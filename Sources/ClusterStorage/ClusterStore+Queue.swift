internal import NIOCore
import PostgresNIO
public import Switch

/// What a survivor took over from a fenced node.
public struct Takeover: Sendable, Equatable {
    /// Its pending store-and-forward items, now the survivor's.
    public var items: Int
    /// The hosts it was sending to, now free to acquire.
    public var hosts: Int
    /// Its claim blocks (requests it forwarded, perhaps never journalled), now the survivor's to settle.
    public var claimBlocks: [Int64]
}

/// The shared store-and-forward queue: the `forward` table the switch's storage writes (each item
/// under a deterministic id, its transaction and kind), sent per host by one node at a time.
extension ClusterStore {
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

    /// Gives up `host` now (the node's link to it is down), so that another node may send its queue.
    public func releaseHost(_ host: String, by lease: NodeLease) throws(ClusterStoreError) {
        try exclusive { () throws(ClusterStoreError) in
            try rows("DELETE FROM saf_host WHERE host = \(host) AND owner = \(lease.node) AND epoch = \(lease.epoch)", "release host \(host)")
        }
    }

    /// The first pending items of `host` (any node's), oldest first, when the node holding `lease`
    /// holds the host; none otherwise.
    public func nextItems(of host: String, by lease: NodeLease, limit: Int = 100) throws(ClusterStoreError) -> [ForwardItem] {
        try exclusive { () throws(ClusterStoreError) -> [ForwardItem] in
            let purpose = "read the queue of host \(host)"
            return try rows("""
                SELECT id, kind, txn, message, attempts, created FROM forward
                WHERE channel = \(host) AND state = 'pending' AND payswitch_holds_host(channel, \(lease.node), \(lease.epoch))
                ORDER BY id LIMIT \(limit)
                """, purpose).map { row throws(ClusterStoreError) in
                do {
                    let (id, kind, transaction, message, attempts, created) = try row.decode((Int64, String, String, ByteBuffer, Int, Int64).self)
                    return ForwardItem(id: id, channel: host, kind: ForwardItem.Kind(rawValue: kind) ?? .reversal, transaction: transaction,
                                       sealedMessage: Array(message.readableBytesView), attempts: attempts, created: created)
                } catch {
                    throw ClusterStoreError(purpose: purpose, error: error)
                }
            }
        }
    }

    /// Notes a send of item `id` about to begin (written before the bytes leave): its attempts so
    /// far, this one included, or nil, and nothing may be sent, when the node holding `lease` no
    /// longer holds the item's host or the item is no longer pending.
    public func beginSend(_ id: Int64, by lease: NodeLease) throws(ClusterStoreError) -> Int? {
        try exclusive { () throws(ClusterStoreError) -> Int? in
            let purpose = "note a send of a queued item"
            let updated = try rows("""
                UPDATE forward SET attempts = attempts + 1
                WHERE id = \(id) AND state = 'pending' AND payswitch_holds_host(channel, \(lease.node), \(lease.epoch))
                RETURNING attempts
                """, purpose)
            return try updated.first.map { row throws(ClusterStoreError) in Int(try decode(row, as: Int32.self, purpose)) }
        }
    }

    /// Marks item `id` acknowledged by its host (`responseCode`, DE 39) and empties its message:
    /// false when the node holding `lease` no longer holds the item's host (it lost it to a
    /// takeover, and marks nothing done: the new holder sends the item again, as a repeat).
    public func acknowledge(_ id: Int64, responseCode: String, by lease: NodeLease) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            try rows("""
                UPDATE forward SET state = 'acknowledged', response_code = \(responseCode), message = ''::bytea,
                       acknowledged = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
                WHERE id = \(id) AND state = 'pending' AND payswitch_holds_host(channel, \(lease.node), \(lease.epoch))
                RETURNING 1
                """, "acknowledge a queued item").count == 1
        }
    }

    /// Each channel's shared queue: its depth, its oldest item's wait, and the node holding it.
    public func queueReports() throws(ClusterStoreError) -> [ClusterQueueReport] {
        try exclusive { () throws(ClusterStoreError) -> [ClusterQueueReport] in
            let purpose = "summarize the store-and-forward queues"
            var reports: [String: ClusterQueueReport] = [:]
            do {
                for row in try rows("""
                    SELECT channel, count(*), ((extract(epoch FROM clock_timestamp()) * 1000 - min(created)) / 1000)::float8 FROM forward
                    WHERE state = 'pending' GROUP BY channel
                    """, purpose) {
                    let (channel, depth, oldest) = try row.decode((String, Int64, Double).self)
                    reports[channel] = ClusterQueueReport(channel: channel, depth: Int(depth), oldestSeconds: max(0, oldest), holder: nil, holdLeftSeconds: nil)
                }
                for row in try rows("SELECT host, owner, extract(epoch FROM lease_until - now())::float8 FROM saf_host", purpose) {
                    let (channel, holder, left) = try row.decode((String, String, Double).self)
                    guard left > 0 else { continue }
                    reports[channel, default: ClusterQueueReport(channel: channel, depth: 0, oldestSeconds: nil, holder: nil, holdLeftSeconds: nil)]
                        .holder = holder
                    reports[channel]?.holdLeftSeconds = left
                }
            } catch {
                throw ClusterStoreError(purpose: purpose, error: error)
            }
            return reports.values.sorted { $0.channel < $1.channel }
        }
    }

    /// Takes over from `node`, seen at `epoch`, for the node holding `lease`: fences it, frees the
    /// hosts it was sending to, and adopts its pending items and its claim blocks, in one
    /// transaction. Nil when another survivor fenced it first (or its epoch moved on): that one takes over.
    public func takeOver(node: String, seenEpoch epoch: Int64, by lease: NodeLease) throws(ClusterStoreError) -> Takeover? {
        try transaction("take over from node \(node)") { () throws(ClusterStoreError) -> Takeover? in
            let purpose = "take over from node \(node)"
            guard try fenceStatement(node: node, seenEpoch: epoch, purpose) else { return nil }
            let hosts = try rows("DELETE FROM saf_host WHERE owner = \(node) RETURNING 1", purpose).count
            let items = try rows("""
                UPDATE forward SET owner = \(lease.node), epoch = \(lease.epoch) WHERE owner = \(node) AND state = 'pending' RETURNING 1
                """, purpose).count
            let claimBlocks = try rows("UPDATE claim_block SET owner = \(lease.node) WHERE owner = \(node) RETURNING id", purpose)
                .map { row throws(ClusterStoreError) in try decode(row, as: Int64.self, purpose) }
            return Takeover(items: items, hosts: hosts, claimBlocks: claimBlocks)
        }
    }
}
