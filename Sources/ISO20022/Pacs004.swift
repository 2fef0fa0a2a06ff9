import PaymentModel

/// pacs.004.001.09 PmtRtr ⇄ canonical payment return.
///
/// The first `TxInf` gives the identifiers of the returned transaction (`OrgnlInstrId`,
/// `OrgnlEndToEndId`, `OrgnlTxId`, `OrgnlUETR`), `RtrdIntrBkSttlmAmt` the amount, `IntrBkSttlmDt`
/// the settlement date, the first `RtrRsnInf/Rsn/Cd` the status reason, and `ChrgBr`; the agents
/// come from `TxInf/InstgAgt`/`InstdAgt`, else from the group header. The return's own
/// identification `RtrId` has no canonical field (the transaction id holds the original `OrgnlTxId`):
/// it is kept in `unmapped` as `TxInf/RtrId` and written back, like `GrpHdr/CreDtTm` and
/// `TxInf/OrgnlGrpInf` (`OrgnlMsgId`, `OrgnlMsgNmId`, `OrgnlCreDtTm`). `NbOfTxs` is written as 1.
enum Pacs004 {
    static func decode(_ document: ISO20022Document) throws(ISO20022Error) -> PaymentMessage {
        var message = PaymentMessage(kind: .paymentReturn, function: .request)
        var agents = ISO20022Mapping.Agents()
        for element in document.elements {
            if agents.read(element, block: "TxInf") { continue }
            let text = element.text
            var mapped = true
            switch (element.path, element.block) {
            case ("GrpHdr/MsgId", _): message.identifiers.messageId = text
            case ("GrpHdr/SttlmInf/SttlmMtd", _): message.settlementMethod = text
            case ("TxInf/OrgnlInstrId", 0): message.identifiers.instructionId = text
            case ("TxInf/OrgnlEndToEndId", 0): message.identifiers.endToEndId = text
            case ("TxInf/OrgnlTxId", 0): message.identifiers.transactionId = text
            case ("TxInf/OrgnlUETR", 0): message.identifiers.uetr = text
            case ("TxInf/RtrdIntrBkSttlmAmt", 0) where element.attributes.count == 1: try ISO20022Mapping.readAmount(element, into: &message)
            case ("TxInf/IntrBkSttlmDt", 0): message.settlementDate = text
            case ("TxInf/ChrgBr", 0): message.chargeBearer = text
            case ("TxInf/RtrRsnInf/Rsn/Cd", 0): mapped = ISO20022Mapping.setOnce(&message.statusReason, text)
            default: mapped = false
            }
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        agents.apply(to: &message, written: "TxInf")
        guard message.identifiers.messageId != nil else {
            throw ISO20022Error(.missingElement, path: "PmtRtr/GrpHdr/MsgId", reason: "GrpHdr/MsgId is required")
        }
        return message
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        let definition = ISO20022MessageDefinition.pacs004
        guard let amount = message.amount else {
            throw ISO20022Error(.cannotEncode, path: "PmtRtr/TxInf/RtrdIntrBkSttlmAmt", reason: "pacs.004 requires an amount")
        }
        var xml = XMLWriter(namespace: definition.namespace)
        xml.start("PmtRtr")
        xml.start("GrpHdr")
        try xml.leaf("MsgId", try ISO20022Mapping.required(message.identifiers.messageId, "GrpHdr/MsgId", in: definition))
        try xml.leaf("CreDtTm", message.unmappedValue("GrpHdr/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        try xml.leaf("NbOfTxs", message.unmappedValue("GrpHdr/NbOfTxs") ?? "1")
        xml.start("SttlmInf")
        try xml.leaf("SttlmMtd", try ISO20022Mapping.required(message.settlementMethod, "GrpHdr/SttlmInf/SttlmMtd", in: definition))
        xml.end()
        xml.end()
        xml.start("TxInf")
        try xml.leaf("RtrId", message.unmappedValue("TxInf/RtrId"))
        try xml.originalGroup("OrgnlGrpInf", key: "TxInf/OrgnlGrpInf", of: message)
        try xml.leaf("OrgnlInstrId", message.identifiers.instructionId)
        try xml.leaf("OrgnlEndToEndId", message.identifiers.endToEndId)
        try xml.leaf("OrgnlTxId", message.identifiers.transactionId)
        try xml.leaf("OrgnlUETR", message.identifiers.uetr)
        try xml.amount("RtrdIntrBkSttlmAmt", of: message)
        try xml.leaf("IntrBkSttlmDt", message.settlementDate)
        try xml.leaf("ChrgBr", message.chargeBearer)
        try xml.agent("InstgAgt", message.instructingAgent)
        try xml.agent("InstdAgt", message.instructedAgent)
        try xml.reason("RtrRsnInf", message.statusReason)
        return xml
    }
}
