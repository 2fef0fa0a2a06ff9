import Logging
import ISO20022
import PaymentModel
import Routing
import Transport

extension PaymentSwitch {
    /// Request kinds a bank or corporate sends to the switch; anything else is not a request.
    static let iso20022Requests: Set<PaymentMessage.Kind> = [.creditTransfer, .statusRequest, .cancellationRequest, .paymentReturn]

    /// An ISO 20022 document from an acquirer-side bank or a corporate channel.
    func receivedISO20022(_ payload: [UInt8], header: [UInt8], on connection: Connection, _ context: ListenerContext,
                          _ session: InboundSession) {
        let document: ISO20022Document
        let payment: PaymentMessage
        do {
            // Parsed once: the document also serves the batch check.
            document = try ISO20022Support.codec.parse(payload)
            payment = try ISO20022Codec.map(document)
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
        if let refusal = batchRefusal(document, first: payment) { return answerLocally(request, refusal) }
        route(request, payment)
    }

    /// Why a message of several transactions cannot go as one, or nil: every transaction is read by
    /// the rules (one the rules decline declines the message, as it would alone), and all must
    /// take the first one's route, since a message is forwarded whole. The canonical message maps
    /// the first transaction only; the others travel as they are.
    private func batchRefusal(_ document: ISO20022Document, first: PaymentMessage) -> ResultCode? {
        guard document.transactionCount > 1 else { return nil }
        let clock = RoutingClock.context()
        let firstRoute = router.route(first, clock)
        if let decline = firstRoute.decline, firstRoute.candidates.isEmpty { return decline }
        for index in 1..<document.transactionCount {
            guard let transaction = try? ISO20022Codec.map(document.transaction(index)) else { return .formatError }
            let route = router.route(transaction, clock)
            if let decline = route.decline, route.candidates.isEmpty {
                logger.warning("a transaction of a batch is declined by the rules: the message is declined",
                               metadata: ["rule": "\(route.ruleID)", "transaction": "\(index + 1)"])
                return decline
            }
            guard route.candidates.first == firstRoute.candidates.first else {
                logger.warning("the transactions of a batch route to different channels: the message is refused",
                               metadata: ["transaction": "\(index + 1)"])
                return ResultCode(9108)!
            }
        }
        return nil
    }
}
