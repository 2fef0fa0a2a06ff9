/// A cluster as one node last saw it, for operators (`GET /cluster`): the nodes, each channel's
/// shared store-and-forward queue, and this node's own state.
public struct ClusterReport: Sendable, Hashable, Codable {
    /// This node's name and epoch.
    public var node: String
    public var epoch: Int64
    /// Whether a survivor fenced this node (it forwards nothing more and stops).
    public var fenced: Bool
    /// Takeovers this node made since it joined.
    public var takeovers: Int
    /// Seconds since the report was read from the database (it is refreshed with each heartbeat).
    public var ageSeconds: Double
    /// Journal records this node accepted and has not yet written (set by the switch).
    public var journalLag: Int
    public var nodes: [ClusterNodeReport]
    public var queues: [ClusterQueueReport]

    public init(node: String, epoch: Int64, fenced: Bool, takeovers: Int, ageSeconds: Double, journalLag: Int,
                nodes: [ClusterNodeReport], queues: [ClusterQueueReport]) {
        self.node = node
        self.epoch = epoch
        self.fenced = fenced
        self.takeovers = takeovers
        self.ageSeconds = ageSeconds
        self.journalLag = journalLag
        self.nodes = nodes
        self.queues = queues
    }
}

/// A node of the cluster as the database holds it.
public struct ClusterNodeReport: Sendable, Hashable, Codable {
    public var node: String
    public var epoch: Int64
    /// `alive` or `dead` (fenced by a survivor).
    public var state: String
    /// Seconds since its last heartbeat.
    public var heartbeatAgeSeconds: Double
    /// Seconds left on its lease (negative once it ran out).
    public var leaseLeftSeconds: Double

    public init(node: String, epoch: Int64, state: String, heartbeatAgeSeconds: Double, leaseLeftSeconds: Double) {
        self.node = node
        self.epoch = epoch
        self.state = state
        self.heartbeatAgeSeconds = heartbeatAgeSeconds
        self.leaseLeftSeconds = leaseLeftSeconds
    }
}

/// One channel's shared store-and-forward queue.
public struct ClusterQueueReport: Sendable, Hashable, Codable {
    public var channel: String
    /// Items not yet acknowledged by the host, every node's.
    public var depth: Int
    /// Seconds the oldest of them has waited.
    public var oldestSeconds: Double?
    /// The node sending it now, and how long its hold lasts without renewal; nil when none holds it.
    public var holder: String?
    public var holdLeftSeconds: Double?

    public init(channel: String, depth: Int, oldestSeconds: Double?, holder: String?, holdLeftSeconds: Double?) {
        self.channel = channel
        self.depth = depth
        self.oldestSeconds = oldestSeconds
        self.holder = holder
        self.holdLeftSeconds = holdLeftSeconds
    }
}
