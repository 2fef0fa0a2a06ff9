import CanonicalJSON
import Dispatch
import ISO8583
import ISO20022
import PaymentModel
public import SecurityModule

extension JournalEntry {
    /// The journal record: identification read from the request, the PAN masked and hashed (the
    /// messages are kept by the block it goes in: ``keptRequest``). Runs on the storage writer's
    /// queue, never on a connection's.
    func record(id: String, hasher: LookupHasher, results: ResultCodeTable, businessDay: BusinessDay) -> JournalRecord {
        let total = finished &- request.started
        let started = request.startedUnixMilliseconds
        let listener = request.listener
        var record = JournalRecord(
            id: id, started: started, listener: listener.name, message: "?", rule: request.ruleID,
            channel: request.channelName, channelsTried: JournalEntry.tried(request),
            result: result.value, outcome: JournalEntry.outcome(result, forward: forward?.kind), totalMicros: Int64(clamping: total / 1000),
            forward: forward?.kind.rawValue ?? "none")
        record.hostMicros = hostNanoseconds.map { Int64(clamping: $0 / 1000) }
        record.hostStan = request.hostStan == 0 ? nil : NetworkManagement.sixDigits(request.hostStan)
        let date = request.booking?.date ?? businessDay.date(atUnixMilliseconds: started)
        record.businessDate = date.description
        if let forward {
            record.forwardBusinessDate = (request.booking?.forwardDate(madeAt: forward.created) ?? date).description
        }
        record.approvalCode = approvalCode
        switch (request.message, listener.configuration.wire) {
        case (.iso8583(let message), .iso8583(let dialect, let mapping)):
            record.message = message.mti.description
            record.stan = message.string(11)
            record.identify(message, hasher)
            // The RRN the host saw: the originator's, or the one the switch gave it.
            if record.rrn == nil { record.rrn = request.assignedRRN }
            if responseCode == nil, let answer = try? ISO8583Message(decoding: self.answer, dialect: dialect) {
                record.responseCode = answer.string(39)
                if record.approvalCode == nil { record.approvalCode = answer.string(38) }
            }
            if record.responseCode == nil { record.responseCode = responseCode ?? mapping.responseCode(for: result, results: results) }
        case (.iso20022(_, let payment), _):
            record.message = payment.source?.version ?? payment.kind.rawValue
            record.messageId = payment.identifiers.messageId
            record.endToEndId = payment.identifiers.endToEndId
            record.uetr = payment.identifiers.uetr
            if let amount = payment.amount {
                record.amount = amount.minorUnits
                record.currency = amount.currency.code
            }
            if let pan = payment.pan { record.card(pan, hasher) }
            record.responseCode = responseCode ?? (try? ISO20022Support.codec.decode(self.answer)).map(ISO20022Support.statusText(of:))
        default:
            break
        }
        return record
    }

    /// The request as the journal keeps it: as received (ISO 8583 re-encoded when it was changed),
    /// its track data, PIN block and card verification values zeroed (nothing of them is kept
    /// once the transaction is done).
    var keptRequest: [UInt8]? {
        switch (request.message, request.listener.configuration.wire) {
        case (.iso8583(let received), .iso8583(let dialect, _)):
            let message = received.withoutAuthenticationData(dialect: dialect)
            return message.receivedFrame ?? (try? message.encoded(as: dialect))
        case (.iso20022(let bytes, _), _): return bytes
        default: return nil
        }
    }

    /// The channels tried, in order, comma-separated.
    static func tried(_ request: InboundRequest) -> String {
        let took = request.channelName == "-" ? [] : [request.channelName]
        return request.refusedBy.isEmpty ? took.first ?? "" : (request.refusedBy + took).joined(separator: ",")
    }

    /// The outcome a result stands for, in the journal's words.
    static func outcome(_ result: ResultCode, forward: ForwardItem.Kind?) -> String {
        if forward == .advice { return "stored" }
        switch result {
        case .issuerTimeout: return "timeout"
        case .issuerUnavailable: return "unavailable"
        case .formatError: return "format-error"
        case .duplicateTransmission: return "duplicate"
        default: break
        }
        switch result.category {
        case .approved: return "approved"
        case .declined: return "declined"
        case .reversal: return "reversed"
        case .network: return "network"
        case .systemError: return "system-error"
        }
    }
}

extension JournalRecord {
    /// The request and the answer, opened with the data key and shown as masked JSON (card data
    /// masked, EMV tags that identify the card starred); nil for what was not kept or cannot be read.
    ///
    /// - Parameter wire: The format of the listener the request came on.
    public func maskedMessages(protection: DataProtection, wire: WireFormat) -> (request: String?, answer: String?) {
        func render(_ part: SealedMessages.Part?) -> String? {
            guard let part, let opened = try? protection.open(part.sealed) else { return nil }
            let bytes: ArraySlice<UInt8>
            if let range = part.range {
                guard range.upperBound <= opened.count else { return nil }
                bytes = opened[range]
            } else {
                bytes = opened[...]
            }
            switch wire {
            case .iso8583(let dialect, _):
                return (try? ISO8583Message(decoding: Array(bytes), dialect: dialect)).map { MessageJSON.render($0, dialect: dialect, unmask: false) }
            case .iso20022:
                return (try? ISO20022Support.codec.decode(Array(bytes))).map { PaymentJSON.render($0, unmask: false) }
            }
        }
        return (render(messages?.request), render(messages?.answer))
    }

    /// What identifies an ISO 8583 transaction beyond its STAN: RRN, terminal, merchant, card, amount.
    mutating func identify(_ message: ISO8583Message, _ hasher: LookupHasher) {
        rrn = message.string(37)
        processingCode = message.string(3)
        terminal = message.string(41)
        merchant = message.string(42)
        if let pan = message.string(2).flatMap(PAN.init) { card(pan, hasher) }
        amount = message.integer(4)
        currency = message.string(49)
    }

    /// The PAN as first six and last four, and its lookup hash.
    mutating func card(_ pan: PAN, _ hasher: LookupHasher) {
        maskedPAN = pan.description
        pan.withRevealedDigits { panHash = hasher.recordHash(ofDigits: $0) }
    }
}
