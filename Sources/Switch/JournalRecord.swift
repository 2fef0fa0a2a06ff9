/// One transaction as the journal keeps it: identification, route, timings and outcome. Card data
/// is masked: the PAN as first six and last four digits plus a keyed lookup hash, never in clear.
public struct JournalRecord: Sendable, Equatable, Codable {
    /// Unique per switch: the node's start time and a sequence number.
    public var id: String
    /// When the request was read, Unix milliseconds.
    public var started: Int64
    public var listener: String
    /// The MTI (`0100`) or ISO 20022 message (`pacs.008.001.08`).
    public var message: String
    public var stan: String?
    public var rrn: String?
    /// Card acceptor terminal (DE 41).
    public var terminal: String?
    /// Card acceptor (DE 42).
    public var merchant: String?
    /// First six and last four digits.
    public var maskedPAN: String?
    /// HMAC-SHA-256 of the PAN with the data key's lookup key, after the key's id:
    /// `<key id>:<32 hex digits>` (``DataProtection/recordHash(ofDigits:)``; older records: the digits alone).
    public var panHash: String?
    /// Minor units, with ``currency``.
    public var amount: Int64?
    public var currency: String?
    public var uetr: String?
    public var endToEndId: String?
    public var messageId: String?
    /// The routing rule that decided (`-` when none did).
    public var rule: String
    /// The channel that answered or timed out (`-` when none).
    public var channel: String
    /// Channels tried, in order, comma-separated.
    public var channelsTried: String
    /// The STAN the switch gave the request towards the host.
    public var hostStan: String?
    /// The business date it is booked to (`yyyy-MM-dd`): its channel's business day when it was
    /// forwarded (or the DE 15 it came with), else the switch's. Nil only in records written
    /// before business dates were kept.
    public var businessDate: String?
    /// The business date its reversal or advice is booked to: ``businessDate`` under the
    /// `original` booking rule, the date the reversal was made under `current`.
    public var forwardBusinessDate: String?
    /// The host's approval code (DE 38), when it gave one.
    public var approvalCode: String?
    /// DE 3, which tells a debit from a credit, a transfer or an inquiry in the day's totals.
    public var processingCode: String?
    /// The canonical result code.
    public var result: Int
    /// What the originator got: DE 39, or the ISO 20022 status and reason.
    public var responseCode: String?
    /// `approved`, `declined`, `timeout`, `unavailable`, `format-error`, `duplicate`, `system-error`, `stored`;
    /// for a reconciliation exchange with a host (0520/0530), `in-balance` or `out-of-balance`.
    public var outcome: String
    /// Microseconds from reading the request to sending its answer.
    public var totalMicros: Int64
    /// Microseconds the host took (nil when it was not asked or did not answer).
    public var hostMicros: Int64?
    /// `none`, or the kind of forward item the transaction left (`reversal`, `advice`).
    public var forward: String
    /// Set by queries from the store-and-forward table: `pending` or `acknowledged`, and the
    /// host's answer to it (DE 39, or the pacs.002 status/reason).
    public var forwardState: String?
    public var forwardResult: String?
    /// The request as received and the answer as sent, sealed with the data key: nothing of them
    /// is readable at rest, and an investigation sees them whole but masked
    /// (``maskedMessages(protection:wire:)``, `payswitch journal query --messages`).
    public var messages: SealedMessages?

    public init(id: String, started: Int64, listener: String, message: String, rule: String, channel: String, channelsTried: String,
                result: Int, outcome: String, totalMicros: Int64, forward: String = "none") {
        self.id = id
        self.started = started
        self.listener = listener
        self.message = message
        self.rule = rule
        self.channel = channel
        self.channelsTried = channelsTried
        self.result = result
        self.outcome = outcome
        self.totalMicros = totalMicros
        self.forward = forward
    }
}

/// What `payswitch journal query` and `stats` select; nil members match anything.
public struct JournalQuery: Sendable {
    public var stan: String?
    public var rrn: String?
    public var terminal: String?
    public var maskedPAN: String?
    public var panHash: String?
    public var uetr: String?
    public var endToEndId: String?
    public var outcome: String?
    public var channel: String?
    /// `yyyy-MM-dd`.
    public var businessDate: String?
    /// Unix milliseconds, inclusive.
    public var since: Int64?
    /// Unix milliseconds, exclusive.
    public var until: Int64?
    public var limit: Int

    public init(limit: Int = 1000) { self.limit = limit }
}

/// How many journal records a channel has with an outcome (and result code).
public struct JournalCount: Sendable, Equatable, Codable {
    public var channel: String
    public var outcome: String
    public var responseCode: String?
    public var count: Int

    public init(channel: String, outcome: String, responseCode: String?, count: Int) {
        self.channel = channel
        self.outcome = outcome
        self.responseCode = responseCode
        self.count = count
    }
}
