import Dispatch
public import Logging
public import PaymentModel
public import Routing
public import SpecFiles
import Metrics
public import SecurityModule
import Synchronization
internal import Transport

/// The switch: listeners where terminals and acquirers connect, channels to hosts, the router
/// between them, and every request in flight until it is answered exactly once.
///
/// Data flows one way: a frame read on a listener is decoded, mapped to the canonical message,
/// routed, encoded for the chosen channel and sent; the host's answer is matched, encoded back in
/// the originator's form and sent on the connection the request came on. ``InboundRequest`` and the
/// channels' in-flight tables are the only transaction state, and only this module holds them.
public final class PaymentSwitch: SwitchAdministration, @unchecked Sendable {
    // Immutable after init, except where a lock says otherwise.
    let logger: Logger
    let metrics: SwitchMetrics
    let results: ResultCodeTable
    let group: EventLoopGroup
    public let router: Router
    let listenerContexts: [ListenerContext]
    /// Channels by name, in configuration order.
    let channels: [String: Channel]
    let channelOrder: [Channel]
    private let listeners = Mutex<[Listener]>([])
    /// Open inbound connections, closed at the end of a shutdown.
    private let inbound = Mutex<[ObjectIdentifier: Connection]>([:])
    /// Originator keys of requests in flight: a second request with a key here is a duplicate.
    let duplicates = Mutex<Set<DuplicateKey>>([])
    /// Reads the configuration again for a reload; nil when it has no file to come from.
    private let reread: (@Sendable () throws(SpecError) -> SwitchConfiguration)?
    /// The configuration serving now (rules change on reload).
    private let active: Mutex<SwitchConfiguration>
    /// Set when shutting down: listeners read no new requests.
    let draining = Atomic<Bool>(false)
    private var sampler: (any DispatchSourceTimer)?
    /// The journal and store-and-forward queues; nil when the switch runs without storage.
    let durability: Durability?
    /// PIN block translation between the listeners' and the channels' zones; nil when none is configured.
    let pinTranslation: PINTranslation?
    /// What this node shares with the other nodes of its cluster (claims, the store-and-forward
    /// queue, STAN blocks); nil when it runs alone.
    let cluster: (any ClusterMembership)?
    /// Where claims are made: they wait for the database, which no connection's queue may.
    let claimQueue = DispatchQueue(label: "payswitch.cluster-claims")
    /// Requests waiting for their claims (``claimThen(_:key:_:)``).
    let pendingClaims = Mutex(PendingClaims())

