import Dispatch
public import Logging
import Synchronization
public import Switch

/// A switch node in a cluster: it joins (its epoch raised), renews its lease every third of it,
/// takes over from nodes whose leases ran out (``graceSeconds`` past), and claims each request
/// before the switch forwards it. Once a renewal finds the node fenced
/// (a survivor took over while it was stopped or cut off), its claims are refused by the
/// database and its requests answered with a system error: it forwards nothing more.
///
/// `@unchecked Sendable`: every stored property is immutable and Sendable but the heartbeat timer,
/// set once here and afterwards only cancelled (a dispatch source may be cancelled from any thread).
public final class ClusterNode: ClusterClaims, @unchecked Sendable {
    public let store: ClusterStore
    public let lease: NodeLease
    /// The lease's length, renewed every third of it.
    private let leaseSeconds: Int
    private let logger: Logger
    private let heartbeat: any DispatchSourceTimer
    /// Whether the last renewal found the node fenced.
    private let fenced = Atomic<Bool>(false)

    /// Connects to the cluster's database, brings its schema up to date and joins as `configuration.node`.
    public init(configuration: ClusterConfiguration, logger: Logger = Logger(label: "payswitch.cluster")) throws(ClusterStoreError) {
        store = try ClusterStore.connect(configuration.database, logger: logger)
        try store.migrate()
        let seconds = max(1, Int(configuration.lease.components.seconds))
        lease = try store.join(node: configuration.node, leaseSeconds: seconds)
        leaseSeconds = seconds
        self.logger = logger
        heartbeat = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "payswitch.cluster-heartbeat"))
        let every = Double(seconds) / 3
        heartbeat.schedule(deadline: .now() + every, repeating: every)
        heartbeat.setEventHandler { [weak self] in self?.renew() }
        heartbeat.resume()
        logger.info("joined the cluster", metadata: ["node": "\(lease.node)", "epoch": "\(lease.epoch)"])
    }

    deinit {
        heartbeat.cancel()
    }

    /// Whether a renewal or a claim found this node fenced.
    public var isFenced: Bool { fenced.load(ordering: .relaxed) }

    public func claim(originator: String, transmitted: String, trace: String) -> ClusterClaimOutcome {
        do {
            switch try store.claim(ClaimKey(originator: originator, transmitted: transmitted, trace: trace), by: lease) {
            case .claimed: return .claimed
            case .duplicate: return .duplicate
            case .fenced:
                fenced.store(true, ordering: .relaxed)
                return .unavailable
            }
        } catch {
            logger.error("claim failed", metadata: ["error": "\(error)"])
            return .unavailable
        }
    }

    /// Stops the heartbeat and closes the connection (the lease then runs out).
    public func leave() {
        heartbeat.cancel()
        store.close()
    }

    /// How long past its lease another node is taken for dead (clocks are the database's).
    static let graceSeconds = 2.0

    private func renew() {
        do {
            let renewed = try store.renew(lease, leaseSeconds: leaseSeconds)
            guard renewed else {
                if !fenced.exchange(true, ordering: .relaxed) {
                    logger.critical("this node was fenced by another: it forwards nothing more", metadata: ["node": "\(lease.node)", "epoch": "\(lease.epoch)"])
                }
                return
            }
            // A live node takes over from the nodes whose leases ran out: the first to fence one does.
            for node in try store.nodes() where node.isAlive && node.node != lease.node && node.leaseLeft < -ClusterNode.graceSeconds {
                if let takeover = try store.takeOver(node: node.node, seenEpoch: node.epoch, by: lease) {
                    logger.warning("took over from a node whose lease ran out", metadata: [
                        "node": "\(node.node)", "epoch": "\(node.epoch)", "items": "\(takeover.items)", "hosts": "\(takeover.hosts)",
                    ])
                }
            }
        } catch {
            logger.error("lease renewal failed", metadata: ["error": "\(error)"])
        }
    }
}
