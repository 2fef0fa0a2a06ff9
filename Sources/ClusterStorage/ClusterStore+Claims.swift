import PostgresNIO

/// What identifies a request across nodes: its originator (the switch names it by the listener,
/// the message class and the listener's duplicate-key fields, DE 32, 41 and 42 by default), its
/// transmission date and time (DE 7) and its trace number (DE 11). Never card data.
public struct ClaimKey: Sendable, Hashable {
    public var originator: String
    public var transmitted: String
    public var trace: String

    public init(originator: String, transmitted: String, trace: String) {
        self.originator = originator
        self.transmitted = transmitted
        self.trace = trace
    }
}

/// The outcome of a claim.
public enum ClaimOutcome: Sendable, Equatable {
    /// This node forwards the request.
    case claimed
    /// Another claim holds the request (another node's, or this node's own earlier one): answer
    /// it as a duplicate.
    case duplicate(node: String)
    /// The node's epoch is no longer current: it was fenced and must forward nothing.
    case fenced
}

extension ClusterStore {
    /// Claims `key` for the node holding `lease`, before it forwards the request: the database's
    /// unique key makes one claim win, whichever node and connection each copy reached. A node
    /// whose epoch was raised (fenced) claims nothing.
    public func claim(_ key: ClaimKey, by lease: NodeLease) throws(ClusterStoreError) -> ClaimOutcome {
        try exclusive { () throws(ClusterStoreError) -> ClaimOutcome in
            let purpose = "claim a request"
            let inserted = try rows("""
                INSERT INTO claim (originator, transmitted, trace, node, epoch)
                SELECT \(key.originator), \(key.transmitted), \(key.trace), id, epoch FROM node
                WHERE id = \(lease.node) AND epoch = \(lease.epoch) AND state = 'alive'
                ON CONFLICT (originator, transmitted, trace) DO NOTHING
                RETURNING 1
                """, purpose)
            if inserted.count == 1 { return .claimed }
            let holder = try rows("""
                SELECT node FROM claim WHERE originator = \(key.originator) AND transmitted = \(key.transmitted) AND trace = \(key.trace)
                """, purpose)
            if let row = holder.first { return .duplicate(node: try decode(row, as: String.self, purpose)) }
            return .fenced
        }
    }
}
