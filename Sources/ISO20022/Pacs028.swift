import PaymentModel

/// pacs.028.001.03 FIToFIPmtStsReq ⇄ canonical status request.
///
/// The first `TxInf` gives the identifiers of the transaction asked about (`OrgnlInstrId`,
/// `OrgnlEndToEndId`, `OrgnlTxId`, `OrgnlUETR`); the agents come from `TxInf/InstgAgt`/`InstdAgt`,
/// else from the group header, and are written in the group header. The request's own
/// identification `StsReqId` has no canonical field: it is kept in `unmapped` as `TxInf/StsReqId`
/// and written back, like `GrpHdr/CreDtTm`, `TxInf/OrgnlGrpInf` and the first top-level
/// `OrgnlGrpInf` (`OrgnlMsgId`, `OrgnlMsgNmId`, `OrgnlCreDtTm`).
enum Pacs028 {
    static func decode(_ document: ISO20022Document) -> PaymentMessage {
        var message = PaymentMessage(kind: .statusRequest, function: .request)
        var agents = ISO20022Mapping.Agents()
        for element in document.elements {
            if agents.read(element, block: "TxInf") { continue }
            let text = element.text
            var mapped = true
            switch (element.path, element.block) {
            case ("GrpHdr/MsgId", _): message.identifiers.messageId = text
            case ("TxInf/OrgnlInstrId", 0): message.identifiers.instructionId = text
            case ("TxInf/OrgnlEndToEndId", 0): message.identifiers.endToEndId = text
            case ("TxInf/OrgnlTxId", 0): message.identifiers.transactionId = text
            case ("TxInf/OrgnlUETR", 0): message.identifiers.uetr = text
            default: mapped = false
            }
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        agents.apply(to: &message, written: "GrpHdr")
        return message
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        let definition = ISO20022MessageDefinition.pacs028
        var xml = XMLWriter(namespace: definition.namespace)
        xml.start("FIToFIPmtStsReq")
        xml.start("GrpHdr")
        try xml.leaf("MsgId", try ISO20022Mapping.required(message.identifiers.messageId, "GrpHdr/MsgId", in: definition))
        try xml.leaf("CreDtTm", message.unmappedValue("GrpHdr/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        try xml.agent("InstgAgt", message.instructingAgent)
        try xml.agent("InstdAgt", message.instructedAgent)
        xml.end()
        try xml.originalGroup("OrgnlGrpInf", key: "OrgnlGrpInf", of: message)
        let ids = message.identifiers
        let requestId = message.unmappedValue("TxInf/StsReqId")
        if requestId != nil || ids.instructionId != nil || ids.endToEndId != nil || ids.transactionId != nil || ids.uetr != nil {
            xml.start("TxInf")
            try xml.leaf("StsReqId", requestId)
            try xml.originalGroup("OrgnlGrpInf", key: "TxInf/OrgnlGrpInf", of: message)
            try xml.leaf("OrgnlInstrId", ids.instructionId)
            try xml.leaf("OrgnlEndToEndId", ids.endToEndId)
            try xml.leaf("OrgnlTxId", ids.transactionId)
            try xml.leaf("OrgnlUETR", ids.uetr)
            xml.end()
        }
        return xml
    }
}
