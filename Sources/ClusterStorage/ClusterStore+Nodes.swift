import PostgresNIO

/// A node's membership as the database granted it: the epoch its writes must name.
public struct NodeLease: Sendable, Equatable {
    public var node: String
    public var epoch: Int64
}

extension ClusterStore {
    /// Joins the cluster as `node` (again, after a restart): its epoch is raised, so that whatever
    /// an earlier run of the same node still holds is fenced off, and its lease starts.
    public func join(node: String, leaseSeconds: Int = 5) throws(ClusterStoreError) -> NodeLease {
        try exclusive { () throws(ClusterStoreError) -> NodeLease in
            let purpose = "join the cluster as node \(node)"
            let lease = "\(leaseSeconds) seconds"
            let joined = try rows("""
                INSERT INTO node (id, epoch, state, heartbeat_at, lease_until) VALUES (\(node), 1, 'alive', now(), now() + \(lease)::interval)
                ON CONFLICT (id) DO UPDATE SET epoch = node.epoch + 1, state = 'alive', heartbeat_at = now(), lease_until = now() + \(lease)::interval
                RETURNING epoch
                """, purpose)
            guard let row = joined.first else { throw ClusterStoreError(purpose: purpose, reason: "the database returned no epoch") }
            return NodeLease(node: node, epoch: try decode(row, as: Int64.self, purpose))
        }
    }

    /// Renews the lease (the heartbeat): false when the node was fenced, its epoch raised by a
    /// survivor; it must then send nothing more and mark nothing done.
    public func renew(_ lease: NodeLease, leaseSeconds: Int = 5) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            let renewed = try rows("""
                UPDATE node SET heartbeat_at = now(), lease_until = now() + \("\(leaseSeconds) seconds")::interval
                WHERE id = \(lease.node) AND epoch = \(lease.epoch) AND state = 'alive' RETURNING 1
                """, "renew the lease of node \(lease.node)")
            return renewed.count == 1
        }
    }

    /// Fences `node` as seen at `epoch` (dead, its epoch raised): true for the one caller whose
    /// write changed the row; another survivor that saw the same epoch gets false and leaves the
    /// takeover to the first.
    public func fence(node: String, seenEpoch epoch: Int64) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in try fenceStatement(node: node, seenEpoch: epoch, "fence node \(node)") }
    }

    /// The fence itself, for a caller that holds the connection (``fence(node:seenEpoch:)``, a takeover).
    func fenceStatement(node: String, seenEpoch epoch: Int64, _ purpose: String) throws(ClusterStoreError) -> Bool {
        try rows("UPDATE node SET state = 'dead', epoch = epoch + 1 WHERE id = \(node) AND epoch = \(epoch) RETURNING 1", purpose).count == 1
    }

    /// Takes the lock only a running process of `node` holds, on this connection (PostgreSQL frees
    /// it the moment the connection ends, as when the process is killed): false when another
    /// connection holds it.
    public func lockNode(_ node: String) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in try lockStatement(node) }
    }

    /// The lock itself, for a caller that holds the connection (``lockNode(_:)``, a reconnection).
    func lockStatement(_ node: String) throws(ClusterStoreError) -> Bool {
        let purpose = "lock node \(node)"
        let rows = try rows("SELECT pg_try_advisory_lock(\(ClusterStore.nodeLockSpace), hashtext(\(node)))", purpose)
        return try rows.first.map { row throws(ClusterStoreError) in try decode(row, as: Bool.self, purpose) } ?? false
    }

    /// Whether a process of `node` holds its lock now (another connection than this one): false
    /// once its connection ended, a death seen at once rather than when its lease runs out.
    public func isRunning(_ node: String) throws(ClusterStoreError) -> Bool {
        try exclusive { () throws(ClusterStoreError) -> Bool in
            guard try lockStatement(node) else { return true }
            try rows("SELECT pg_advisory_unlock(\(ClusterStore.nodeLockSpace), hashtext(\(node)))", "probe node \(node)")
            return false
        }
    }

    /// The first key of the nodes' advisory locks (the second is the node's name hashed).
    static let nodeLockSpace: Int32 = 0x7073_6E64  // "psnd"

    /// The nodes, by id: epoch, whether alive, and the seconds since the heartbeat and left on the lease.
    public func nodes() throws(ClusterStoreError) -> [NodeStatus] {
        try exclusive { () throws(ClusterStoreError) -> [NodeStatus] in
            let purpose = "list the nodes"
            let found = try rows("""
                SELECT id, epoch, state = 'alive', extract(epoch FROM now() - heartbeat_at)::float8, extract(epoch FROM lease_until - now())::float8,
                       extract(epoch FROM now() - pg_postmaster_start_time())::float8, heartbeat_at > pg_postmaster_start_time()
                FROM node ORDER BY id
                """, purpose)
            var nodes: [NodeStatus] = []
            for row in found {
                do {
                    let (id, epoch, alive, heartbeatAge, leaseLeft, serverUptime, renewedSinceStart) =
                        try row.decode((String, Int64, Bool, Double, Double, Double, Bool).self)
                    nodes.append(NodeStatus(node: id, epoch: epoch, isAlive: alive, heartbeatAge: heartbeatAge, leaseLeft: leaseLeft,
                                            serverUptime: serverUptime, renewedSinceServerStart: renewedSinceStart))
                } catch {
                    throw ClusterStoreError(purpose: purpose, error: error)
                }
            }
            return nodes
        }
    }
}

/// A node as the database sees it.
public struct NodeStatus: Sendable, Equatable {
    public var node: String
    public var epoch: Int64
    public var isAlive: Bool
    /// Seconds since its last heartbeat.
    public var heartbeatAge: Double
    /// Seconds left on its lease (negative once it ran out).
    public var leaseLeft: Double
    /// Seconds since the database server started: after a restart every node needs a lease's time
    /// to reconnect before any is taken for dead.
    public var serverUptime: Double
    /// Whether its heartbeat came since the server started (its lock, taken again, means something).
    public var renewedSinceServerStart: Bool
}
