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
    private let build: @Sendable (JournalEntry, String) -> JournalRecord
    private let pending = Mutex(Pending())
    /// Journal places reserved by admitted requests and not yet written.
    private let reserved = Atomic<Int>(0)
    /// Transaction sequence: journal ids are the node prefix and this number.
    private let sequence = Atomic<UInt64>(0)
    let idPrefix: String

    private struct Pending {
        var claims: [ClaimEntry] = []
        var journal: [JournalEntry] = []
        var attempts: [(id: Int64, attempts: Int, done: @Sendable (Bool) -> Void)] = []
        var acknowledged: [(id: Int64, responseCode: String)] = []
        var scheduled = false

        var isEmpty: Bool { claims.isEmpty && journal.isEmpty && attempts.isEmpty && acknowledged.isEmpty }
    }

    init(storage: any SwitchStorage, capacity: Int, protection: DataProtection, logger: Logger, metrics: SwitchMetrics,
         build: @escaping @Sendable (JournalEntry, String) -> JournalRecord) {
        self.storage = storage
        self.capacity = capacity
        self.protection = protection
        self.logger = logger
        self.metrics = metrics
        self.build = build
        idPrefix = String(Durability.now(), radix: 36)
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

    /// A journal id not used before by this switch process: `<start time, base 36>-<sequence>`.
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

    /// Records that a forward item is about to be sent for the `attempts`th time; `then(true)` once durable.
    func recordAttempt(id: Int64, attempts: Int, then: @escaping @Sendable (Bool) -> Void) {
        enqueue { $0.attempts.append((id, attempts, then)) }
    }

    /// Marks a forward item acknowledged by its host.
    func acknowledge(id: Int64, responseCode: String) {
        enqueue { $0.acknowledged.append((id, responseCode)) }
    }

    /// Writes a batch outside the flow (recovery at start), on the writer's queue.
    func writeNow(_ batch: StorageBatch) throws(StorageError) -> [Int64] {
        let result: Result<[Int64], StorageError> = queue.sync {
            do throws(StorageError) { return .success(try storage.write(batch)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Waits until everything handed over so far is written (shutdown, tests).
    func flush() {
        while true {
            let idle = pending.withLock { !$0.scheduled && $0.isEmpty }
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
                if pending.isEmpty {
                    pending.scheduled = false
                    return nil
                }
                defer { pending = Pending(scheduled: true) }
                return pending
            }
            guard let work = taken else { return }
            var batch = StorageBatch()
            // Sealed and built here, off the connections' queues.
            batch.claims = work.claims.map { $0.claim(protection: protection) }
            batch.journal.reserveCapacity(work.journal.count)
            for entry in work.journal {
                // Ids are given here unless a claim or a stored reversal already named one.
                batch.journal.append(build(entry, entry.request.transaction ?? nextTransactionID()))
                if let item = entry.forward { batch.newForwards.append(item) }
                if entry.request.claimed, let transaction = entry.request.transaction { batch.settledClaims.append(transaction) }
            }
            batch.attempts = work.attempts.map { ($0.id, $0.attempts) }
            batch.acknowledged = work.acknowledged
            let started = DispatchTime.now().uptimeNanoseconds
            let ids: [Int64]
            do {
                ids = try storage.write(batch)
            } catch {
                failures += 1
                if failures == 1 || failures % 100 == 0 {
                    logger.error("storage write failed; retrying (answers wait, new requests are shed once the journal is full)", metadata: [
                        "error": "\(error)", "failures": "\(failures)",
                    ])
                }
                metrics.storageFailure()
                // Put back in front of what arrived meanwhile and written again.
                pending.withLock { pending in
                    pending.claims = work.claims + pending.claims
                    pending.journal = work.journal + pending.journal
                    pending.attempts = work.attempts + pending.attempts
                    pending.acknowledged = work.acknowledged + pending.acknowledged
                }
                usleep(UInt32(min(1_000_000, 10_000 * failures)))
                continue
            }
            failures = 0
            metrics.journalWrite(nanoseconds: DispatchTime.now().uptimeNanoseconds - started, records: batch.journal.count)
            reserved.subtract(work.journal.count, ordering: .relaxed)
            for entry in work.claims { entry.connection.sendFromAnyThread(entry.bytes) }
            var next = ids.makeIterator()
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
}

/// A request about to be forwarded: its claim is written, then `bytes` go out on `connection`.
struct ClaimEntry: @unchecked Sendable {
    let request: InboundRequest
    let channel: String
    let reversible: Bool
    let connection: Connection
    /// The request as the host reads it.
    let bytes: [UInt8]

    func claim(protection: DataProtection) -> Claim {
        let message: String
        var stan: String? = nil
        switch request.message {
        case .iso8583(let original):
            message = original.mti.description
            stan = original.string(11)
        case .iso20022(_, let payment):
            message = payment.source?.version ?? payment.kind.rawValue
        }
        // A claim that cannot be sealed keeps no message: it is journalled as interrupted, not reversed.
        let sealed = (try? protection.seal(bytes)) ?? []
        return Claim(transaction: request.transaction ?? "", channel: channel, listener: request.listener.name, message: message,
                     stan: stan, reversible: reversible && !sealed.isEmpty, sealedMessage: sealed,
                     created: request.startedUnixMilliseconds)
    }
}

/// A finished transaction as handed to the writer: references only, so the hot path copies nothing;
/// the writer builds the ``JournalRecord`` (masking, lookup hash, JSON) on its own queue, then sends
/// the answer.
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
    /// The reversal or advice the transaction leaves, stored with its record.
    let forward: ForwardItem?
    /// Takes the forward item, with its id, once stored (its channel's queue).
    let onStored: (@Sendable (ForwardItem) -> Void)?

    /// Sends the answer on the originator's connection.
    func deliver() {
        if request.header.isEmpty {
            request.connection.sendFromAnyThread(answer)
        } else {
            request.connection.replyFromAnyThread(answer, to: request.header)
        }
    }
}
