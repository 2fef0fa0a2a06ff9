import Dispatch
public import Logging
import Metrics
import Synchronization
public import Switch

/// A switch node in a cluster: it holds its node lock and joins (its epoch raised), renews its
/// lease every third of it, and takes over from nodes that died: at once when a node's lock is
/// free (its process ended, its connection with it), or ``graceSeconds`` after its lease ran out
/// (a node stopped or cut off). It claims each request before the switch forwards it, and sends a
/// channel's store-and-forward queue while it holds it. Once a renewal finds the node fenced (a
/// survivor took over while it was stopped or cut off), the database refuses its claims, sends
/// and acknowledgements: it forwards nothing more.
///
/// `@unchecked Sendable`: every stored property is immutable and Sendable but the timers, set once
/// here and afterwards only cancelled (a dispatch source may be cancelled from any thread).
public final class ClusterNode: ClusterMembership, @unchecked Sendable {
    public let store: ClusterStore
    public let lease: NodeLease
    /// The lease's length, renewed every third of it; a channel's queue is held as long.
    let leaseSeconds: Int
    private let logger: Logger
    private let heartbeat: any DispatchSourceTimer
    private let probe: any DispatchSourceTimer
    /// Whether the last renewal found the node fenced.
    private let fenced = Atomic<Bool>(false)
    /// Takeovers this node made, for the metrics.
    private let takeovers = Atomic<Int>(0)
    /// The cluster as last read, with when (uptime nanoseconds); refreshed with each heartbeat.
    private let lastReport: Mutex<(report: ClusterReport, at: UInt64)>
    /// Told the claim blocks of each takeover (the switch settles them).
    private let adoptedClaims = Mutex<(@Sendable ([Int64]) -> Void)?>(nil)

    /// Connects to the cluster's database, brings its schema up to date and joins as
    /// `configuration.node`; refused when a running process holds that node's lock already.
    public init(configuration: ClusterConfiguration, logger: Logger = Logger(label: "payswitch.cluster")) throws(ClusterStoreError) {
        store = try ClusterStore.connect(configuration.database, logger: logger)
        try store.migrate()
        // The lock first: a survivor that sees it free may take the node for dead.
        guard try store.lockNode(configuration.node) else {
            store.close()
            throw ClusterStoreError(purpose: "join the cluster as node \(configuration.node)",
                                    reason: "a running node holds that name (its lock is taken)")
        }
        let seconds = max(1, Int(configuration.lease.components.seconds))
        lease = try store.join(node: configuration.node, leaseSeconds: seconds)
        leaseSeconds = seconds
        lastReport = Mutex((ClusterReport(node: lease.node, epoch: lease.epoch, fenced: false, takeovers: 0, ageSeconds: 0, journalLag: 0,
                                          nodes: [], queues: []), DispatchTime.now().uptimeNanoseconds))
        // A new connection (the server restarted) holds no lock: take it again before anything else.
        let name = configuration.node
        store.whenReconnected { [logger] store throws(ClusterStoreError) in
            if try !store.lockStatement(name) {
                logger.critical("after reconnecting, another connection holds this node's lock", metadata: ["node": "\(name)"])
            }
        }
        self.logger = logger
        let queue = DispatchQueue(label: "payswitch.cluster-heartbeat")
        heartbeat = DispatchSource.makeTimerSource(queue: queue)
        probe = DispatchSource.makeTimerSource(queue: queue)
        let every = Double(seconds) / 3
        heartbeat.schedule(deadline: .now() + every, repeating: every)
        heartbeat.setEventHandler { [weak self] in self?.renew() }
        heartbeat.resume()
        probe.schedule(deadline: .now() + ClusterNode.probeInterval, repeating: ClusterNode.probeInterval, leeway: .milliseconds(50))
        probe.setEventHandler { [weak self] in self?.probeNodes() }
        probe.resume()
        logger.info("joined the cluster", metadata: ["node": "\(lease.node)", "epoch": "\(lease.epoch)"])
    }

