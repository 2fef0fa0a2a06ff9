import ISO20022
import PaymentModel
import Synchronization

/// The ISO 20022 side of the switch: what goes to a bank host for a request, and what goes back.
///
/// Interbank messages (pacs.008, pacs.028, camt.056, pacs.004) travel as received, byte for byte,
/// and their answers likewise: the switch routes them, it does not rewrite them (a pacs.008 batch
/// whose transactions route apart is split: `PaymentSwitch+ISO20022`). A pain.001 from a
/// corporate channel becomes a pacs.008 with the switch's own message id, and the pacs.002 that
/// answers it becomes a pain.002 naming the corporate's original message.
enum ISO20022Leg {
    private static let counter = Atomic<UInt64>(0)
    private static let epoch = UInt64(time(nil))

    /// A message id of the switch's own: `PSW` + start time + a sequence number (at most 35 characters).
    static func newMessageId() -> String {
        "PSW\(epoch)-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    /// Whether a request arrived as a customer-to-bank pain.001.
    static func isPain001(_ payment: PaymentMessage) -> Bool {
        payment.source?.version == ISO20022MessageDefinition.pain001.rawValue
    }

    /// The id the host's answer will name as the original: the request's own message id when it is
    /// forwarded as is, a new one when the switch writes a pacs.008 for a pain.001, the transaction
    /// concerned for a cancellation (its camt.029 names nothing else).
    static func reference(for payment: PaymentMessage) -> String? {
        if isPain001(payment) { return newMessageId() }
        if payment.kind == .cancellationRequest { return ISO20022Support.cancellationReference(payment) }
        return payment.identifiers.messageId
    }

    /// The document sent to the bank host.
    static func outbound(_ bytes: [UInt8], _ payment: PaymentMessage, reference: MatchKey) throws -> [UInt8] {
        guard isPain001(payment) else { return bytes }
        guard case .reference(let messageId) = reference else { throw SwitchError("a pacs.008 needs a message id") }
        var transfer = payment
        transfer.source = nil
        transfer.identifiers.messageId = messageId
        transfer.instructingAgent = payment.debtorAgent
        transfer.instructedAgent = payment.creditorAgent
        transfer.settlementMethod = payment.settlementMethod ?? "CLRG"
        transfer.chargeBearer = payment.chargeBearer ?? "SLEV"
        transfer.businessHeader = nil
        return Array(try ISO20022Codec.encode(transfer, as: .pacs008).utf8)
    }

    /// The canonical result of a bank's answer. A camt.029 reports what became of a cancellation
    /// rather than a transaction status: CNCL (cancelled) is the request's success, RJCR
    /// (cancellation rejected) a business decline; neither is a fault of the bank's link.
    static func result(of answer: PaymentMessage, results: ResultCodeTable) -> ResultCode {
        var status = answer.status ?? "RJCT"
        if answer.kind == .resolutionOfInvestigation {
            switch status {
            case "CNCL": status = "ACSC"
            case "RJCR": status = "RJCT"
            default: break
            }
        }
        return results.fromISO20022(status: status, reason: answer.statusReason) ?? .systemError
    }

    /// The host's answer in the originator's form.
    static func answer(_ bytes: [UInt8], _ answer: PaymentMessage, for request: InboundRequest) throws -> [UInt8] {
        guard case .iso20022(_, let original) = request.message, isPain001(original) else { return bytes }
        var report = PaymentMessage(kind: .statusReport, function: .response)
        report.status = answer.status
        report.statusReason = answer.statusReason
        return try customerReport(report, for: original)
    }

    /// The switch's own answer to an ISO 20022 request: a rejection with the code's status reason.
    static func localAnswer(to request: PaymentMessage, code: ResultCode, results: ResultCodeTable) throws -> [UInt8] {
        let row = results.row(code)
        if request.kind == .cancellationRequest {
            var resolution = PaymentMessage(kind: .resolutionOfInvestigation, function: .response)
            resolution.status = "RJCR"
            resolution.identifiers = request.identifiers
            resolution.identifiers.messageId = newMessageId()
            resolution.amount = request.amount
            // The case goes back the way it came: the assigner (a required element) is the bank asked.
            resolution.instructingAgent = request.instructedAgent
            resolution.instructedAgent = request.instructingAgent
            return Array(try ISO20022Codec.encode(resolution, as: .camt029).utf8)
        }
        var report = PaymentMessage(kind: .statusReport, function: .response)
        report.status = row?.status ?? "RJCT"
        report.statusReason = report.status == "RJCT" ? (row?.reason ?? "NARR") : nil
        if isPain001(request) { return try customerReport(report, for: request) }
        report.identifiers = request.identifiers
        report.identifiers.messageId = newMessageId()
        report.instructingAgent = request.instructedAgent
        report.instructedAgent = request.instructingAgent
        report.unmapped = [
            UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: request.identifiers.messageId ?? "NOTPROVIDED"),
            UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgNmId", value: request.source?.version ?? ISO20022MessageDefinition.pacs008.rawValue),
        ]
        return Array(try ISO20022Codec.encode(report, as: .pacs002).utf8)
    }

    /// A pain.002 reporting `report`'s status on a corporate's pain.001.
    private static func customerReport(_ report: PaymentMessage, for original: PaymentMessage) throws -> [UInt8] {
        var report = report
        report.identifiers = original.identifiers
        report.identifiers.messageId = newMessageId()
        report.unmapped = [
            UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: original.identifiers.messageId ?? "NOTPROVIDED"),
            UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgNmId", value: ISO20022MessageDefinition.pain001.rawValue),
            UnmappedField(key: "OrgnlPmtInfAndSts/OrgnlPmtInfId",
                          value: original.unmapped.first { $0.key == "PmtInf/PmtInfId" }?.value ?? original.identifiers.messageId ?? "NOTPROVIDED"),
        ]
        return Array(try ISO20022Codec.encode(report, as: .pain002).utf8)
    }
}

#if canImport(Glibc)
import Glibc
#endif
