import Dispatch
import ISO8583
import ISO20022
import Logging
import PaymentModel
import SecurityModule
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the switch keeps durable: the writer to storage, the data key, and a store-and-forward
/// queue per channel.
final class Durability: Sendable {
    let writer: StorageWriter
    let protection: DataProtection
    let forwardQueues: [String: ForwardQueue]
    private let logger: Logger
    private let metrics: SwitchMetrics
    /// The forward alarm's bound, in milliseconds.
    private let alarmAfterMilliseconds: Int64
    /// Channels whose oldest forward item is overdue now.
    private let overdueChannels = Mutex(Set<String>())

    /// The cluster whose store-and-forward queue the channels share; nil when the node runs alone.
    private let cluster: (any ClusterMembership)?

    init(storage: any SwitchStorage, protection: DataProtection, configuration: SwitchConfiguration, channels: [Channel],
         results: ResultCodeTable, logger: Logger, metrics: SwitchMetrics, cluster: (any ClusterMembership)? = nil) throws {
        self.cluster = cluster
        // A store written under another key is refused before anything is sent or written.
        try storage.bind(keyCheck: Durability.keyCheck(protection))
        let settings = configuration.storage ?? StorageConfiguration(path: "", keyFile: "")
        alarmAfterMilliseconds = Int64(clamping: settings.forwardAlarmAfter.nanosecondsClamped / 1_000_000)
        self.protection = protection
        self.logger = logger
        self.metrics = metrics
        writer = try StorageWriter(storage: storage, capacity: settings.journalCapacity, protection: protection,
                                   keepMessages: settings.journalMessages, results: results, businessDay: configuration.businessDay?.day ?? BusinessDay(),
                                   node: configuration.cluster?.node, logger: logger, metrics: metrics)
        var queues: [String: ForwardQueue] = [:]
        for channel in channels {
            queues[channel.name] = ForwardQueue(channel: channel, dialect: channel.iso8583?.dialect, writer: writer, protection: protection,
                                                logger: logger, metrics: metrics, cluster: cluster)
        }
        forwardQueues = queues
    }

    /// The value a store keeps to recognise the data key it was written under.
    static func keyCheck(_ protection: DataProtection) -> String {
        Array("payswitch data key check".utf8).withUnsafeBufferPointer { protection.lookupHash(ofDigits: $0) }
    }

    /// Settles what a previous run left claimed, then loads what storage holds pending and starts
    /// each channel's queue on it.
    func start(channels: [String: Channel]) throws {
        for (name, stan) in try writer.storage.lastHostStans() { channels[name]?.continueStans(after: stan) }
        try recoverClaims(channels: channels)
        // A cluster's queues load what they send from the cluster's database while they hold it.
        let pending = cluster == nil ? try writer.storage.pendingForwards() : []
        var byChannel: [String: [ForwardItem]] = [:]
        for item in pending { byChannel[item.channel, default: []].append(item) }
        for (channel, items) in byChannel where forwardQueues[channel] == nil {
            // Kept in storage, never dropped: they go out once the channel is configured again.
            logger.critical("stored messages for a channel that is not configured: they wait", metadata: [
                "channel": "\(channel)", "count": "\(items.count)",
            ])
        }
        if !pending.isEmpty { logger.info("store-and-forward messages pending from before", metadata: ["count": "\(pending.count)"]) }
        for (name, queue) in forwardQueues { queue.start(pending: byChannel[name] ?? []) }
    }

