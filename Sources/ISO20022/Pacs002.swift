import PaymentModel

/// pacs.002.001.10 FIToFIPmtStsRpt ⇄ canonical status report.
///
/// `TxInfAndSts` (the first) gives the identifiers of the original transaction
/// (`OrgnlInstrId`, `OrgnlEndToEndId`, `OrgnlTxId`, `OrgnlUETR`), `TxSts` the status and
/// `StsRsnInf/Rsn/Cd` the reason. The original message identification has no canonical field: it
/// is kept in `unmapped` as `OrgnlGrpInfAndSts/OrgnlMsgId` (with `OrgnlMsgNmId` and `GrpSts`), which
/// the encoder writes back. A report with only a group status takes `GrpSts` as its status.
enum Pacs002 {
    static func decode(_ document: ISO20022Document) -> PaymentMessage {
        var message = PaymentMessage(kind: .statusReport, function: .response)
        var groupStatus: String?
        var groupReason: ISO20022Document.Element?
        for element in document.elements {
            let text = element.text
            var mapped = true
            switch (element.path, element.block) {
            case ("GrpHdr/MsgId", _): message.identifiers.messageId = text
            case ("GrpHdr/InstgAgt/FinInstnId/BICFI", _): message.instructingAgent = text
            case ("GrpHdr/InstdAgt/FinInstnId/BICFI", _): message.instructedAgent = text
            case ("OrgnlGrpInfAndSts/GrpSts", 0): groupStatus = text; mapped = false
            case ("OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd", 0): groupReason = groupReason ?? element; mapped = false
            case ("TxInfAndSts/OrgnlInstrId", 0): message.identifiers.instructionId = text
            case ("TxInfAndSts/OrgnlEndToEndId", 0): message.identifiers.endToEndId = text
            case ("TxInfAndSts/OrgnlTxId", 0): message.identifiers.transactionId = text
            case ("TxInfAndSts/OrgnlUETR", 0): message.identifiers.uetr = text
            case ("TxInfAndSts/TxSts", 0): message.status = text
            case ("TxInfAndSts/StsRsnInf/Rsn/Cd", 0):
                if message.statusReason == nil { message.statusReason = text } else { mapped = false }
            default: mapped = false
            }
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        ISO20022Mapping.takeGroupStatus(groupStatus, reason: groupReason, into: &message,
                                        written: ("TxInfAndSts/TxSts", "TxInfAndSts/StsRsnInf/Rsn/Cd"))
        return message
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        guard let messageId = message.identifiers.messageId else {
            throw ISO20022Error(.cannotEncode, path: "FIToFIPmtStsRpt/GrpHdr/MsgId", reason: "pacs.002 requires GrpHdr/MsgId")
        }
        var xml = XMLWriter(namespace: ISO20022MessageDefinition.pacs002.namespace)
        xml.start("FIToFIPmtStsRpt")
        xml.start("GrpHdr")
        try xml.leaf("MsgId", messageId)
        try xml.leaf("CreDtTm", message.unmappedValue("GrpHdr/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        try xml.agent("InstgAgt", message.instructingAgent)
        try xml.agent("InstdAgt", message.instructedAgent)
        xml.end()
        if let original = message.unmappedValue("OrgnlGrpInfAndSts/OrgnlMsgId") {
            xml.start("OrgnlGrpInfAndSts")
            try xml.leaf("OrgnlMsgId", original)
            try xml.leaf("OrgnlMsgNmId", message.unmappedValue("OrgnlGrpInfAndSts/OrgnlMsgNmId") ?? ISO20022MessageDefinition.pacs008.rawValue)
            try xml.leaf("GrpSts", message.unmappedValue("OrgnlGrpInfAndSts/GrpSts"))
            xml.end()
        }
        let ids = message.identifiers
        if ids.instructionId != nil || ids.endToEndId != nil || ids.transactionId != nil || ids.uetr != nil
            || message.status != nil || message.statusReason != nil {
            xml.start("TxInfAndSts")
            try xml.leaf("OrgnlInstrId", ids.instructionId)
            try xml.leaf("OrgnlEndToEndId", ids.endToEndId)
            try xml.leaf("OrgnlTxId", ids.transactionId)
            try xml.leaf("OrgnlUETR", ids.uetr)
            try xml.leaf("TxSts", message.status)
            if let reason = message.statusReason {
                xml.start("StsRsnInf")
                xml.start("Rsn")
                try xml.leaf("Cd", reason)
                xml.end()
                xml.end()
            }
            xml.end()
        }
        return xml
    }
}