    /// - Parameters:
    ///   - storage: Where the journal and the store-and-forward queue go, with the data key that
    ///     seals stored messages and hashes PANs; nil runs without either.
    ///   - keys: The key store the configuration's PIN zones name (`security:`).
    ///   - reread: Reads the configuration file again, for ``reload()``.
    ///   - cluster: The claims shared with the cluster's other nodes (`ClusterStorage`), when the
    ///     configuration names a cluster.
    public init(_ configuration: SwitchConfiguration, storage: (storage: any SwitchStorage, protection: DataProtection)? = nil,
                keys: KeyStore? = nil, logger: Logger = Logger(label: "payswitch.switch"),
                results: ResultCodeTable = .shipped, reread: (@Sendable () throws(SpecError) -> SwitchConfiguration)? = nil,
                cluster: (any ClusterMembership)? = nil) throws {
        self.cluster = cluster
        self.logger = logger
        self.results = results
        self.reread = reread
        self.active = Mutex(configuration)
        let module = keys.map { SoftwareSecurityModule(keys: $0, path: configuration.security?.keyStore) }
        self.pinTranslation = try PINTranslation(configuration, module: module)
        self.group = EventLoopGroup(count: configuration.loops ?? EventLoopGroup.defaultCount)
        self.router = Router(configuration.rules.snapshot, health: ChannelHealth(policy: configuration.health))
        let metrics = SwitchMetrics()
        self.metrics = metrics
        self.listenerContexts = configuration.listeners.enumerated().map {
            ListenerContext(index: $0, configuration: $1, requests: metrics.requestCounter(listener: $1.name))
        }
        var channels: [String: Channel] = [:]
        var order: [Channel] = []
        for (index, var channelConfiguration) in configuration.channels.enumerated() {
            // A channel without a business day of its own keeps the switch's.
            if channelConfiguration.businessDay == nil { channelConfiguration.businessDay = configuration.businessDay }
            let mac = try channelConfiguration.macKey.map { name in
                try PaymentSwitch.linkMAC(name, module: module, channel: channelConfiguration.name,
                                          grace: channelConfiguration.keyExchange?.key == .mac ? channelConfiguration.keyExchange!.grace : .zero)
            }
            let channel = try Channel(configuration: channelConfiguration, index: index, group: group, logger: logger,
                                      metrics: metrics, results: results, mac: mac)
            if let exchange = channelConfiguration.keyExchange {
                channel.keyExchange = try PaymentSwitch.keyExchange(exchange, channel: channelConfiguration, module: module)
            }
            channels[channel.name] = channel
            order.append(channel)
        }
        self.channels = channels
        self.channelOrder = order
        self.durability = try storage.map { storage in
            try Durability(storage: storage.storage, protection: storage.protection, configuration: configuration, channels: order,
                           results: results, logger: logger, metrics: metrics, cluster: cluster)
        }
        if let cluster {
            if let durability { cluster.whenClaimsAdopted { [weak durability] blocks in durability?.settleAdopted(blocks) } }
            for channel in order {
                let name = channel.name
                channel.stanBlocks = { cluster.stanBlock(channel: name, size: Channel.stanBlockSize) }
            }
        }
        for channel in order {
            channel.onComplete = { [weak self, unowned channel] entry, completion in self?.channelDone(channel, entry, completion) }
            if let queue = durability?.forwardQueues[channel.name] {
                channel.onForwardAnswer = { [weak queue] id, code in queue?.answered(id: id, responseCode: code) }
            }
            if durability != nil {
                channel.onReconciliationRequest = { [weak self, unowned channel] request, connection in
                    self?.answerReconciliation(request, from: channel, on: connection)
                }
                channel.onCutover = { [weak self, unowned channel] date, connection in self?.sendTotals(of: date, on: channel, connection: connection) }
            }
            channel.onReconciliationAnswer = { [weak self, unowned channel] answer in self?.reconciliationAnswered(answer, channel: channel) }
        }
    }

    /// The configuration serving now.
    public var configuration: SwitchConfiguration { active.withLock { $0 } }

    /// A channel's key exchange: new PIN keys are kept by the security module (in the key store file).
    private static func keyExchange(_ exchange: KeyExchangeConfiguration, channel: ChannelConfiguration,
                                    module: (any PaymentSecurityModule)?) throws -> KeyExchange {
        guard let module, let changed = exchange.key == .pin ? channel.pin?.key : channel.macKey else {
            throw SwitchError("channel \(channel.name): key exchange needs the key store and the channel's \(exchange.key) key")
        }
        do {
            return try KeyExchange(module: module, zoneMaster: exchange.zoneMasterKey, changing: changed, field: exchange.field, every: exchange.every)
        } catch {
            throw SwitchError("channel \(channel.name): zone master key \(exchange.zoneMasterKey): \(error.reason)")
        }
    }

    /// A channel's link MAC.
    private static func linkMAC(_ name: String, module: (any PaymentSecurityModule)?, channel: String, grace: Duration) throws -> LinkMAC {
        guard let module else { throw SwitchError("channel \(channel) has a MAC key but no key store is open (security: key-store)") }
        do {
            return try LinkMAC(key: name, module: module, grace: grace)
        } catch {
            throw SwitchError("channel \(channel): MAC key \(name): \(error.reason)")
        }
    }

