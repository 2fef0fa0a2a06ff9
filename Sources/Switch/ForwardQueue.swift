import Dispatch
import ISO8583
import ISO20022
import Logging
import PaymentModel
import SecurityModule
import Synchronization
import Transport

/// One channel's store-and-forward queue: reversals, advices and status requests the switch owes the
/// host, sent one at a time in the order they were stored, each retried with backoff until the host answers.
///
/// Every attempt is written to storage before it is sent, so after a restart a message that may
/// have reached the host goes out as a repeat (0401, 0421). Any answer from the host acknowledges
/// the message, whatever its response code; an answer to an earlier attempt counts too, and a
/// second answer to the same message is ignored (counted as unmatched by the channel).
///
/// In a cluster the queue is the cluster's (``ClusterMembership``): every node's items for the
/// channel, sent by the one node that holds the channel's queue while its links are up. The node
/// loads them from the database while it holds it, and each send and acknowledgement is checked
/// there against its hold, so a node that lost it (fenced, stopped past its lease) sends nothing.
final class ForwardQueue: @unchecked Sendable {
    let channel: Channel
    private let writer: StorageWriter
    private let protection: DataProtection
    /// The host's ISO 8583 dialect; nil for an ISO 20022 host.
    private let dialect: Dialect?
    private let logger: Logger
    private let metrics: SwitchMetrics
    private let firstDelay: UInt64
    private let maximumDelay: UInt64
    private var timer: (any DispatchSourceTimer)?

    // Confined to the channel's loop.
    private var items: [ForwardItem] = []
    private var head = 0
    private var outstanding: (id: Int64, stan: UInt32?, references: [String], deadline: UInt64)?
    /// Waiting for an attempt to be written before sending it.
    private var preparing = false
    private var notBefore: UInt64 = 0
    private var delay: UInt64
    /// Depth and oldest item's creation (Unix ms), for the metrics sampler on another queue.
    private let summary = Mutex<(depth: Int, oldest: Int64?)>((0, nil))
    /// The cluster whose queue this is; nil when the node runs alone.
    private let cluster: (any ClusterMembership)?
    /// Where the cluster's database is called: never the channel's loop.
    private let clusterQueue: DispatchQueue
    // In a cluster, confined to the channel's loop: whether this node holds the queue, a load or
    // renewal under way, when the next is due, and whether new items wait to be loaded.
    private var holding = false
    private var refreshing = false
    private var nextRefresh: UInt64 = 0
    private var newItemsWaiting = true

    init(channel: Channel, dialect: Dialect?, writer: StorageWriter, protection: DataProtection, logger: Logger, metrics: SwitchMetrics,
         cluster: (any ClusterMembership)? = nil) {
        self.cluster = cluster
        clusterQueue = DispatchQueue(label: "payswitch.forward.\(channel.name)")
        self.channel = channel
        self.dialect = dialect
        self.writer = writer
        self.protection = protection
        self.logger = logger
        self.metrics = metrics
        firstDelay = UInt64(channel.configuration.forwardRetry.nanosecondsClamped)
        maximumDelay = UInt64(channel.configuration.forwardRetryMaximum.nanosecondsClamped)
        delay = firstDelay
    }

