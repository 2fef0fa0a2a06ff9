import Dispatch
import Logging
import PaymentModel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif


/// The switch's one writer to its storage: journal records and store-and-forward changes handed
/// over from any queue, written together in one transaction per batch on the writer's own queue.
///
/// While one batch is being written the next one gathers, so a busy switch commits many records
/// per transaction (group commit). The journal queue is bounded: ``admit()`` reserves a place when
/// a request is accepted, and a switch whose queue is full sheds new requests rather than lose a
/// record. A batch that fails is retried (with the queue filling up behind it) until it is written.
final class StorageWriter: @unchecked Sendable {
    let storage: any SwitchStorage
    let capacity: Int
    private let queue = DispatchQueue(label: "payswitch.storage.writer")
    private let logger: Logger
    private let metrics: SwitchMetrics
    private let build: @Sendable (JournalEntry, String) -> JournalRecord
    private let pending = Mutex(Pending())
    /// Journal places reserved by admitted requests and not yet written.
    private let reserved = Atomic<Int>(0)
    /// Transaction sequence: journal ids are the node prefix and this number.
    private let sequence = Atomic<UInt64>(0)
    let idPrefix: String

    private struct Pending {
        var journal: [JournalEntry] = []
        var forwards: [(ForwardItem, @Sendable (Result<ForwardItem, StorageError>) -> Void)] = []
        var attempts: [(id: Int64, attempts: Int, done: @Sendable (Bool) -> Void)] = []
        var acknowledged: [(id: Int64, responseCode: String)] = []
        var scheduled = false
    }

    init(storage: any SwitchStorage, capacity: Int, logger: Logger, metrics: SwitchMetrics,
         build: @escaping @Sendable (JournalEntry, String) -> JournalRecord) {
        self.storage = storage
        self.capacity = capacity
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

    /// Gives back a place reserved by ``admit()`` that will take no record.
    func unadmit() { reserved.subtract(1, ordering: .relaxed) }

    /// Journal places in use.
    var depth: Int { reserved.load(ordering: .relaxed) }

    /// A journal id not used before by this switch process: `<start time, base 36>-<sequence>`.
    func nextTransactionID() -> String {
        idPrefix + "-" + String(sequence.add(1, ordering: .relaxed).newValue)
    }

    /// Hands over a finished transaction; it takes the place its request reserved (or one beyond
    /// the capacity, for transactions that were never admitted: a record is never refused).
    func journal(_ entry: JournalEntry) {
        if entry.request.journalPlace != .reserved { reserved.add(1, ordering: .relaxed) }
        enqueue { $0.journal.append(entry) }
    }

    /// Stores a new forward item; `then` runs, off the caller's queue, once it is durable (with
    /// its id) or could not be written.
    func store(_ item: ForwardItem, then: @escaping @Sendable (Result<ForwardItem, StorageError>) -> Void) {
        enqueue { $0.forwards.append((item, then)) }
    }

    /// Records that a forward item is about to be sent for the `attempts`th time; `then(true)` once durable.
    func recordAttempt(id: Int64, attempts: Int, then: @escaping @Sendable (Bool) -> Void) {
        enqueue { $0.attempts.append((id, attempts, then)) }
    }

    /// Marks a forward item acknowledged by its host.
    func acknowledge(id: Int64, responseCode: String) {
        enqueue { $0.acknowledged.append((id, responseCode)) }
    }

    /// Waits until everything handed over so far is written (shutdown, tests).
    func flush() {
        while true {
            let idle = pending.withLock { !$0.scheduled && $0.journal.isEmpty && $0.forwards.isEmpty && $0.attempts.isEmpty && $0.acknowledged.isEmpty }
            if idle { return queue.sync {} }
            queue.sync {}
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
                if pending.journal.isEmpty && pending.forwards.isEmpty && pending.attempts.isEmpty && pending.acknowledged.isEmpty {
                    pending.scheduled = false
                    return nil
                }
                defer { pending = Pending(scheduled: true) }
                return pending
            }
            guard var work = taken else { return }
            var batch = StorageBatch()
            // Ids are given here, off the hot path, unless a stored reversal or advice already named one.
            batch.journal = work.journal.map { build($0, $0.request.transaction ?? nextTransactionID()) }
            batch.newForwards = work.forwards.map(\.0)
            batch.attempts = work.attempts.map { ($0.id, $0.attempts) }
            batch.acknowledged = work.acknowledged
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                let ids = try storage.write(batch)
                metrics.journalWrite(nanoseconds: DispatchTime.now().uptimeNanoseconds - started, records: batch.journal.count)
                reserved.subtract(work.journal.count, ordering: .relaxed)
                failures = 0
                for ((item, then), id) in zip(work.forwards, ids) {
                    var stored = item
                    stored.id = id
                    then(.success(stored))
                }
                for attempt in work.attempts { attempt.done(true) }
            } catch {
                failures += 1
                if failures == 1 || failures % 100 == 0 {
                    logger.error("storage write failed; retrying (new requests are shed once the journal is full)", metadata: [
                        "error": "\(error)", "failures": "\(failures)",
                    ])
                }
                metrics.storageFailure()
                // A new forward item's owner is told at once (it answers its originator accordingly);
                // the rest is put back in front of what arrived meanwhile and written again.
                for (_, then) in work.forwards { then(.failure(error)) }
                for attempt in work.attempts { attempt.done(false) }
                work.forwards = []
                work.attempts = []
                pending.withLock { pending in
                    pending.journal = work.journal + pending.journal
                    pending.acknowledged = work.acknowledged + pending.acknowledged
                }
                usleep(UInt32(min(1_000_000, 10_000 * failures)))
            }
        }
    }
}

/// A finished transaction as handed to the writer: references only, so the hot path copies nothing;
/// the writer builds the ``JournalRecord`` (masking, lookup hash, JSON) on its own queue.
struct JournalEntry: @unchecked Sendable {
    let request: InboundRequest
    /// The answer sent to the originator (without framing header).
    let answer: [UInt8]
    let result: ResultCode
    /// When the answer was sent (uptime nanoseconds).
    let finished: UInt64
    /// The host's answer time, when a host answered.
    let hostNanoseconds: UInt64?
    /// The forward item the transaction left, if any.
    let forward: ForwardItem.Kind?
}