    /// Starts the channels (links connect and sign on) and the listeners.
    ///
    /// - Returns: Each listener's bound port, by name (a configured port 0 picks a free one).
    @discardableResult
    public func start() throws -> [String: UInt16] {
        for channel in channelOrder { channel.start() }
        try durability?.start(channels: channels)
        var ports: [String: UInt16] = [:]
        for context in listenerContexts {
            let configuration = context.configuration
            let tls = try configuration.tls.map { try TLSContext($0, isClient: false) }
            let listener = Listener(group: group, format: configuration.framing, tls: tls, options: configuration.options,
                                    logger: logger) { [weak self] connection in
                let session = InboundSession()
                self?.inbound.withLock { $0[ObjectIdentifier(connection)] = connection }
                return Connection.Handlers(
                    onFrame: { [weak self] connection, frame in self?.received(frame, on: connection, context, session) },
                    onClose: { [weak self] connection, _ in _ = self?.inbound.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) } })
            }
            ports[configuration.name] = try listener.start()
            listeners.withLock { $0.append(listener) }
            logger.info("listening", metadata: [
                "listener": "\(configuration.name)", "port": "\(ports[configuration.name]!)", "wire": "\(configuration.wire.name)",
            ])
        }
        startSampler()
        return ports
    }

    /// Stops accepting and reading new requests, waits up to `grace` for answers in flight,
    /// declines what is left with a timeout, signs off and closes the links.
    public func shutdown(grace: Duration? = nil) {
        let grace = grace ?? configuration.shutdownGrace
        draining.store(true, ordering: .releasing)
        for listener in listeners.withLock({ $0 }) { listener.stop() }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, channelOrder.contains(where: { $0.inFlightCount > 0 }) {
            usleep(10_000)
        }
        for channel in channelOrder { channel.declineAll(with: .issuerTimeout) }
        // Reversals of what was declined are stored before the declines go out; the journal written.
        durability?.writer.flush()
        // Let the declines reach their connections' queues before the links go.
        usleep(50_000)
        durability?.stop()
        for channel in channelOrder { channel.stop() }
        for connection in inbound.withLock({ Array($0.values) }) { connection.execute { $0.close() } }
        sampler?.cancel()
        listeners.withLock { $0.removeAll() }
        logger.info("switch stopped")
    }

    /// Samples in-flight counts and breaker states into gauges once a second.
    private func startSampler() {
        let timer = DispatchSource.makeTimerSource(queue: group.loops[0].queue)
        timer.schedule(deadline: .now() + .seconds(1), repeating: .seconds(1), leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            let now = ContinuousClock.now
            for channel in channelOrder {
                metrics.inFlight(channel: channel.name, count: channel.inFlightCount)
                let state = router.health.state(channel: channel.name, at: now)
                metrics.breaker(channel: channel.name, state: state == .closed ? 0 : state == .halfOpen ? 1 : 2)
            }
            if let durability {
                metrics.journalDepth(durability.writer.depth)
                durability.sampleQueues()
            }
        }
        timer.activate()
        sampler = timer
    }

    // MARK: SwitchAdministration

    public func channelReports() -> [ChannelReport] {
        let now = ContinuousClock.now
        return channelOrder.map { channel in
            ChannelReport(name: channel.name, breaker: router.health.state(channel: channel.name, at: now).rawValue,
                          inFlight: channel.inFlightCount, maximumInFlight: channel.configuration.maximumInFlight,
                          successRate: router.health.successRate(channel: channel.name, at: now), links: channel.linkReports())
        }
    }

    public func clusterReport() -> ClusterReport? {
        guard var report = cluster?.report() else { return nil }
        report.journalLag = durability?.writer.depth ?? 0
        return report
    }

    public var isReady: Bool {
        let groups = Dictionary(grouping: channelOrder, by: { $0.configuration.group })
        return groups.values.allSatisfy { members in members.contains { $0.isUsable } }
    }

    public func reload() -> ReloadOutcome {
        let outcome = reloadNow()
        metrics.reload(accepted: outcome.accepted)
        if outcome.accepted {
            logger.info("reloaded", metadata: ["rules": "\(outcome.rulesVersion)"])
        } else {
            logger.error("reload refused; the running rules keep serving", metadata: ["problems": "\(outcome.problems.joined(separator: "; "))"])
        }
        return outcome
    }

    private func reloadNow() -> ReloadOutcome {
        let running = router.snapshot.version
        guard let reread else {
            return ReloadOutcome(accepted: false, rulesVersion: running, problems: ["the switch runs on the embedded configuration: nothing to re-read"])
        }
        let fresh: SwitchConfiguration
        do {
            fresh = try reread()
        } catch {
            return ReloadOutcome(accepted: false, rulesVersion: running, problems: ["\(error)"])
        }
        let current = configuration
        var problems: [String] = []
        // Channels and listeners apply at start: a reload that changes them is refused rather than
        // accepted and silently not applied.
        let before = current.channels.map(ChannelIdentity.init)
        let after = fresh.channels.map(ChannelIdentity.init)
        if before != after {
            problems.append("channels changed (\(ChannelIdentity.difference(before, after))): restart the switch to apply channel changes")
        }
        if current.listeners.map(ListenerIdentity.init) != fresh.listeners.map(ListenerIdentity.init) {
            problems.append("listeners changed: restart the switch to apply listener changes")
        }
        guard problems.isEmpty else { return ReloadOutcome(accepted: false, rulesVersion: running, problems: problems) }
        router.activate(fresh.rules.snapshot)
        active.withLock { $0.rules = fresh.rules }
        return ReloadOutcome(accepted: true, rulesVersion: fresh.rules.snapshot.version, problems: [])
    }
}

