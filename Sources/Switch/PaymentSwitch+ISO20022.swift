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
        claimThen(request, key: PaymentSwitch.claimKey(listener: context.name, payment)) { [self] in
            if document.transactionCount > 1 {
                // A pacs.008 batch whose transactions route apart is split; any other batch goes whole or not at all.
                if document.definition == .pacs008, let transactions = try? ISO20022Codec.mapBatch(document, checkingTotals: false) {
                    if routeApart(transactions) { return split(request, payment, into: transactions) }
                } else if let refusal = batchRefusal(document, first: payment) {
                    return answerLocally(request, refusal)
                }
            }
            route(request, payment)
        }
    }

    /// Whether the transactions do not all take the first one's route (another channel, or a
    /// decline by the rules); when they do, the batch goes whole, byte for byte.
    private func routeApart(_ transactions: [PaymentMessage]) -> Bool {
        let clock = RoutingClock.context()
        let routes = transactions.map { router.route($0, clock) }
        return !routes.allSatisfy { ($0.decline == nil || !$0.candidates.isEmpty) && $0.candidates.first == routes[0].candidates.first }
    }

    /// Routes each transaction of a batch on its own, as a pacs.008 of one transaction with a
    /// message id of the switch's, and answers the originator once with one pacs.002: a status for
    /// each transaction (the host's, or the switch's own), the group status derived from them.
    /// Each transaction is journalled as its own request; the batch, with the answer it got.
    private func split(_ batch: InboundRequest, _ payment: PaymentMessage, into transactions: [PaymentMessage]) {
        logger.info("a batch whose transactions route apart is split", metadata: ["transactions": "\(transactions.count)"])
        let answers = BatchAnswer(count: transactions.count) { [self] answers in
            let (bytes, result) = batchReport(answers, for: transactions, of: payment)
            batch.ruleID = "batch"
            finish(batch, bytes, result: result)
        }
        for (index, original) in transactions.enumerated() {
            var transaction = original
            transaction.identifiers.messageId = ISO20022Leg.newMessageId()
            let bytes = (try? ISO20022Codec.encodeBatch([transaction], as: .pacs008).document).map { Array($0.utf8) }
            let child = InboundRequest(connection: batch.connection, listener: batch.listener, header: batch.header,
                                       message: .iso20022(bytes ?? [], transaction), duplicateKey: nil,
                                       batch: BatchSlot(answers: answers, index: index))
            guard admit(child) else { continue }
            guard bytes != nil else {
                logger.warning("a transaction of a batch cannot be written alone: refused", metadata: ["transaction": "\(index + 1)"])
                answerLocally(child, .formatError)
                continue
            }
            route(child, transaction)
        }
    }

    /// One pacs.002 for a split batch: each transaction's status as its answer gave it (kept
    /// leaves of the host's report included), naming the batch as the original message.
    private func batchReport(_ answers: [[UInt8]], for transactions: [PaymentMessage], of batch: PaymentMessage) -> ([UInt8], ResultCode) {
        let reportId = ISO20022Leg.newMessageId()
        var reports: [PaymentMessage] = []
        var outcome = ResultCode.approved
        for (index, answer) in answers.enumerated() {
            var report = (try? ISO20022Support.codec.decode(answer)).flatMap { $0.kind == .statusReport ? $0 : nil }
                ?? PaymentMessage(kind: .statusReport, function: .response)
            if report.status == nil { (report.status, report.statusReason) = ("RJCT", "NARR") }
            let result = ISO20022Leg.result(of: report, results: results)
            if outcome == .approved, result != .approved { outcome = result }
            report.identifiers = transactions[index].identifiers
            report.identifiers.messageId = reportId
            report.instructingAgent = batch.instructedAgent
            report.instructedAgent = batch.instructingAgent
            report.sourcePositions = [:]
            report.unmapped = [UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: batch.identifiers.messageId ?? "NOTPROVIDED"),
                               UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgNmId", value: ISO20022MessageDefinition.pacs008.rawValue)]
                + report.unmapped.filter { $0.key.hasPrefix("TxInfAndSts/") }
            reports.append(report)
        }
        do {
            return (Array(try ISO20022Codec.encodeBatch(reports, as: .pacs002).document.utf8), outcome)
        } catch {
            logger.error("the batch's report cannot be written: a system error for the batch", metadata: ["error": "\(error)"])
            return ((try? ISO20022Leg.localAnswer(to: batch, code: .systemError, results: results)) ?? [], .systemError)
        }
    }

    /// Why a message of several transactions cannot go as one, or nil: every transaction is read by
    /// the rules (one the rules decline declines the message, as it would alone), and all must
    /// take the first one's route, since a message is forwarded whole. The canonical message maps
    /// the first transaction only; the others travel as they are.
    private func batchRefusal(_ document: ISO20022Document, first: PaymentMessage) -> ResultCode? {
        let clock = RoutingClock.context()
        let firstRoute = router.route(first, clock)
        if let decline = firstRoute.decline, firstRoute.candidates.isEmpty { return decline }
        for (index, single) in document.transactions().enumerated().dropFirst() {
            guard let transaction = try? ISO20022Codec.map(single) else { return .formatError }
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
