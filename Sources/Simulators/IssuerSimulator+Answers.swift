import Foundation
import ISO8583
import ISO20022
import PaymentModel

extension IssuerSimulator {
    /// Decodes an ISO 8583 request and encodes its answer into `buffer` (the loop's, reused).
    ///
    /// The request is mapped to the canonical message only when something reads it: a record, or
    /// behaviour rules (an approve-all behaviour answers from the decoded fields alone). The answer is
    /// the request itself, turned into its response in place, so answering allocates only the
    /// request's copy and its field table.
    func answerISO8583(_ payload: UnsafeRawBufferPointer, dialect: Dialect, sequence: Int, behaviour: IssuerBehaviour,
                       recording: Bool, into buffer: UnsafeMutableRawBufferPointer) throws -> Exchange {
        // Room for DE 38 and 39 (and their prefixes) to be added in place.
        let request = try ISO8583Message(decoding: payload, dialect: dialect, spareCapacity: 16)
        let mapping = try self.mapping ?? ISO8583Mapping.shipped(for: dialect)
        let needsPayment = recording || !behaviour.rules.isEmpty
        let payment = needsPayment ? try? mapping.canonical(from: request, dialect: dialect, results: results, scope: .routing) : nil
        var record: ReceivedMessage?
        if recording {
            var made = ReceivedMessage(message: request.mti.description)
            made.kind = payment?.kind.rawValue
            made.stan = request.string(11)
            made.rrn = request.string(37)
            made.original = request.string(90) ?? request.string(56)
            made.pan = request.string(2).flatMap(PAN.init)?.description
            made.amount = payment?.amount?.description
            record = made
        }
        let mti = request.mti
        guard mti.expectsResponse else { return Exchange(record: record, answer: nil) }

        if mti.messageClass == 5 { return try answerReconciliation(request, dialect: dialect, mapping: mapping, record: record, into: buffer) }
        var result: ResultCode
        switch mti.messageClass {
        case 8: result = ResultCode(8000)!
        case 4:
            // Booked only if its original was approved here: else "original not found".
            let found = configuration.clearing.map { book in ClearingBook.Entry(request, approvalCode: nil).map(book.reverse) ?? false } ?? true
            result = found ? ResultCode(4000)! : ResultCode(4080)!
        default:
            // Advices (x120, x220) are acknowledged; requests are decided by the rules.
            if mti.function == 2 || behaviour.rules.isEmpty {
                result = mti.function == 2 ? .approved : behaviour.defaultResult
            } else if let payment {
                guard let decided = behaviour.result(for: payment, messageName: mti.description) else {
                    record?.result = "no answer (rule)"
                    return Exchange(record: record, answer: nil)
                }
                result = decided
            } else {
                result = ResultCode(9100)!  // format error: the request does not map
            }
        }
        if let pinCheck = configuration.pinCheck, (mti.messageClass == 1 || mti.messageClass == 2) && mti.function == 0, request.contains(52) {
            let verified = pinCheck.verifies(request)
            record?.pin = verified ? "verified" : "wrong"
            if !verified { result = ResultCode(1017)! }  // incorrect PIN
        }
        var answer = request.answerSkeleton()
        let code = mapping.responseCode(for: result, results: results) ?? (mapping.usesActionCodes ? "909" : "96")
        answer.set(39, code)
        var approvalCode: String? = nil
        if result.category == .approved, mti.messageClass == 1 || mti.messageClass == 2, behaviour.approvalCode {
            approvalCode = IssuerSimulator.approvalCode(sequence)
            answer.set(38, approvalCode!)
        }
        record?.result = code
        let count = try? answer.encode(as: dialect, into: buffer)
        var exchange = Exchange(record: record, answer: try count.map { .inLoopBuffer(count: $0) } ?? .array(answer.encoded(as: dialect)), mti: mti)
        if configuration.clearing != nil, result.category == .approved, (mti.messageClass == 1 || mti.messageClass == 2) && mti.function == 0 {
            exchange.approval = ClearingBook.Entry(request, approvalCode: approvalCode)
        }
        return exchange
    }