    deinit {
        heartbeat.cancel()
        probe.cancel()
    }

    /// Whether a renewal or a claim found this node fenced.
    public var isFenced: Bool { fenced.load(ordering: .relaxed) }

    /// Takeovers this node made since it joined.
    public var takeoverCount: Int { takeovers.load(ordering: .relaxed) }

    /// Stops the heartbeat and closes the connection (its lock freed: the others take over at once).
    public func leave() {
        heartbeat.cancel()
        probe.cancel()
        store.close()
    }

    /// How long past its lease another node is taken for dead (clocks are the database's).
    static let graceSeconds = 2.0
    /// How often the other nodes' locks are probed.
    static let probeInterval = DispatchTimeInterval.milliseconds(250)

    /// Seconds after a server start before another node may be taken for dead: every node had its
    /// lease and the grace to reconnect (and take its lock again).
    private var patience: Double { Double(leaseSeconds) + ClusterNode.graceSeconds }

    // MARK: ClusterMembership

    public func claim(_ requests: [ClusterClaimKey]) -> [ClusterClaimOutcome] {
        do {
            return try store.claim(requests, by: lease).map { outcome in
                switch outcome {
                case .claimed: return .claimed
                case .duplicate(_, let answer): return .duplicate(storedAnswer: answer)
                case .fenced:
                    fenced.store(true, ordering: .relaxed)
                    return .unavailable
                }
            }
        } catch {
            logger.error("claim failed", metadata: ["error": "\(error)"])
            return requests.map { _ in .unavailable }
        }
    }

    public func holdQueue(of channel: String) -> Bool {
        attempt("hold the queue of channel \(channel)", otherwise: false) { () throws(ClusterStoreError) in
            try store.acquireHost(channel, by: lease, seconds: leaseSeconds)
        }
    }

    public func releaseQueue(of channel: String) {
        attempt("release the queue of channel \(channel)", otherwise: ()) { () throws(ClusterStoreError) in
            try store.releaseHost(channel, by: lease)
        }
    }

    public func queuedItems(of channel: String, limit: Int) -> [ForwardItem] {
        attempt("read the queue of channel \(channel)", otherwise: []) { () throws(ClusterStoreError) in
            try store.nextItems(of: channel, by: lease, limit: limit)
        }
    }

    public func beginSend(_ id: Int64) -> Int? {
        attempt("note a send", otherwise: nil) { () throws(ClusterStoreError) in try store.beginSend(id, by: lease) }
    }

    public func whenClaimsAdopted(_ handler: @escaping @Sendable ([Int64]) -> Void) {
        adoptedClaims.withLock { $0 = handler }
    }

    public func report() -> ClusterReport {
        var (report, at) = lastReport.withLock { $0 }
        report.fenced = isFenced
        report.takeovers = takeoverCount
        report.ageSeconds = Double(DispatchTime.now().uptimeNanoseconds - at) / 1e9
        return report
    }

    public func stanBlock(channel: String, size: Int) -> ClosedRange<Int>? {
        attempt("take a STAN block for channel \(channel)", otherwise: nil) { () throws(ClusterStoreError) in
            try store.stanBlock(host: channel, size: size)
        }
    }

    public func acknowledge(_ id: Int64, responseCode: String) -> Bool {
        attempt("mark an item acknowledged", otherwise: false) { () throws(ClusterStoreError) in
            try store.acknowledge(id, responseCode: responseCode, by: lease)
        }
    }

    /// `body`'s result, or `fallback` (the safe side) when the database failed, said in the log.
    private func attempt<T>(_ purpose: String, otherwise fallback: T, _ body: () throws(ClusterStoreError) -> T) -> T {
        do {
            return try body()
        } catch {
            logger.error("cluster database call failed", metadata: ["call": "\(purpose)", "error": "\(error)"])
            return fallback
        }
    }

    // MARK: Liveness

