import ISO8583
import ISO20022
import Logging
import PaymentModel
import SecurityModule

extension PaymentSwitch {
    /// Whether a request left unanswered by its host must be made good: an ISO 8583 authorization
    /// or financial request is reversed, an ISO 20022 credit transfer is asked after (pacs.028).
    func needsCompensation(_ request: InboundRequest, on channel: Channel) -> Bool {
        switch request.message {
        case .iso8583(let message): channel.iso8583 != nil && channel.configuration.reversal != .off && Reversal.applies(to: message.mti)
        case .iso20022(_, let payment): channel.iso8583 == nil && payment.kind == .creditTransfer
        }
    }

    /// For a request its host did not answer (timeout, link lost, unreadable answer, shutdown):
    /// declines the originator, with the reversal or status request stored in the same write as the
    /// transaction's journal record, so neither exists without the other.
    ///
    /// - Returns: Whether the originator's answer was taken care of; false when nothing is due.
    func compensateBeforeAnswering(_ request: InboundRequest, channel: Channel, code: ResultCode) -> Bool {
        guard let durability, let queue = durability.forwardQueues[channel.name], needsCompensation(request, on: channel) else { return false }
        let transaction = request.transaction ?? durability.writer.nextTransactionID()
        request.transaction = transaction
        let item: ForwardItem
        do {
            switch request.message {
            case .iso8583:
                item = try Compensation.reversal(of: try outboundMessage(request, channel: channel, stan: request.hostStan), channel: channel,
                                                 transaction: transaction, protection: durability.protection)
            case .iso20022(let bytes, let payment):
                guard let reference = request.hostReference else { throw SwitchError("no message id was sent to the host") }
                let sent = try ISO20022Support.codec.decode(try ISO20022Leg.outbound(bytes, payment, reference: .reference(reference)))
                item = try Compensation.statusRequest(about: sent, channel: channel, transaction: transaction, protection: durability.protection)
            }
        } catch {
            logger.critical("cannot make good a request its host did not answer", metadata: [
                "channel": "\(channel.name)", "transaction": "\(transaction)", "error": "\(error)",
            ])
            answerLocally(request, code)
            return true
        }
        metrics.forward(channel: channel.name, kind: item.kind, event: "stored")
        answerLocally(request, code, forward: item) { [weak queue] stored in queue?.add(stored) }
        return true
    }

    /// An advice (x120, x220, x420) from an originator: acknowledged once it is stored for the
    /// channel's queue (the acknowledgement goes out after the write, like every answer).
    func storeAdvice(_ request: InboundRequest, channel: Channel) {
        guard let durability, let queue = durability.forwardQueues[channel.name], let host = channel.iso8583 else {
            return answerLocally(request, .systemError)
        }
        let transaction = durability.writer.nextTransactionID()
        request.transaction = transaction
        request.channelName = channel.name
        let item: ForwardItem
        do {
            // DE 11 is written with each send; the stored copy carries 000000.
            let message = try outboundMessage(request, channel: channel, stan: 0)
            item = try Compensation.stored(.advice, try message.encoded(as: host.dialect), channel: channel, transaction: transaction,
                                           protection: durability.protection)
        } catch {
            logger.error("advice cannot be carried to the channel", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
            return answerLocally(request, .systemError)
        }
        metrics.forward(channel: channel.name, kind: .advice, event: "stored")
        // A stored reversal advice is acknowledged as a reversal: 1993's "400", not "000".
        let isReversal = if case .iso8583(let message) = request.message { message.mti.messageClass == 4 } else { false }
        let acknowledgement: ResultCode = isReversal ? .reversalAccepted : .approved
        answerLocally(request, acknowledgement, forward: item) { [weak queue] stored in queue?.add(stored) }
    }
}

/// The messages that make good a request a host may have acted on without answering, and how a
/// stored message is sealed.
enum Compensation {
    /// The reversal of an ISO 8583 request as the host received it, sealed for the store.
    static func reversal(of sent: ISO8583Message, channel: Channel, transaction: String, protection: DataProtection) throws -> ForwardItem {
        guard let host = channel.iso8583 else { throw SwitchError("an ISO 8583 reversal for an ISO 20022 channel") }
        var reversal = try Reversal.make(from: sent, advice: channel.configuration.reversal == .advice, dialect: host.dialect,
                                         transmitted: NetworkManagement.transmissionDateTime())
        // Booked to the day it is made where the channel's rule says so; else it keeps the original's DE 15.
        if let businessDay = channel.configuration.businessDay, businessDay.reversalBooking == .current, reversal.contains(15),
           let field = host.dialect[field: 15] {
            reversal.set(15, businessDay.day.date(atUnixMilliseconds: Durability.now()).settlementDateField(digits: field.maxLength))
        }
        return try stored(.reversal, try reversal.encoded(as: host.dialect), channel: channel, transaction: transaction, protection: protection)
    }

    /// A pacs.028 asking the bank for the status of a credit transfer as it was sent (its message
    /// id, transaction identifiers and agents), sealed for the store.
    static func statusRequest(about sent: PaymentMessage, channel: Channel, transaction: String, protection: DataProtection) throws -> ForwardItem {
        var request = PaymentMessage(kind: .statusRequest, function: .request)
        request.identifiers = sent.identifiers
        request.identifiers.messageId = ISO20022Leg.newMessageId()
        request.instructingAgent = sent.instructingAgent
        request.instructedAgent = sent.instructedAgent
        request.unmapped = [
            UnmappedField(key: "OrgnlGrpInf/OrgnlMsgId", value: sent.identifiers.messageId ?? "NOTPROVIDED"),
            UnmappedField(key: "OrgnlGrpInf/OrgnlMsgNmId", value: sent.source?.version ?? ISO20022MessageDefinition.pacs008.rawValue),
        ]
        let document = Array(try ISO20022Codec.encode(request, as: .pacs028).utf8)
        return try stored(.statusRequest, document, channel: channel, transaction: transaction, protection: protection)
    }

    /// A forward item of `message` (as the host reads it), sealed for the store.
    static func stored(_ kind: ForwardItem.Kind, _ message: [UInt8], channel: Channel, transaction: String,
                       protection: DataProtection) throws -> ForwardItem {
        ForwardItem(channel: channel.name, kind: kind, transaction: transaction, sealedMessage: try protection.seal(message),
                    created: Durability.now())
    }
}