    /// Answers a reconciliation request (0500/0520, 1520): in balance (00, or 500 in 1993) when its
    /// DE 74–89 equal the clearing book's totals for the business date in DE 15, else out of
    /// balance (95, or 501) with the book's own totals in the answer.
    private func answerReconciliation(_ request: ISO8583Message, dialect: Dialect, mapping: ISO8583Mapping, record: ReceivedMessage?,
                                      into buffer: UnsafeMutableRawBufferPointer) throws -> Exchange {
        var record = record
        var answer = request.answerSkeleton()
        let version = request.mti.version
        let today = (configuration.clearing?.businessDay ?? BusinessDay()).date(atUnixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let date = request.string(15).flatMap { BusinessDate.settlementDate($0, near: today) } ?? today
        let ours = configuration.clearing?.totals(on: date) ?? ReconciliationTotals()
        let inBalance = ReconciliationTotals(request) == ours
        let code = ReconciliationTotals.answerCode(inBalance: inBalance, version: version)
        answer.set(39, code)
        if !inBalance { ours.write(into: &answer, dialect: dialect) }
        record?.result = code
        let count = try? answer.encode(as: dialect, into: buffer)
        return Exchange(record: record, answer: try count.map { .inLoopBuffer(count: $0) } ?? .array(answer.encoded(as: dialect)), mti: request.mti)
    }

    /// Six characters from a sequence number: `A00042`.
    static func approvalCode(_ sequence: Int) -> String {
        let digits = String(sequence % 100_000)
        return "A" + String(repeating: "0", count: 5 - digits.count) + digits
    }

    /// Decodes an ISO 20022 request and builds its answer: pacs.008 and pacs.028 get pacs.002,
    /// camt.056 gets camt.029. A batch (a pacs.008 of several transactions) gets one pacs.002 with
    /// a status for each transaction, each decided by the rules on its own, and the group status
    /// derived from them; when the rules leave one transaction unanswered, the whole batch is.
    func answerISO20022(_ payload: [UInt8], sequence: Int, behaviour: IssuerBehaviour) throws -> Exchange {
        let requests = try ISO20022Codec().decodeBatch(payload)
        let request = requests[0]
        let name = request.source?.version ?? "?"
        var record = ReceivedMessage(message: name)
        record.kind = request.kind.rawValue
        record.messageId = request.identifiers.messageId
        record.endToEndId = request.identifiers.endToEndId
        record.amount = request.amount?.description
        var answers: [PaymentMessage] = []
        for transaction in requests {
            guard let result = behaviour.result(for: transaction, messageName: name) else {
                record.result = "no answer (rule)"
                return Exchange(record: record, answer: nil)
            }
            guard let answer = answer(to: transaction, result: result, messageName: name, sequence: sequence) else {
                record.result = "no answer for \(request.kind.rawValue)"
                return Exchange(record: record, answer: nil)
            }
            answers.append(answer)
        }
        record.result = answers.map { answer in answer.status.map { $0 + (answer.statusReason.map { "/" + $0 } ?? "") } ?? "?" }
            .joined(separator: ",")
        let document = answers.count == 1 ? try ISO20022Codec.encode(answers[0])
            : try ISO20022Codec.encodeBatch(answers, as: .pacs002).document
        return Exchange(record: record, answer: .array(Array(document.utf8)), messageName: name)
    }

    /// The answer to one transaction: a status report, or a resolution of a cancellation.
    private func answer(to request: PaymentMessage, result: ResultCode, messageName name: String, sequence: Int) -> PaymentMessage? {
        let row = results.row(result)
        var answer: PaymentMessage
        switch request.kind {
        case .creditTransfer, .statusRequest:
            answer = PaymentMessage(kind: .statusReport, function: .response)
            answer.status = row?.status ?? "RJCT"
            answer.statusReason = answer.status == "RJCT" ? (row?.reason ?? "NARR") : nil
            answer.unmapped.append(UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: request.identifiers.messageId ?? "NOTPROVIDED"))
            answer.unmapped.append(UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgNmId", value: name))
        case .cancellationRequest:
            answer = PaymentMessage(kind: .resolutionOfInvestigation, function: .response)
            // Cancelled when the rules approve, else the cancellation is rejected.
            answer.status = result.category == .approved ? "CNCL" : "RJCR"
            answer.amount = request.amount
        default:
            return nil
        }
        answer.identifiers.messageId = "SIM-" + String(sequence)
        answer.identifiers.instructionId = request.identifiers.instructionId
        answer.identifiers.endToEndId = request.identifiers.endToEndId
        answer.identifiers.transactionId = request.identifiers.transactionId
        answer.identifiers.uetr = request.identifiers.uetr
        // The answer goes back the way the request came.
        answer.instructingAgent = request.instructedAgent ?? request.creditorAgent
        answer.instructedAgent = request.instructingAgent ?? request.debtorAgent
        return answer
    }
}
