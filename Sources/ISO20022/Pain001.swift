import PaymentModel

/// pain.001.001.09 CstmrCdtTrfInitn ⇄ canonical credit transfer (function `request`).
///
/// The first `PmtInf` gives the debtor (`Dbtr/Nm`, `DbtrAcct`), the debtor agent (`DbtrAgt` BIC),
/// the requested execution date (`ReqdExctnDt/Dt`, as the settlement date) and the charge bearer;
/// its first `CdtTrfTxInf` gives the identifiers (`InstrId`, `EndToEndId`, `UETR`), the instructed
/// amount (`Amt/InstdAmt`), the creditor agent, the creditor and the unstructured remittance
/// information. A later `CdtTrfTxInf` of the first `PmtInf` is recognised by its `PmtId` (the first
/// and only mandatory leaf group of a transaction) and kept in `unmapped` with an index
/// (`PmtInf/CdtTrfTxInf[2]/PmtId/EndToEndId`); later `PmtInf` blocks likewise (`PmtInf[2]/…`).
///
/// Kept in `unmapped` and written back: `GrpHdr/CreDtTm`, `GrpHdr/InitgPty/Nm`, `PmtInf/PmtInfId`
/// (the message identification when absent), `PmtInf/PmtMtd` (TRF when absent) and
/// `PmtInf/ReqdExctnDt/DtTm` (when there is no date). `GrpHdr/NbOfTxs` is written as 1 and
/// `GrpHdr/CtrlSum`, when the read message had one, as the amount of the one transaction written.
/// The required `InitgPty` and `Dbtr` are written empty when there is no name, and read back as nothing.
///
/// pacs.008 maps to the same canonical kind: ``ISO20022Codec/encode(_:creationDateTime:)`` writes a
/// credit transfer as pain.001 only when its `source.version` is `pain.001.001.09`.
enum Pain001 {
    static func decode(_ document: ISO20022Document) throws(ISO20022Error) -> PaymentMessage {
        var message = PaymentMessage(kind: .creditTransfer, function: .request)
        var debtor = Party()
        var creditor = Party()
        guard (document.blockCounts["PmtInf"] ?? 0) > 0 else {
            throw ISO20022Error(.missingElement, path: "CstmrCdtTrfInitn/PmtInf", reason: "the message has no PmtInf")
        }
        var texts = ISO20022TextFields(.pain001)
        for element in document.elements {
            // A later CdtTrfTxInf of the first PmtInf stays in unmapped under its indexed key.
            let laterTransaction = element.indexedPath?.hasPrefix("PmtInf/CdtTrfTxInf[") == true
            if !laterTransaction, texts.read(element) { continue }
            let mapped = element.block == 0 && !laterTransaction ? try map(element, into: &message, debtor: &debtor, creditor: &creditor) : false
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        texts.apply(to: &message)
        if debtor != Party() { message.debtor = debtor }
        if creditor != Party() { message.creditor = creditor }
        guard message.identifiers.messageId != nil else {
            throw ISO20022Error(.missingElement, path: "CstmrCdtTrfInitn/GrpHdr/MsgId", reason: "GrpHdr/MsgId is required")
        }
        guard message.amount != nil else {
            throw ISO20022Error(.missingElement, path: "CstmrCdtTrfInitn/PmtInf[1]/CdtTrfTxInf/Amt/InstdAmt",
                                reason: "an amount (Amt/InstdAmt or Amt/EqvtAmt/Amt) is required")
        }
        return message
    }

    /// Maps one leaf of the group header or the first PmtInf; false when the mapping does not cover it.
    private static func map(_ element: ISO20022Document.Element, into message: inout PaymentMessage,
                            debtor: inout Party, creditor: inout Party) throws(ISO20022Error) -> Bool {
        let text = element.text
        switch element.path {
        case "GrpHdr/MsgId": message.identifiers.messageId = text
        case "GrpHdr/InitgPty", "PmtInf/Dbtr":
            // The required party, empty: what the encoder writes when it knows no name.
            return text.trimmed.isEmpty && element.attributes.isEmpty
        case "PmtInf/ReqdExctnDt/Dt": message.settlementDate = text
        case "PmtInf/Dbtr/Nm": debtor.name = text
        case "PmtInf/DbtrAcct/Id/IBAN": debtor.iban = text
        case "PmtInf/DbtrAcct/Id/Othr/Id": debtor.otherAccount = text
        case "PmtInf/DbtrAgt/FinInstnId/BICFI": message.debtorAgent = text
        case "PmtInf/ChrgBr": return ISO20022Mapping.setOnce(&message.chargeBearer, text)
        case "PmtInf/CdtTrfTxInf/ChrgBr":
            // Written back at the transaction, where it was, not at the payment information.
            guard ISO20022Mapping.setOnce(&message.chargeBearer, text) else { return false }
            message.sourcePositions["PmtInf/ChrgBr"] = element.key
        case "PmtInf/CdtTrfTxInf/PmtId/InstrId": message.identifiers.instructionId = text
        case "PmtInf/CdtTrfTxInf/PmtId/EndToEndId": message.identifiers.endToEndId = text
        case "PmtInf/CdtTrfTxInf/PmtId/UETR": message.identifiers.uetr = text
        case "PmtInf/CdtTrfTxInf/Amt/InstdAmt":
            guard element.attributes.count == 1 else { return false }
            try ISO20022Mapping.readAmount(element, into: &message)
        case "PmtInf/CdtTrfTxInf/Amt/EqvtAmt/Amt":
            // The equivalent amount, in the debtor's currency (`CcyOfTrf`, the currency to transfer,
            // stays in unmapped): the amount, written back in its place.
            guard element.attributes.count == 1 else { return false }
            try ISO20022Mapping.readAmount(element, into: &message)
            message.sourcePositions["PmtInf/CdtTrfTxInf/Amt/InstdAmt"] = element.key
        case "PmtInf/CdtTrfTxInf/CdtrAgt/FinInstnId/BICFI": message.creditorAgent = text
        case "PmtInf/CdtTrfTxInf/Cdtr/Nm": creditor.name = text
        case "PmtInf/CdtTrfTxInf/CdtrAcct/Id/IBAN": creditor.iban = text
        case "PmtInf/CdtTrfTxInf/CdtrAcct/Id/Othr/Id": creditor.otherAccount = text
        case "PmtInf/CdtTrfTxInf/RmtInf/Ustrd": message.remittanceInformation.append(text)
        default: return false
        }
        return true
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        let definition = ISO20022MessageDefinition.pain001
        func required(_ value: String?, _ path: String) throws(ISO20022Error) -> String {
            try ISO20022Mapping.required(value, path, in: definition)
        }
        guard let amount = message.amount else {
            throw ISO20022Error(.cannotEncode, path: "CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf/Amt/InstdAmt", reason: "pain.001 requires an amount")
        }
        let messageId = try required(message.identifiers.messageId, "GrpHdr/MsgId")
        var xml = XMLWriter(namespace: definition.namespace)
        xml.extraLeaves = ISO20022TextFields.leaves(of: message, as: .pain001)
        xml.start("CstmrCdtTrfInitn")
        xml.start("GrpHdr")
        try xml.leaf("MsgId", messageId)
        try xml.leaf("CreDtTm", message.unmappedValue("GrpHdr/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        try xml.leaf("NbOfTxs", message.unmappedValue("GrpHdr/NbOfTxs") ?? "1")
        try xml.leaf("CtrlSum", message.unmappedValue("GrpHdr/CtrlSum"))
        xml.start("InitgPty")
        try xml.leaf("Nm", message.unmappedValue("GrpHdr/InitgPty/Nm"))
        xml.end()
        xml.end()
        xml.start("PmtInf")
        try xml.leaf("PmtInfId", message.unmappedValue("PmtInf/PmtInfId") ?? messageId)
        try xml.leaf("PmtMtd", message.unmappedValue("PmtInf/PmtMtd") ?? "TRF")
        xml.start("ReqdExctnDt")
        if let date = message.settlementDate {
            try xml.leaf("Dt", date)
        } else {
            try xml.leaf("DtTm", try required(message.unmappedValue("PmtInf/ReqdExctnDt/DtTm"), "PmtInf/ReqdExctnDt/Dt"))
        }
        xml.end()
        xml.start("Dbtr")
        try xml.leaf("Nm", message.debtor?.name)
        xml.end()
        _ = try required(message.debtor?.iban ?? message.debtor?.otherAccount, "PmtInf/DbtrAcct/Id")
        try xml.account("DbtrAcct", message.debtor)
        try xml.agent("DbtrAgt", message.debtorAgent)
        try xml.leaf("ChrgBr", message.chargeBearer)
        xml.start("CdtTrfTxInf")
        xml.start("PmtId")
        try xml.leaf("InstrId", message.identifiers.instructionId)
        try xml.leaf("EndToEndId", try required(message.identifiers.endToEndId, "PmtInf/CdtTrfTxInf/PmtId/EndToEndId"))
        try xml.leaf("UETR", message.identifiers.uetr)
        xml.end()
        xml.start("Amt")
        try xml.amount("InstdAmt", of: message)
        xml.end()
        try xml.agent("CdtrAgt", message.creditorAgent)
        if let name = message.creditor?.name {
            xml.start("Cdtr")
            try xml.leaf("Nm", name)
            xml.end()
        }
        try xml.account("CdtrAcct", message.creditor)
        if !message.remittanceInformation.isEmpty {
            xml.start("RmtInf")
            for line in message.remittanceInformation { try xml.leaf("Ustrd", line) }
            xml.end()
        }
        return xml
    }
}
