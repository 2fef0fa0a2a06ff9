import Dispatch
import ISO8583
import Logging
import PaymentModel
import SecurityModule
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// The switch's one writer to its storage: claims, journal records and store-and-forward changes
/// handed over from any queue, written together in one transaction per batch on its own queue.
///
/// Nothing that depends on a write happens before it is durable: a claimed request is sent to its
/// host, and a journalled answer is sent to its originator, only after the batch holding them is
/// committed. While one batch is written the next one gathers (group commit). The journal queue is
/// bounded: ``admit()`` reserves a place when a request is accepted, and a switch whose queue is
/// full sheds new requests rather than lose a record. A batch that fails is written again, with
/// everything behind it waiting, until storage takes it.
final class StorageWriter: @unchecked Sendable {
    let storage: any SwitchStorage
    let capacity: Int
    private let queue = DispatchQueue(label: "payswitch.storage.writer")
    private let logger: Logger
    private let metrics: SwitchMetrics
    private let protection: DataProtection
    /// Used on ``queue`` only.
    private let hasher: LookupHasher
    private let keepMessages: Bool
    private let results: ResultCodeTable
    /// The switch's business day, for what was answered without a channel's.
    private let businessDay: BusinessDay
    /// Running totals per channel and business date; on ``queue`` only.
    private var dayTotals = DayTotals()
    /// What the batch being written adds to them, applied once it is committed; on ``queue`` only.
    private var dayChanges: [(DayTotals.Key, DayTotals.Running)] = []
    private let pending = Mutex(Pending())
    /// Journal places reserved by admitted requests and not yet written.
    private let reserved = Atomic<Int>(0)
    /// Transaction sequence: journal ids are the node prefix and this number.
    private let sequence = Atomic<UInt64>(0)
    let idPrefix: String

    private struct Pending {
        var claims: [ClaimEntry] = []
        var journal: [JournalEntry] = []
        /// Records of the switch's own exchanges (reconciliation with a host), made whole by the caller.
        var records: [JournalRecord] = []
        var attempts: [(id: Int64, attempts: Int, done: @Sendable (Bool) -> Void)] = []
        var acknowledged: [(id: Int64, responseCode: String)] = []
        var scheduled = false

        var isEmpty: Bool { claims.isEmpty && journal.isEmpty && records.isEmpty && attempts.isEmpty && acknowledged.isEmpty }
    }

    /// Claims written and not yet settled, by claim block; on ``queue`` only.
    private var openClaimsByBlock: [Int64: Int] = [:]
    /// Claim blocks whose claims are all settled, released with the next batch; on ``queue`` only.
    private var releasable: [Int64] = []

    init(storage: any SwitchStorage, capacity: Int, protection: DataProtection, keepMessages: Bool, results: ResultCodeTable,
         businessDay: BusinessDay = BusinessDay(), node: String? = nil, logger: Logger, metrics: SwitchMetrics) throws {
        self.businessDay = businessDay
        self.storage = storage
        self.capacity = capacity
        self.protection = protection
        hasher = try protection.lookupHasher()
        self.keepMessages = keepMessages
        self.results = results
        self.logger = logger
        self.metrics = metrics
        // A cluster's nodes write one journal: a node's ids carry its name.
        idPrefix = (node.map { $0 + "-" } ?? "") + String(Durability.now(), radix: 36)
    }

