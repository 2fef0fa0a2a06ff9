import Logging
import ISO20022
import PaymentModel
import Transport

extension PaymentSwitch {
    /// Request kinds a bank or corporate sends to the switch; anything else is not a request.
    static let iso20022Requests: Set<PaymentMessage.Kind> = [.creditTransfer, .statusRequest, .cancellationRequest, .paymentReturn]

    /// An ISO 20022 document from an acquirer-side bank or a corporate channel.
    func receivedISO20022(_ payload: [UInt8], header: [UInt8], on connection: Connection, _ context: ListenerContext,
                          _ session: InboundSession) {
        let payment: PaymentMessage
        do {
            payment = try ISO20022Support.codec.decode(payload)
        } catch {
            metrics.undecodableRequest(listener: context.name)
            logger.warning("undecodable request", metadata: ["listener": "\(context.name)", "remote": "\(connection.remoteAddress)", "error": "\(error)"])
            session.undecodable += 1
            if session.undecodable >= InboundSession.undecodableLimit { connection.close() }
            return
        }
        guard PaymentSwitch.iso20022Requests.contains(payment.kind), payment.function == .request || payment.kind == .paymentReturn else {
            metrics.undecodableRequest(listener: context.name)
            logger.warning("not a request: ignored", metadata: ["listener": "\(context.name)", "message": "\(payment.source?.version ?? "?")"])
            return
        }
        let key = DuplicateKey(listener: context.index, messageClass: 0,
                               identity: [payment.identifiers.messageId ?? "", payment.identifiers.endToEndId ?? ""])
        let request = InboundRequest(connection: connection, listener: context, header: header, message: .iso20022(payload, payment), duplicateKey: key)
        guard register(request) else { return }
        route(request, payment)
    }
}