    /// Starts sending, beginning with what storage held pending from before (in a cluster none:
    /// the cluster's queue is loaded once this node holds it).
    func start(pending: [ForwardItem]) {
        channel.loop.queue.async { [self] in
            items = pending
            summarize()
            let timer = DispatchSource.makeTimerSource(queue: channel.loop.queue)
            timer.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50), leeway: .milliseconds(10))
            timer.setEventHandler { [weak self] in self?.tick() }
            timer.activate()
            self.timer = timer
        }
    }

    func stop() {
        channel.loop.queue.sync { timer?.cancel() }
    }

    /// A newly stored item (its id given by storage).
    func add(_ item: ForwardItem) {
        channel.loop.queue.async { [self] in
            // In a cluster it is loaded from the database by whichever node holds the queue.
            guard cluster == nil else {
                newItemsWaiting = true
                return
            }
            items.append(item)
            summarize()
            pump()
        }
    }

    /// The host answered the message stored under `id` with `code` (DE 39, or status/reason).
    func answered(id: Int64, responseCode code: String) {
        channel.loop.queue.async { [self] in
            guard head < items.count, items[head].id == id else { return }
            let item = items[head]
            acknowledge(item, responseCode: code)
            metrics.forward(channel: channel.name, kind: item.kind, event: "acknowledged")
            logger.info("store-and-forward message acknowledged", metadata: [
                "channel": "\(channel.name)", "kind": "\(item.kind.rawValue)", "transaction": "\(item.transaction)",
                "attempts": "\(item.attempts)", "code": "\(code)",
            ])
            if let outstanding, outstanding.id != id { channel.forgetForward(stan: outstanding.stan, references: outstanding.references) }
            outstanding = nil
            advance()
        }
    }

    /// Items not yet acknowledged, and the oldest one's creation time (Unix ms).
    var state: (depth: Int, oldest: Int64?) { summary.withLock { $0 } }

    private func advance() {
        head += 1
        if head > 256 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        delay = firstDelay
        notBefore = 0
        summarize()
        pump()
    }

    private func summarize() {
        let depth = items.count - head
        let oldest = depth > 0 ? items[head].created : nil
        summary.withLock { $0 = (depth, oldest) }
    }

    private func tick() {
        dispatchPrecondition(condition: .onQueue(channel.loop.queue))
        let now = DispatchTime.now().uptimeNanoseconds
        if let outstanding, now >= outstanding.deadline {
            channel.forgetForward(stan: outstanding.stan, references: outstanding.references)
            self.outstanding = nil
            backOff(now)
        }
        if cluster != nil { refreshFromCluster(now) }
        pump()
    }

    /// In a cluster: holds the queue while the channel's links are up (renewing the hold), loads
    /// the next items once those loaded are done, and gives the queue up while the links are down.
    private func refreshFromCluster(_ now: UInt64) {
        guard let cluster, !refreshing else { return }
        let exhausted = head >= items.count
        guard now >= nextRefresh || (exhausted && holding && newItemsWaiting) else { return }
        refreshing = true
        newItemsWaiting = false
        let usable = channel.isUsable, wasHolding = holding, name = channel.name
        // Loads once those loaded are done: their acknowledgements go first, on the same queue.
        let load = exhausted
        clusterQueue.async { [self] in
            let held = usable && cluster.holdQueue(of: name)
            let loaded = held && load ? cluster.queuedItems(of: name, limit: ForwardQueue.clusterLoad) : []
            if !usable && wasHolding { cluster.releaseQueue(of: name) }
            channel.loop.queue.async { [self] in
                refreshing = false
                let now = DispatchTime.now().uptimeNanoseconds
                nextRefresh = now + (held ? ForwardQueue.renewEvery : ForwardQueue.acquireEvery)
                if held != holding {
                    logger.info(held ? "this node sends the channel's store-and-forward queue" : "this node no longer sends the channel's store-and-forward queue",
                                metadata: ["channel": "\(name)"])
                }
                holding = held
                if !held {
                    dropLoaded()
                } else if load, outstanding == nil, !preparing {
                    items = loaded
                    head = 0
                    if loaded.count == ForwardQueue.clusterLoad { newItemsWaiting = true }
                }
                summarize()
                pump()
            }
        }
    }

    /// Items the cluster's database returns at a time.
    static let clusterLoad = 100
    /// How often a node that holds a channel's queue renews its hold, and how often one that does
    /// not tries to take it (a dead holder's queue is taken within this of its takeover).
    static let renewEvery: UInt64 = 1_000_000_000
    static let acquireEvery: UInt64 = 200_000_000

    /// Forgets the items loaded from the cluster: another node sends them now.
    private func dropLoaded() {
        if let outstanding { channel.forgetForward(stan: outstanding.stan, references: outstanding.references) }
        outstanding = nil
        items = []
        head = 0
        delay = firstDelay
        notBefore = 0
    }

    /// Marks `item` acknowledged: in storage, or in the cluster's database while this node holds the queue.
    private func acknowledge(_ item: ForwardItem, responseCode code: String) {
        guard let cluster else { return writer.acknowledge(id: item.id, responseCode: code) }
        clusterQueue.async { [self] in
            guard !cluster.acknowledge(item.id, responseCode: code) else { return }
            logger.warning("an answer came after this node lost the channel's queue: the node that holds it now sends the message again, as a repeat",
                           metadata: ["channel": "\(channel.name)", "transaction": "\(item.transaction)"])
        }
    }

    private func backOff(_ now: UInt64) {
        notBefore = now + delay
        delay = min(delay * 2, maximumDelay)
    }

    /// Sends the head item when nothing is outstanding, its retry time has come and a link is up.
    private func pump() {
        dispatchPrecondition(condition: .onQueue(channel.loop.queue))
        let now = DispatchTime.now().uptimeNanoseconds
        guard outstanding == nil, !preparing, head < items.count, now >= notBefore, channel.isUsable else { return }
        preparing = true
        if let cluster {
            let id = items[head].id
            clusterQueue.async { [self] in
                let attempts = cluster.beginSend(id)
                channel.loop.queue.async { [self] in
                    preparing = false
                    guard let attempts, head < items.count, items[head].id == id else {
                        // The hold was lost (or the item acknowledged meanwhile): load again.
                        holding = false
                        nextRefresh = 0
                        return dropLoaded()
                    }
                    items[head].attempts = attempts
                    send(items[head])
                }
            }
            return
        }
        items[head].attempts += 1
        let item = items[head]
        writer.recordAttempt(id: item.id, attempts: item.attempts) { [self] written in
            channel.loop.queue.async { [self] in
                preparing = false
                guard written else { return backOff(DispatchTime.now().uptimeNanoseconds) }
                send(item)
            }
        }
    }

    private func send(_ item: ForwardItem) {
        let now = DispatchTime.now().uptimeNanoseconds
        let deadline = now + UInt64(channel.configuration.requestTimeout.nanosecondsClamped)
        do {
            let stored = try protection.open(item.sealedMessage)
            if let dialect {
                var message = try ISO8583Message(decoding: stored, dialect: dialect)
                if item.attempts > 1 { message.mti = Reversal.repeated(message.mti) }
                message.set(7, NetworkManagement.transmissionDateTime())
                let stan = try channel.sendForward(id: item.id) { stan in
                    message.set(11, NetworkManagement.sixDigits(stan))
                    return try message.encoded(as: dialect)
                }
                guard let stan else { return backOff(now) }
                outstanding = (item.id, stan, [], deadline)
            } else {
                // The bank's pacs.002 names the status request, or the credit transfer asked after.
                let document = try ISO20022Support.codec.decode(stored)
                let references = [document.identifiers.messageId, document.unmapped.first { $0.key == "OrgnlGrpInf/OrgnlMsgId" }?.value].compactMap { $0 }
                guard channel.sendForward(id: item.id, references: references, payload: stored) else { return backOff(now) }
                outstanding = (item.id, nil, references, deadline)
            }
            metrics.forward(channel: channel.name, kind: item.kind, event: item.attempts > 1 ? "repeated" : "sent")
        } catch {
            // It can never be sent: acknowledged as unsendable so the queue behind it moves, and said loudly.
            logger.critical("a stored message cannot be sent: it is given up", metadata: [
                "channel": "\(channel.name)", "transaction": "\(item.transaction)", "error": "\(error)",
            ])
            acknowledge(item, responseCode: "unsendable")
            metrics.forward(channel: channel.name, kind: item.kind, event: "unsendable")
            advance()
        }
    }
}
