/// Where the switch keeps what must survive a crash: the store-and-forward queue and the journal.
///
/// A backend writes each ``StorageBatch`` in one transaction and returns only once it is durable;
/// the switch's single ``StorageWriter`` calls it from one thread, so a backend needs no locking of
/// its own for writes. SQLite (the `SQLiteStorage` module) is the embedded default.
public protocol SwitchStorage: Sendable {
    /// Writes a batch in one transaction, durably.
    ///
    /// - Returns: The ids given to the batch's new forward items, in order.
    func write(_ batch: StorageBatch) throws(StorageError) -> [Int64]
    /// Every forward item not yet acknowledged by its host, oldest first.
    func pendingForwards() throws(StorageError) -> [ForwardItem]
    /// Requests forwarded to a host whose transaction was never finished (the switch stopped
    /// without answering them), oldest first.
    func openClaims() throws(StorageError) -> [Claim]
    /// Journal records matching a query, oldest first.
    func journal(_ query: JournalQuery) throws(StorageError) -> [JournalRecord]
    /// The host STAN of each channel's most recently journalled request, so that a restarted
    /// switch does not reuse STANs its hosts saw moments ago.
    func lastHostStans() throws(StorageError) -> [String: UInt32]
    /// Journal counts by channel and outcome.
    func journalStats(_ query: JournalQuery) throws(StorageError) -> [JournalCount]
    /// Ties the store to a data key: records `check` the first time, and fails when a store
    /// written under another key is opened (its sealed messages could not be read).
    func bind(keyCheck check: String) throws(StorageError)
}

/// What one storage transaction writes.
public struct StorageBatch: Sendable {
    /// Requests about to be forwarded: written before they are sent.
    public var claims: [Claim] = []
    public var journal: [JournalRecord] = []
    /// New forward items; each also settles the claim of its transaction.
    public var newForwards: [ForwardItem] = []
    /// Transactions finished (journalled) whose claims go.
    public var settledClaims: [String] = []
    /// Forward items about to be sent (again): their attempt count, written before each send so
    /// a restart knows to send a repeat.
    public var attempts: [(id: Int64, attempts: Int)] = []
    /// Forward items their host acknowledged: the answer's response code.
    public var acknowledged: [(id: Int64, responseCode: String)] = []

    public init() {}
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
    /// The request as sent to the host, sealed with the data key.
    public var sealedMessage: [UInt8]
    /// Unix milliseconds.
    public var created: Int64

    public init(transaction: String, channel: String, listener: String, message: String, stan: String?, reversible: Bool,
                sealedMessage: [UInt8], created: Int64) {
        self.transaction = transaction
        self.channel = channel
        self.listener = listener
        self.message = message
        self.stan = stan
        self.reversible = reversible
        self.sealedMessage = sealedMessage
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