    /// Settles the claim blocks this node adopted from a dead node of its cluster, as a restart
    /// settles its own: off the caller's queue, since it reads the journal.
    func settleAdopted(_ blocks: [Int64]) {
        DispatchQueue.global().async { [self] in
            var channels: [String: Channel] = [:]
            for (name, queue) in forwardQueues { channels[name] = queue.channel }
            do {
                try recoverClaims(channels: channels, only: Set(blocks))
            } catch {
                // They stay this node's: its next start settles them.
                logger.critical("cannot settle the requests a dead node forwarded", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Requests a previous run (or a dead node, `only` its blocks) forwarded and never finished:
    /// each is journalled as interrupted, and an authorization or financial one is reversed (the
    /// host may have approved it). Claims for a channel no longer configured stay, and are said loudly.
    private func recoverClaims(channels: [String: Channel], only: Set<Int64>? = nil) throws {
        let (claims, blocks) = try writer.storage.openClaims(protection: protection, only: only)
        guard !blocks.isEmpty else { return }
        var batch = StorageBatch()
        batch.releasedClaimBlocks = blocks
        var waiting: [Claim] = []
        var journal = JournalBlock.Builder()
        let hasher = try protection.lookupHasher()
        for claim in claims {
            guard let channel = channels[claim.channel] else {
                logger.critical("a claim for a channel that is not configured: it waits", metadata: [
                    "channel": "\(claim.channel)", "transaction": "\(claim.transaction)",
                ])
                waiting.append(claim)
                continue
            }
            var record = JournalRecord(id: claim.transaction, started: claim.created, listener: claim.listener, message: claim.message,
                                       rule: "-", channel: claim.channel, channelsTried: claim.channel, result: ResultCode.systemError.value,
                                       outcome: "interrupted", totalMicros: 0)
            record.stan = claim.stan
            if claim.reversible && !claim.sent.isEmpty {
                do {
                    let item: ForwardItem
                    if let side = channel.iso8583 {
                        let outbound = try ISO8583Message(decoding: claim.sent, dialect: side.dialect)
                        record.hostStan = outbound.string(11)
                        record.identify(outbound, hasher)
                        let booking = Booking(outbound, at: claim.created, businessDay: channel.configuration.businessDay)
                        record.businessDate = booking.date.description
                        record.forwardBusinessDate = booking.forwardDate(madeAt: Durability.now()).description
                        item = try Compensation.reversal(of: outbound, channel: channel, transaction: claim.transaction, protection: protection)
                    } else {
                        let transfer = try ISO20022Support.codec.decode(claim.sent)
                        record.messageId = transfer.identifiers.messageId
                        record.endToEndId = transfer.identifiers.endToEndId
                        record.uetr = transfer.identifiers.uetr
                        item = try Compensation.statusRequest(about: transfer, channel: channel, transaction: claim.transaction, protection: protection)
                    }
                    batch.newForwards.append(item)
                    record.forward = item.kind.rawValue
                } catch {
                    logger.critical("cannot make good an interrupted request", metadata: [
                        "channel": "\(claim.channel)", "transaction": "\(claim.transaction)", "error": "\(error)",
                    ])
                }
            }
            if record.businessDate == nil { record.businessDate = Booking(nil, at: claim.created, businessDay: channel.configuration.businessDay).date.description }
            if let stan = record.hostStan { batch.hostStans[record.channel] = stan }
            journal.append(record)
        }
        // Claims kept for a channel configured again later go into a new block; the old ones go.
        if !waiting.isEmpty { batch.claims = try ClaimBlock.sealed(waiting, protection: protection) }
        if !journal.isEmpty { batch.journal = try journal.finish(protection: protection) }
        _ = try writer.writeNow(batch)
        if journal.count > 0 {
            logger.warning(only == nil ? "requests interrupted by the previous stop: journalled, and reversed or asked after where due"
                                       : "requests a dead node forwarded and never answered: journalled, and reversed or asked after where due", metadata: [
                "count": "\(journal.count)", "compensations": "\(batch.newForwards.count)",
            ])
        }
    }

    func stop() {
        for queue in forwardQueues.values { queue.stop() }
        writer.flush()
    }

    /// Unix milliseconds now.
    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000)
    }

    func sampleQueues() {
        let now = Durability.now()
        for (name, queue) in forwardQueues {
            let state = queue.state
            let age = state.oldest.map { max(0, now - $0) } ?? 0
            metrics.forwardQueue(channel: name, depth: state.depth, oldestSeconds: Double(age) / 1000)
            let overdue = age > alarmAfterMilliseconds
            metrics.forwardOverdue(channel: name, overdue)
            // Said once when it starts and once when it ends, not every second.
            let changed = overdueChannels.withLock { channels in overdue ? channels.insert(name).inserted : channels.remove(name) != nil }
            guard changed else { continue }
            if overdue {
                logger.warning("a reversal or advice has waited for its host longer than the alarm bound: the day cannot reconcile until it is answered",
                               metadata: ["channel": "\(name)", "pending": "\(state.depth)", "oldest_seconds": "\(age / 1000)"])
            } else {
                logger.info("no reversal or advice overdue any more", metadata: ["channel": "\(name)"])
            }
        }
    }
}
