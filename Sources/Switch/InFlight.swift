import Dispatch
import ISO8583
import PaymentModel
import Transport

/// How a channel matches an answer to the request it sent.
enum MatchKey: Hashable, Sendable {
    /// ISO 8583: the STAN the switch assigned towards the host.
    case stan(UInt32)
    /// ISO 20022: the message identification of the document sent (the answer's `OrgnlMsgId`).
    case reference(String)
}

/// A request accepted on a listener: everything needed to answer it exactly once, whoever answers.
final class InboundRequest: @unchecked Sendable {
    // Immutable after creation; `answered` is touched only through `PaymentSwitch.finish`, under
    // the switch's registry lock, so two completions (an answer racing a timeout) cannot both win.
    let connection: Connection
    let listener: ListenerContext
    /// The framing header (TPDU) it came with, to answer with; empty when the framing has none.
    let header: [UInt8]
    let message: InboundMessage
    /// The key it holds in the duplicate registry, released when it is answered.
    let duplicateKey: DuplicateKey?
    /// When it was read (uptime nanoseconds).
    let started: UInt64
    /// The routing rule that decided, once routed.
    var ruleID = "-"
    var channelName = "-"
    /// Channels that refused the request before the one that took it (rarely any).
    var refusedBy: [String] = []
    /// The STAN the request went to its host with (ISO 8583).
    var hostStan: UInt32 = 0
    /// The message id the host's answer names as the original (ISO 20022).
    var hostReference: String?
    /// The RRN the switch gave a request that came without one, so that its reversal carries the same.
    var assignedRRN: String?
    /// The business date it is booked to and the rule for its reversal's, once it is forwarded
    /// (else the journal books it by the switch's business day).
    var booking: Booking?
    /// Its journal id, when given before the journal record is written (a stored reversal or advice names it).
    var transaction: String?
    /// Whether its journal record has a place reserved, goes beyond the capacity, or is not written.
    var journalPlace = JournalPlace.unreserved
    /// Whether a claim was written for it before it was forwarded (settled when it is journalled).
    var claimed = false
    /// Where its claim stands (``ClaimMark``, or the claim block holding it); the storage writer's alone.
    var claimBlock = ClaimMark.none
    /// Its claim in the cluster, once this node holds it: the storage writes its answer there, for
    /// a retransmission reaching any node.
    var clusterKey: ClusterClaimKey?

    /// When it was read, in Unix milliseconds (from ``started`` and the clocks now).
    var startedUnixMilliseconds: Int64 {
        Durability.now() - Int64(clamping: (DispatchTime.now().uptimeNanoseconds &- started) / 1_000_000)
    }

    /// For one transaction of a batch the switch split: where its answer goes instead of the connection.
    let batch: BatchSlot?

    init(connection: Connection, listener: ListenerContext, header: [UInt8], message: InboundMessage, duplicateKey: DuplicateKey?,
         batch: BatchSlot? = nil) {
        self.connection = connection
        self.listener = listener
        self.header = header
        self.message = message
        self.duplicateKey = duplicateKey
        self.batch = batch
        self.started = DispatchTime.now().uptimeNanoseconds
    }

    /// Sends its one answer: on the originator's connection, or to its batch, which answers the
    /// originator once every transaction has an answer.
    func deliver(_ answer: [UInt8]) {
        if let batch { return batch.answers.collect(answer, at: batch.index) }
        connection.sendAnswer(answer, header: header)
    }
}

extension Connection {
    /// Sends an answer to the originator from whichever queue completes it, with the framing
    /// header (TPDU) swapped when the request came with one.
    func sendAnswer(_ bytes: [UInt8], header: [UInt8]) {
        if header.isEmpty {
            sendFromAnyThread(bytes)
        } else {
            replyFromAnyThread(bytes, to: header)
        }
    }
}

/// The business date a forwarded request is booked to, and how its channel books a reversal.
struct Booking: Sendable {
    var date: BusinessDate
    var day: BusinessDay
    var reversalBooking: ReversalBooking

    /// The date a reversal or advice made at `unixMilliseconds` is booked to.
    func forwardDate(madeAt unixMilliseconds: Int64) -> BusinessDate {
        reversalBooking == .original ? date : day.date(atUnixMilliseconds: unixMilliseconds)
    }

    /// How `channel` books a request read at `unixMilliseconds`: the DE 15 it carries (as
    /// received, or as sent to the host), else the channel's business day then.
    init(_ message: ISO8583Message?, at unixMilliseconds: Int64, businessDay configuration: BusinessDayConfiguration?) {
        day = configuration?.day ?? BusinessDay()
        reversalBooking = configuration?.reversalBooking ?? .original
        date = day.date(atUnixMilliseconds: unixMilliseconds)
        if let message, message.contains(15), let stated = message.string(15).flatMap({ BusinessDate.settlementDate($0, near: date) }) {
            date = stated
        }
    }
}

/// How a request's journal record is accounted for in the journal's bounded queue.
enum JournalPlace: Sendable {
    /// A place was reserved when it was accepted.
    case reserved
    /// Written beyond the capacity (answered before admission, such as a format error).
    case unreserved
    /// Shed: answered with a system error and not journalled, because the journal was full.
    case shed
}

/// The request as decoded on the listener, in its own format.
enum InboundMessage: @unchecked Sendable {
    /// ISO 8583 as received. Its canonical form is routed and then dropped: nothing after routing
    /// reads it, and carrying it would copy and release every field with each request.
    case iso8583(ISO8583Message)
    /// ISO 20022 as received (bytes) and its canonical form.
    case iso20022([UInt8], PaymentMessage)
}

/// One request sent to a host and not yet answered.
struct InFlight: Sendable {
    /// Unique per channel: tells this request from a later one that reuses its key.
    let sequence: UInt64
    let request: InboundRequest
    let link: Int
    /// Uptime nanoseconds after which it is declined with a timeout.
    let deadline: UInt64
    /// When it was sent (uptime nanoseconds).
    let sent: UInt64
    let merchant: String?
}

/// Identifies a request from its originator for duplicate detection: the same key in flight twice
/// is a retransmission, not a new request.
struct DuplicateKey: Hashable, Sendable {
    let listener: Int
    /// The MTI's class digit, or 0 for ISO 20022.
    let messageClass: Int
    /// STAN and the configured fields (ISO 8583), or the message and end-to-end ids (ISO 20022).
    let identity: [String]
}