/// What identifies a channel's connections: a change here cannot be applied without a restart.
struct ChannelIdentity: Equatable {
    let name: String
    let addresses: [String]
    let wire: String
    let framing: String
    /// Every other setting, as text: timeouts, limits, sign-on and echo, TLS.
    let settings: String

    init(_ channel: ChannelConfiguration) {
        name = channel.name
        addresses = channel.addresses.map(\.description)
        wire = channel.wire.name
        framing = "\(channel.framing)"
        settings = "\(channel.group) \(channel.requestTimeout) \(channel.maximumInFlight) \(channel.signOn) \(String(describing: channel.echoInterval)) "
            + "\(channel.maximumMissedEchoes) \(channel.connectTimeout) \(String(describing: channel.tls)) \(channel.reversal) \(channel.forwardRetry) "
            + "\(channel.forwardRetryMaximum) \(String(describing: channel.pin)) \(String(describing: channel.macKey)) "
            + "\(String(describing: channel.keyExchange))"
    }

    static func difference(_ before: [ChannelIdentity], _ after: [ChannelIdentity]) -> String {
        let added = after.filter { channel in !before.contains(channel) }.map(\.name)
        let removed = before.filter { channel in !after.contains(channel) }.map(\.name)
        return (added.map { "+" + $0 } + removed.map { "-" + $0 }).joined(separator: ", ")
    }
}

/// What a listener was started with: a change here cannot be applied without a restart.
struct ListenerIdentity: Equatable {
    let text: String

    init(_ listener: ListenerConfiguration) {
        text = "\(listener.name) \(listener.address) \(listener.framing) \(listener.wire.name) \(String(describing: listener.tls)) "
            + "\(listener.options.maximumConnections) \(listener.options.maximumConnectionsPerAddress) "
            + "\(String(describing: listener.options.connection.idleTimeout)) \(String(describing: listener.options.connection.handshakeTimeout)) "
            + "\(listener.duplicateKeyFields) \(String(describing: listener.pin))"
    }
}

/// A listener's settings and names, shared by its connections.
final class ListenerContext: Sendable {
    let index: Int
    let configuration: ListenerConfiguration
    /// The listener's ISO 8583 dialect and mapping; nil for ISO 20022.
    let iso8583: ISO8583Side?
    /// Requests read on the listener (``SwitchMetrics/requestCounter(listener:)``).
    let requests: Counter
    var name: String { configuration.name }

    init(index: Int, configuration: ListenerConfiguration, requests: Counter) {
        self.index = index
        self.configuration = configuration
        self.iso8583 = ISO8583Side(configuration.wire)
        self.requests = requests
    }
}

/// Per inbound connection: what it did wrong so far (touched only on its queue).
final class InboundSession: @unchecked Sendable {
    var undecodable = 0
    /// Undecodable frames a connection may send before it is closed.
    static let undecodableLimit = 16
}

#if canImport(Glibc)
import Glibc
#endif