    private func renew() {
        do {
            guard try store.renew(lease, leaseSeconds: leaseSeconds) else {
                Gauge(label: "payswitch_cluster_fenced").record(1)
                if !fenced.exchange(true, ordering: .relaxed) {
                    logger.critical("this node was fenced by another: it forwards nothing more", metadata: ["node": "\(lease.node)", "epoch": "\(lease.epoch)"])
                }
                return
            }
            // A node whose lease ran out (stopped, cut off) though its lock may still be held; not
            // until every node had a lease's time to reconnect after the server started.
            let nodes = try store.nodes()
            for node in nodes where node.isAlive && node.node != lease.node && node.leaseLeft < -ClusterNode.graceSeconds
                && node.serverUptime > patience {
                try takeOver(node, why: "its lease ran out")
            }
            record(nodes: nodes, queues: try store.queueReports())
        } catch {
            logger.error("lease renewal failed", metadata: ["error": "\(error)"])
        }
    }

    /// Takes over at once from a node whose process ended: its lock is free.
    private func probeNodes() {
        guard !isFenced else { return }
        do {
            // After a server restart a node's lock is free until it reconnects: not a death until it
            // renewed since, or had a lease's time to.
            for node in try store.nodes() where node.isAlive && node.node != lease.node
                && (node.renewedSinceServerStart || node.serverUptime > patience) {
                guard try !store.isRunning(node.node) else { continue }
                try takeOver(node, why: "its process ended (its lock is free)")
            }
        } catch {
            logger.error("probing the other nodes failed", metadata: ["error": "\(error)"])
        }
    }

    /// Keeps what a heartbeat read for ``report()`` and the metrics.
    private func record(nodes: [NodeStatus], queues: [ClusterQueueReport]) {
        let report = ClusterReport(node: lease.node, epoch: lease.epoch, fenced: isFenced, takeovers: takeoverCount, ageSeconds: 0, journalLag: 0,
                                   nodes: nodes.map { node in
                                       ClusterNodeReport(node: node.node, epoch: node.epoch, state: node.isAlive ? "alive" : "dead",
                                                         heartbeatAgeSeconds: node.heartbeatAge, leaseLeftSeconds: node.leaseLeft)
                                   }, queues: queues)
        lastReport.withLock { $0 = (report, DispatchTime.now().uptimeNanoseconds) }
        Gauge(label: "payswitch_cluster_nodes", dimensions: [("state", "alive")]).record(nodes.filter(\.isAlive).count)
        Gauge(label: "payswitch_cluster_nodes", dimensions: [("state", "dead")]).record(nodes.filter { !$0.isAlive }.count)
        for node in nodes {
            Gauge(label: "payswitch_cluster_node_lease_left_seconds", dimensions: [("node", node.node)]).record(node.leaseLeft)
            Gauge(label: "payswitch_cluster_node_heartbeat_age_seconds", dimensions: [("node", node.node)]).record(node.heartbeatAge)
        }
        for queue in queues {
            Gauge(label: "payswitch_cluster_queue_depth", dimensions: [("channel", queue.channel)]).record(queue.depth)
            Gauge(label: "payswitch_cluster_queue_oldest_seconds", dimensions: [("channel", queue.channel)]).record(queue.oldestSeconds ?? 0)
            Gauge(label: "payswitch_cluster_queue_held_here", dimensions: [("channel", queue.channel)]).record(queue.holder == lease.node ? 1 : 0)
        }
    }

    private func takeOver(_ node: NodeStatus, why: String) throws(ClusterStoreError) {
        guard let takeover = try store.takeOver(node: node.node, seenEpoch: node.epoch, by: lease) else { return }
        takeovers.add(1, ordering: .relaxed)
        Counter(label: "payswitch_cluster_takeovers_total").increment()
        logger.warning("took over from a node: \(why)", metadata: [
            "node": "\(node.node)", "epoch": "\(node.epoch)", "items": "\(takeover.items)", "hosts": "\(takeover.hosts)",
            "claim_blocks": "\(takeover.claimBlocks.count)",
        ])
        if !takeover.claimBlocks.isEmpty { adoptedClaims.withLock { $0 }?(takeover.claimBlocks) }
    }
}