    /// Reserves a journal place for a request being accepted; false when the journal is full.
    func admit() -> Bool {
        let before = reserved.add(1, ordering: .relaxed).oldValue
        guard before < capacity else {
            reserved.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Journal places in use.
    var depth: Int { reserved.load(ordering: .relaxed) }

    /// A journal id not used before by this switch process: `[<node>-]<start time, base 36>-<sequence>`.
    func nextTransactionID() -> String {
        idPrefix + "-" + String(sequence.add(1, ordering: .relaxed).newValue)
    }

    /// Writes a claim for a request, then sends it to its host.
    func claim(_ entry: ClaimEntry) {
        enqueue { $0.claims.append(entry) }
    }

    /// Journals a finished transaction (with the forward item it leaves, if any), then sends its
    /// answer. It takes the place its request reserved, or one beyond the capacity for a request
    /// answered before admission: a record is never refused.
    func journal(_ entry: JournalEntry) {
        if entry.request.journalPlace != .reserved { reserved.add(1, ordering: .relaxed) }
        enqueue { $0.journal.append(entry) }
    }

    /// Journals a record of the switch's own (a reconciliation exchange with a host) in the next batch.
    func journal(record: JournalRecord) {
        enqueue { $0.records.append(record) }
    }

    /// Records that a forward item is about to be sent for the `attempts`th time; `then(true)` once durable.
    func recordAttempt(id: Int64, attempts: Int, then: @escaping @Sendable (Bool) -> Void) {
        enqueue { $0.attempts.append((id, attempts, then)) }
    }

    /// Marks a forward item acknowledged by its host.
    func acknowledge(id: Int64, responseCode: String) {
        enqueue { $0.acknowledged.append((id, responseCode)) }
    }

    /// Writes a batch outside the flow (recovery at start), on the writer's queue.
    func writeNow(_ batch: StorageBatch) throws(StorageError) -> StorageReceipt {
        let result: Result<StorageReceipt, StorageError> = queue.sync {
            do throws(StorageError) { return .success(try storage.write(batch)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Waits until everything handed over so far is written (shutdown, tests).
    func flush() {
        while true {
            let idle = pending.withLock { !$0.scheduled && $0.isEmpty } && queue.sync { releasable.isEmpty }
            queue.sync {}
            if idle { return }
            usleep(1_000)
        }
    }

    private func enqueue(_ add: (inout Pending) -> Void) {
        let schedule = pending.withLock { pending in
            add(&pending)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Writes what is pending, batch after batch, until nothing is.
    private func drain() {
        dispatchPrecondition(condition: .onQueue(queue))
        var failures = 0
        while true {
            let taken = pending.withLock { pending -> Pending? in
                if pending.isEmpty && releasable.isEmpty {
                    pending.scheduled = false
                    return nil
                }
                defer { pending = Pending(scheduled: true) }
                return pending
            }
            guard let work = taken else { return }
            let batch: StorageBatch
            do {
                batch = try prepare(work)
            } catch {
                // Sealing failed (OpenSSL could not give a nonce): nothing is written or sent; retried below.
                failures += 1
                logger.error("storage batch cannot be sealed; retrying", metadata: ["error": "\(error)"])
                putBack(work)
                usleep(UInt32(min(1_000_000, 10_000 * failures)))
                continue
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let receipt: StorageReceipt
            do {
                receipt = try storage.write(batch)
            } catch {
                failures += 1
                if failures == 1 || failures % 100 == 0 {
                    logger.error("storage write failed; retrying (answers wait, new requests are shed once the journal is full)", metadata: [
                        "error": "\(error)", "failures": "\(failures)",
                    ])
                }
                metrics.storageFailure()
                putBack(work)
                usleep(UInt32(min(1_000_000, 10_000 * failures)))
                continue
            }
            failures = 0
            metrics.journalWrite(nanoseconds: DispatchTime.now().uptimeNanoseconds - started, records: work.journal.count)
            dayTotals.apply(dayChanges, metrics: metrics)
            reserved.subtract(work.journal.count, ordering: .relaxed)
            releasable.removeAll { batch.releasedClaimBlocks.contains($0) }
            settle(work, claimBlock: receipt.claimBlock)
            for entry in work.claims where entry.request.claimBlock > 0 { entry.connection.sendFromAnyThread(entry.bytes) }
            var next = receipt.forwardIDs.makeIterator()
            for entry in work.journal {
                if var item = entry.forward, let id = next.next() {
                    item.id = id
                    entry.onStored?(item)
                }
                entry.deliver()
            }
            for attempt in work.attempts { attempt.done(true) }
        }
    }

    /// The batch for what was taken: claims sealed as one block, records built (masking, lookup
    /// hash) into one journal block with their messages sealed once.
    private func prepare(_ work: Pending) throws(SecurityError) -> StorageBatch {
        dispatchPrecondition(condition: .onQueue(queue))
        var batch = StorageBatch()
        var claims: [Claim] = []
        for entry in work.claims {
            // A request answered (timed out) before its claim got here is neither claimed nor sent.
            guard entry.request.claimBlock != ClaimMark.settledFirst else { continue }
            entry.request.claimBlock = ClaimMark.inThisBatch
            claims.append(entry.claim())
        }
        if !claims.isEmpty { batch.claims = try ClaimBlock.sealed(claims, protection: protection) }
        var block = JournalBlock.Builder()
        dayChanges.removeAll(keepingCapacity: true)
        for entry in work.journal {
            // Ids are given here unless a claim or a stored reversal already named one.
            let record = entry.record(id: entry.request.transaction ?? nextTransactionID(), hasher: hasher, results: results,
                                      businessDay: businessDay)
            if keepMessages {
                block.append(record, request: entry.keptRequest, answer: entry.answer)
            } else {
                block.append(record)
            }
            if let stan = record.hostStan { batch.hostStans[record.channel] = stan }
            DayTotals.changes(of: record, into: &dayChanges)
            if let item = entry.forward { batch.newForwards.append(item) }
            if let key = entry.request.clusterKey, !entry.answer.isEmpty {
                batch.claimAnswers.append((key, try protection.seal(entry.answer)))
            }
            if entry.request.claimed && entry.request.claimBlock == ClaimMark.none { entry.request.claimBlock = ClaimMark.settledFirst }
        }
        for record in work.records { block.append(record) }
        if !block.isEmpty { batch.journal = try block.finish(protection: protection) }
        batch.attempts = work.attempts.map { ($0.id, $0.attempts) }
        batch.acknowledged = work.acknowledged
        batch.releasedClaimBlocks = releasable
        return batch
    }

    /// After a write: the batch's claims are counted open in their block, and each journalled
    /// transaction settles its claim; a block whose claims are all settled is released next.
    private func settle(_ work: Pending, claimBlock: Int64?) {
        if let claimBlock {
            var count = 0
            for entry in work.claims where entry.request.claimBlock == ClaimMark.inThisBatch {
                entry.request.claimBlock = claimBlock
                count += 1
            }
            openClaimsByBlock[claimBlock] = count
        }
        for entry in work.journal where entry.request.claimed && entry.request.claimBlock > 0 {
            let block = entry.request.claimBlock
            guard let open = openClaimsByBlock[block] else { continue }
            if open <= 1 {
                openClaimsByBlock[block] = nil
                releasable.append(block)
            } else {
                openClaimsByBlock[block] = open - 1
            }
        }
    }

    /// Puts what failed back in front of what arrived meanwhile, to be written again.
    private func putBack(_ work: Pending) {
        for entry in work.claims where entry.request.claimBlock == ClaimMark.inThisBatch { entry.request.claimBlock = ClaimMark.none }
        pending.withLock { pending in
            pending.claims = work.claims + pending.claims
            pending.journal = work.journal + pending.journal
            pending.attempts = work.attempts + pending.attempts
            pending.acknowledged = work.acknowledged + pending.acknowledged
        }
    }
}

/// Where a request's claim stands, in ``InboundRequest/claimBlock``: a positive value is the claim
/// block holding it. Touched on the storage writer's queue only.
enum ClaimMark {
    static let none: Int64 = 0
    /// In the batch being written.
    static let inThisBatch: Int64 = -1
    /// Journalled before its claim reached the writer (it timed out first): it is never claimed.
    static let settledFirst: Int64 = -2
}

/// A request about to be forwarded: its claim is written, then `bytes` go out on `connection`.
struct ClaimEntry: @unchecked Sendable {
    let request: InboundRequest
    let channel: String
    let reversible: Bool
    let connection: Connection
    /// The request as the host reads it.
    let bytes: [UInt8]
    /// ISO 8583: the message `bytes` encode, and the host's dialect, for the claim's copy.
    let message: ISO8583Message?
    let dialect: Dialect?

    /// What the claim keeps of the request: for ISO 8583, the message without its track data,
    /// PIN block and card verification values (a reversal carries none of them; nothing of them is
    /// stored, even sealed); ISO 20022 as sent.
    var kept: [UInt8] {
        guard let message, let dialect else { return bytes }
        let cleared = message.withoutAuthenticationData(dialect: dialect)
        return cleared.receivedFrame ?? (try? cleared.encoded(as: dialect)) ?? []
    }

    func claim() -> Claim {
        let message: String
        var stan: String? = nil
        switch request.message {
        case .iso8583(let original):
            message = original.mti.description
            stan = original.string(11)
        case .iso20022(_, let payment):
            message = payment.source?.version ?? payment.kind.rawValue
        }
        let sent = kept
        // A request that cannot be kept is claimed without it: journalled as interrupted, not reversed.
        return Claim(transaction: request.transaction ?? "", channel: channel, listener: request.listener.name, message: message,
                     stan: stan, reversible: reversible && !sent.isEmpty, sent: sent, created: request.startedUnixMilliseconds)
    }
}

/// A finished transaction as handed to the writer: references only, so the hot path copies nothing;
/// the writer builds the ``JournalRecord`` (masking, lookup hash) on its own queue, then sends the
/// answer.
struct JournalEntry: @unchecked Sendable {
    let request: InboundRequest
    /// The answer to the originator (without framing header).
    let answer: [UInt8]
    let result: ResultCode
    /// When the answer was ready (uptime nanoseconds).
    let finished: UInt64
    /// The host's answer time, when a host answered.
    let hostNanoseconds: UInt64?
    /// The answer's DE 39, when it was at hand (nil: read from ``answer``).
    let responseCode: String?
    /// The host's approval code (DE 38), when it gave one.
    var approvalCode: String? = nil
    /// The reversal or advice the transaction leaves, stored with its record.
    let forward: ForwardItem?
    /// Takes the forward item, with its id, once stored (its channel's queue).
    let onStored: (@Sendable (ForwardItem) -> Void)?

    /// Sends the answer to the originator (or to its batch).
    func deliver() {
        request.deliver(answer)
    }
}
