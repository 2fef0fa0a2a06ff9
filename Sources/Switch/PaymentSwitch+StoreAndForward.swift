import ISO8583
import Logging
import PaymentModel
import SecurityModule

extension PaymentSwitch {
    /// For an authorization or financial request its host did not answer (timeout, link lost,
    /// unreadable answer, shutdown): declines the originator with the request's reversal stored in
    /// the same write as its journal record, so neither exists without the other.
    ///
    /// - Returns: Whether the originator's answer was taken care of; false when no reversal applies.
    func reverseBeforeAnswering(_ request: InboundRequest, channel: Channel, code: ResultCode) -> Bool {
        guard let durability, let queue = durability.forwardQueues[channel.name], channel.configuration.reversal != .off,
              case .iso8583(let original) = request.message, Reversal.applies(to: original.mti), let host = channel.iso8583 else { return false }
        let transaction = request.transaction ?? durability.writer.nextTransactionID()
        request.transaction = transaction
        let item: ForwardItem
        do {
            let outbound = try outboundMessage(request, channel: channel, stan: request.hostStan)
            let reversal = try Reversal.make(from: outbound, advice: channel.configuration.reversal == .advice, dialect: host.dialect,
                                             transmitted: NetworkManagement.transmissionDateTime())
            item = ForwardItem(channel: channel.name, kind: .reversal, transaction: transaction,
                               sealedMessage: try durability.protection.seal(try reversal.encoded(as: host.dialect)), created: Durability.now())
        } catch {
            logger.critical("cannot make the reversal of a request its host did not answer", metadata: [
                "channel": "\(channel.name)", "transaction": "\(transaction)", "error": "\(error)",
            ])
            answerLocally(request, code)
            return true
        }
        metrics.forward(channel: channel.name, kind: .reversal, event: "stored")
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
            item = ForwardItem(channel: channel.name, kind: .advice, transaction: transaction,
                               sealedMessage: try durability.protection.seal(try message.encoded(as: host.dialect)), created: Durability.now())
        } catch {
            logger.error("advice cannot be carried to the channel", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
            return answerLocally(request, .systemError)
        }
        metrics.forward(channel: channel.name, kind: .advice, event: "stored")
        answerLocally(request, .approved, forward: item) { [weak queue] stored in queue?.add(stored) }
    }
}
