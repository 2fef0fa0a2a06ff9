/// Where the switch keeps what must survive a crash: the store-and-forward queue and the journal.
///
/// A backend writes each ``StorageBatch`` in one transaction and returns only once it is durable;
/// the switch's single ``StorageWriter`` calls it from one thread, so a backend needs no locking of
/// its own for writes. SQLite (the `SQLiteStorage` module) is the embedded default.
public protocol SwitchStorage: Sendable {
    /// Writes a batch in one transaction, durably.
    func write(_ batch: StorageBatch) throws(StorageError) -> StorageReceipt
    /// Every forward item not yet acknowledged by its host, oldest first.
    func pendingForwards() throws(StorageError) -> [ForwardItem]
    /// The state of the forward items of some transactions, by transaction.
    func forwardStates(of transactions: [String]) throws(StorageError) -> [String: ForwardState]
    /// Claim blocks not yet released, oldest first.
    func claimBlocks() throws(StorageError) -> [StoredClaimBlock]
    /// Calls `body` with the journal blocks a selection names, in the selection's order, until it
    /// returns false.
    func journalBlocks(_ selection: JournalBlockSelection, _ body: (StoredJournalBlock) throws(StorageError) -> Bool) throws(StorageError)
    /// The host STAN of each channel's most recently journalled request, so that a restarted
    /// switch does not reuse STANs its hosts saw moments ago.
    func lastHostStans() throws(StorageError) -> [String: UInt32]
    /// Ties the store to a data key: records `check` the first time, and fails when a store
    /// written under another key is opened (its sealed messages could not be read).
    func bind(keyCheck check: String) throws(StorageError)
}

/// What one storage transaction writes.
public struct StorageBatch: Sendable {
    /// Requests about to be forwarded (written before they are sent), sealed as one block
    /// (``ClaimBlock``).
    public var claims: [UInt8]?
    /// Claim blocks every claim of which is settled: they go.
    public var releasedClaimBlocks: [Int64] = []
    public var journal: JournalBlock?
    /// The host STAN of each channel's latest journalled request in the batch.
    public var hostStans: [String: String] = [:]
    /// New forward items.
    public var newForwards: [ForwardItem] = []
    /// Forward items about to be sent (again): their attempt count, written before each send so
    /// a restart knows to send a repeat.
    public var attempts: [(id: Int64, attempts: Int)] = []
    /// Forward items their host acknowledged: the answer's response code.
    public var acknowledged: [(id: Int64, responseCode: String)] = []
    /// The answers of requests claimed in a cluster, sealed, for their claims: a retransmission
    /// reaching any node gets the answer back. Empty outside a cluster.
    public var claimAnswers: [(key: ClusterClaimKey, sealedAnswer: [UInt8])] = []

    public init() {}
}

/// What a store gave a written batch.
public struct StorageReceipt: Sendable, Equatable {
    /// The ids of the batch's new forward items, in order.
    public var forwardIDs: [Int64]
    /// The id of the batch's claim block, when it had claims.
    public var claimBlock: Int64?

    public init(forwardIDs: [Int64] = [], claimBlock: Int64? = nil) {
        self.forwardIDs = forwardIDs
        self.claimBlock = claimBlock
    }
}

/// A journal block as stored, with its place in the store's order of writing.
public struct StoredJournalBlock: Sendable {
    public var sequence: Int64
    public var block: JournalBlock

    public init(sequence: Int64, block: JournalBlock) {
        self.sequence = sequence
        self.block = block
    }
}

/// Which journal blocks to read.
public struct JournalBlockSelection: Sendable, Equatable {
    /// Only blocks written after this one (their sequence is greater); in the order written.
    public var after: Int64?
    /// Only blocks that may hold records started at or after `since` and before `until` (Unix
    /// milliseconds); in the order of their earliest record.
    public var since: Int64?
    public var until: Int64?

    public init(after: Int64? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.after = after
        self.since = since
        self.until = until
    }
}

/// Where a transaction's forward item stands.
public struct ForwardState: Sendable, Equatable {
    /// `pending` or `acknowledged`.
    public var state: String
    /// The host's answer to it: DE 39, or the pacs.002 status and reason.
    public var responseCode: String?

    public init(state: String, responseCode: String?) {
        self.state = state
        self.responseCode = responseCode
    }
}

/// A request the switch is about to forward, written first: if the switch stops before the
/// transaction is journalled, the next start finds the claim, journals the transaction as
/// interrupted and, for an authorization or financial request, reverses it.
public struct Claim: Sendable, Equatable {
    /// The transaction's journal id.
    public var transaction: String
    public var channel: String
    public var listener: String
    /// The MTI or ISO 20022 message, and the STAN, as the originator sent them.
    public var message: String
    public var stan: String?
    /// Whether a reversal is due if the transaction never finishes.
    public var reversible: Bool
    /// The request as sent to the host (sealed at rest with its block).
    public var sent: [UInt8]
    /// Unix milliseconds.
    public var created: Int64

    public init(transaction: String, channel: String, listener: String, message: String, stan: String?, reversible: Bool,
                sent: [UInt8], created: Int64) {
        self.transaction = transaction
        self.channel = channel
        self.listener = listener
        self.message = message
        self.stan = stan
        self.reversible = reversible
        self.sent = sent
        self.created = created
    }
}

/// A message the switch owes a host — a reversal it generated, an advice it accepted — kept until
/// the host acknowledges it.
public struct ForwardItem: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Sent because the original request timed out (0400, or 0420 per channel).
        case reversal
        /// Accepted from an originator and acknowledged to it once stored (0120, 0220, 0420).
        case advice
        /// Sent because an ISO 20022 credit transfer got no status in time (pacs.028).
        case statusRequest
    }

    /// Given by the store when written (0 before).
    public var id: Int64
    public var channel: String
    public var kind: Kind
    /// The journal id of the transaction it belongs to.
    public var transaction: String
    /// The ISO 8583 message in the host's dialect, or the ISO 20022 document, sealed with the data key (``DataProtection``).
    public var sealedMessage: [UInt8]
    /// Sends so far: a message sent before goes out as a repeat (0401, 0421).
    public var attempts: Int
    /// Unix milliseconds.
    public var created: Int64

    public init(id: Int64 = 0, channel: String, kind: Kind, transaction: String, sealedMessage: [UInt8], attempts: Int = 0, created: Int64) {
        self.id = id
        self.channel = channel
        self.kind = kind
        self.transaction = transaction
        self.sealedMessage = sealedMessage
        self.attempts = attempts
        self.created = created
    }
}

/// A storage backend failed: what it was doing and why.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let reason: String

    public init(operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "StorageError: \(operation) failed: \(reason)" }
}
