/// What a switch node shares with the other nodes of its cluster before it forwards a request: a
/// claim on the request, so that the same request reaching two nodes is forwarded by one.
/// `ClusterStorage` keeps the claims in PostgreSQL.
public protocol ClusterClaims: Sendable {
    /// Claims the request identified by its originator (with its message class), DE 7 and DE 11.
    /// May block: the switch calls it on a queue of its own, never on a connection's.
    func claim(originator: String, transmitted: String, trace: String) -> ClusterClaimOutcome
}

/// The outcome of a claim.
public enum ClusterClaimOutcome: Sendable, Equatable {
    /// This node forwards the request.
    case claimed
    /// Another node (or this one, earlier) holds it: answered as a duplicate transmission.
    case duplicate
    /// The claim could not be made (the database is down, or this node was fenced): answered
    /// with a system error, never forwarded unclaimed.
    case unavailable
}

/// The cluster a node belongs to: `cluster: {node: a, database: postgres://…, lease: 5s}`. The
/// nodes share their claims in that database; each keeps its own `storage:` (journal and
/// store-and-forward queue) for now.
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
