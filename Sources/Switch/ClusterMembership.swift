/// What a switch node shares with the other nodes of its cluster: a claim on each request before
/// it is forwarded, so that the same request reaching two nodes is forwarded by one; and the
/// store-and-forward queue, each channel's sent by one node at a time, so that a dead node's
/// reversals go out from a survivor. `ClusterStorage` keeps both in PostgreSQL.
///
/// Every call may block on the database: the switch makes them on queues of their own, never on a
/// connection's. A call that fails (the database down, the node fenced) answers as the safe side
/// does: not claimed, not held, nothing sent, nothing marked done.
public protocol ClusterMembership: Sendable {
    /// Claims requests, each identified by its originator (with its message class), DE 7 and DE 11,
    /// in one write: their outcomes in order.
    func claim(_ requests: [ClusterClaimKey]) -> [ClusterClaimOutcome]
    /// Acquires, or renews, this node's right to send `channel`'s queue: true while it holds it.
    func holdQueue(of channel: String) -> Bool
    /// Gives up `channel`'s queue now (the node's links to it are down).
    func releaseQueue(of channel: String)
    /// The first pending items of `channel`'s queue (any node's), oldest first, while this node holds it.
    func queuedItems(of channel: String, limit: Int) -> [ForwardItem]
    /// Notes a send of item `id` about to begin: its attempts so far with this one, or nil when this
    /// node no longer holds the item's queue (nothing may be sent).
    func beginSend(_ id: Int64) -> Int?
    /// Marks item `id` acknowledged by its host: false when this node no longer holds its queue.
    func acknowledge(_ id: Int64, responseCode: String) -> Bool
    /// Calls `handler` with the claim blocks this node adopts when it takes over from a dead node:
    /// the requests that node forwarded, which the switch journals and reverses where no answer
    /// was journalled.
    func whenClaimsAdopted(_ handler: @escaping @Sendable ([Int64]) -> Void)
    /// Takes the next block of `size` STANs for `channel`'s host: blocks never overlap between
    /// nodes until the numbers wrap; nil when the database cannot be reached.
    func stanBlock(channel: String, size: Int) -> ClosedRange<Int>?
    /// The cluster as this node last read it (with each heartbeat): no database call, so the admin
    /// endpoint may ask at any rate.
    func report() -> ClusterReport
}

/// What identifies a request across a cluster's nodes: never card data.
public struct ClusterClaimKey: Sendable, Hashable {
    /// The listener, the message class and the listener's duplicate-key fields.
    public var originator: String
    /// DE 7 and DE 11.
    public var transmitted: String
    public var trace: String

    public init(originator: String, transmitted: String, trace: String) {
        self.originator = originator
        self.transmitted = transmitted
        self.trace = trace
    }
}

/// The outcome of a claim.
public enum ClusterClaimOutcome: Sendable, Equatable {
    /// This node forwards the request.
    case claimed
    /// Another node (or this one, earlier) holds it: answered with the answer the claimed request
    /// got (`storedAnswer`, sealed with the data key), or as a duplicate transmission while it has none.
    case duplicate(storedAnswer: [UInt8]?)
    /// The claim could not be made (the database is down, or this node was fenced): answered
    /// with a system error, never forwarded unclaimed.
    case unavailable
}

/// The cluster a node belongs to: `cluster: {node: a, database: postgres://…, lease: 5s}`. The
/// nodes share their claims in that database and, when `storage:` is on, their journal and
/// store-and-forward queue: a node's storage is the cluster's database.
public struct ClusterConfiguration: Sendable, Equatable {
    /// The node's name, unique in the cluster.
    public var node: String
    /// The PostgreSQL database the nodes share (`postgres://user[:password]@host[:port]/database`).
    public var database: String
    /// How long the node's lease lasts without a heartbeat (renewed every third of it).
    public var lease: Duration

    public init(node: String, database: String, lease: Duration = .seconds(5)) {
        self.node = node
        self.database = database
        self.lease = lease
    }
}
