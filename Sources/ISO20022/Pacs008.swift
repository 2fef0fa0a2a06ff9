import PaymentModel

/// pacs.008.001.08 FIToFICstmrCdtTrf ⇄ canonical credit transfer.
enum Pacs008 {
    static func decode(_ document: ISO20022Document) throws(ISO20022Error) -> PaymentMessage {
        var message = PaymentMessage(kind: .creditTransfer, function: .request)
        var debtor = Party()
        var creditor = Party()
        var agents = ISO20022Mapping.Agents()
        var texts = ISO20022TextFields(.pacs008)
        guard (document.blockCounts["CdtTrfTxInf"] ?? 0) > 0 else {
            throw ISO20022Error(.missingElement, path: "FIToFICstmrCdtTrf/CdtTrfTxInf", reason: "the message has no CdtTrfTxInf")
        }
        for element in document.elements {
            if texts.read(element) { continue }
            let mapped: Bool
            switch element.path {
            case "GrpHdr/MsgId": message.identifiers.messageId = element.text; mapped = true
            case "GrpHdr/SttlmInf/SttlmMtd": message.settlementMethod = element.text; mapped = true
            default:
                if agents.read(element, block: "CdtTrfTxInf") { continue }
                mapped = element.block == 0 ? try mapTransaction(element, into: &message, debtor: &debtor, creditor: &creditor) : false
            }
            guard !mapped else { continue }
            message.unmapped.append(contentsOf: element.unmappedFields)
        }
        agents.apply(to: &message, written: "CdtTrfTxInf")
        texts.apply(to: &message)
        if debtor != Party() { message.debtor = debtor }
        if creditor != Party() { message.creditor = creditor }
        guard message.identifiers.messageId != nil else {
            throw ISO20022Error(.missingElement, path: "FIToFICstmrCdtTrf/GrpHdr/MsgId", reason: "GrpHdr/MsgId is required")
        }
        guard message.amount != nil else {
            throw ISO20022Error(.missingElement, path: "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt", reason: "IntrBkSttlmAmt is required")
        }
        return message
    }

    /// Maps one leaf of the first CdtTrfTxInf; false when the mapping does not cover it.
    private static func mapTransaction(_ element: ISO20022Document.Element, into message: inout PaymentMessage,
                                       debtor: inout Party, creditor: inout Party) throws(ISO20022Error) -> Bool {
        let text = element.text
        switch element.path {
        case "CdtTrfTxInf/PmtId/InstrId": message.identifiers.instructionId = text
        case "CdtTrfTxInf/PmtId/EndToEndId": message.identifiers.endToEndId = text
        case "CdtTrfTxInf/PmtId/TxId": message.identifiers.transactionId = text
        case "CdtTrfTxInf/PmtId/UETR": message.identifiers.uetr = text
        case "CdtTrfTxInf/IntrBkSttlmAmt":
            guard element.attributes.count == 1 else { return false }
            try ISO20022Mapping.readAmount(element, into: &message)
        case "CdtTrfTxInf/IntrBkSttlmDt": message.settlementDate = text
        case "CdtTrfTxInf/ChrgBr": message.chargeBearer = text
        case "CdtTrfTxInf/Dbtr/Nm": debtor.name = text
        case "CdtTrfTxInf/DbtrAcct/Id/IBAN": debtor.iban = text
        case "CdtTrfTxInf/DbtrAcct/Id/Othr/Id": debtor.otherAccount = text
        case "CdtTrfTxInf/DbtrAgt/FinInstnId/BICFI": message.debtorAgent = text
        case "CdtTrfTxInf/CdtrAgt/FinInstnId/BICFI": message.creditorAgent = text
        case "CdtTrfTxInf/Cdtr/Nm": creditor.name = text
        case "CdtTrfTxInf/CdtrAcct/Id/IBAN": creditor.iban = text
        case "CdtTrfTxInf/CdtrAcct/Id/Othr/Id": creditor.otherAccount = text
        case "CdtTrfTxInf/RmtInf/Ustrd": message.remittanceInformation.append(text)
        default: return false
        }
        return true
    }

    /// `<IntrBkSttlmAmt Ccy="EUR">100.00</IntrBkSttlmAmt>` as an ``Amount``.
    static func amount(_ element: ISO20022Document.Element) throws(ISO20022Error) -> Amount {
        guard let code = element.attributes["Ccy"] else {
            throw ISO20022Error(.missingElement, path: element.location + "@Ccy", line: element.line, reason: "the amount has no Ccy attribute")
        }
        guard let currency = Currency(code), currency.code == code else {
            throw ISO20022Error(.invalidValue, path: element.location + "@Ccy", line: element.line, reason: "unknown currency '\(code)'")
        }
        do {
            return try Amount(parsing: element.text, currency: currency)
        } catch {
            throw ISO20022Error(.invalidValue, path: element.location, line: element.line,
                                reason: "'\(element.text)' is not a \(code) amount: \(error)")
        }
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        func required(_ value: String?, _ path: String) throws(ISO20022Error) -> String {
            try ISO20022Mapping.required(value, path, in: .pacs008)
        }
        guard let amount = message.amount else {
            throw ISO20022Error(.cannotEncode, path: "FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt", reason: "pacs.008 requires an amount")
        }
        var xml = XMLWriter(namespace: ISO20022MessageDefinition.pacs008.namespace)
        xml.extraLeaves = ISO20022TextFields.leaves(of: message, as: .pacs008)
        xml.start("FIToFICstmrCdtTrf")
        xml.start("GrpHdr")
        try xml.leaf("MsgId", try required(message.identifiers.messageId, "GrpHdr/MsgId"))
        try xml.leaf("CreDtTm", message.unmappedValue("GrpHdr/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        try xml.leaf("NbOfTxs", message.unmappedValue("GrpHdr/NbOfTxs") ?? "1")
        xml.start("SttlmInf")
        try xml.leaf("SttlmMtd", try required(message.settlementMethod, "GrpHdr/SttlmInf/SttlmMtd"))
        xml.end()
        xml.end()
        xml.start("CdtTrfTxInf")
        xml.start("PmtId")
        try xml.leaf("InstrId", message.identifiers.instructionId)
        try xml.leaf("EndToEndId", try required(message.identifiers.endToEndId, "CdtTrfTxInf/PmtId/EndToEndId"))
        try xml.leaf("TxId", message.identifiers.transactionId)
        try xml.leaf("UETR", message.identifiers.uetr)
        xml.end()
        try xml.amount("IntrBkSttlmAmt", of: message)
        try xml.leaf("IntrBkSttlmDt", message.settlementDate)
        try xml.leaf("ChrgBr", try required(message.chargeBearer, "CdtTrfTxInf/ChrgBr"))
        try xml.agent("InstgAgt", message.instructingAgent)
        try xml.agent("InstdAgt", message.instructedAgent)
        xml.start("Dbtr")
        try xml.leaf("Nm", message.debtor?.name)
        xml.end()
        try xml.account("DbtrAcct", message.debtor)
        // An agent without a BIC (by clearing member id, or name and address) comes from the kept
        // leaves; the schema check refuses a document with no agent at all.
        try xml.agent("DbtrAgt", message.debtorAgent)
        try xml.agent("CdtrAgt", message.creditorAgent)
        xml.start("Cdtr")
        try xml.leaf("Nm", message.creditor?.name)
        xml.end()
        try xml.account("CdtrAcct", message.creditor)
        if !message.remittanceInformation.isEmpty {
            xml.start("RmtInf")
            for line in message.remittanceInformation { try xml.leaf("Ustrd", line) }
            xml.end()
        }
        return xml
    }
}
