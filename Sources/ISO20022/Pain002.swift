import PaymentModel

/// pain.002.001.10 CstmrPmtStsRpt ⇄ canonical status report.
///
/// The first `TxInfAndSts` of the first `OrgnlPmtInfAndSts` gives the identifiers of the original
/// transaction (`OrgnlInstrId`, `OrgnlEndToEndId`, `OrgnlUETR`), `TxSts` the status and the first
/// `StsRsnInf/Rsn/Cd` the reason; later ones in the same block only add what the first left empty,
/// the rest stays in `unmapped`. The group header's `DbtrAgt`/`CdtrAgt` BICs map to the debtor and
/// creditor agents. As in pacs.002, a report with only a group status takes `GrpSts` (and its
/// reason) as its status.
///
/// Kept in `unmapped` and written back: `GrpHdr/CreDtTm`, `GrpHdr/InitgPty/Nm`,
/// `OrgnlGrpInfAndSts/OrgnlMsgId` (required: a report without it cannot be written),
/// `OrgnlGrpInfAndSts/OrgnlMsgNmId` (pain.001.001.09 when absent), `OrgnlGrpInfAndSts/GrpSts` and
/// its first reason, `OrgnlPmtInfAndSts/OrgnlPmtInfId` (required to write any transaction
/// identifier), `OrgnlPmtInfAndSts/PmtInfSts` and `OrgnlPmtInfAndSts/TxInfAndSts/StsId`.
///
/// pacs.002 maps to the same canonical kind: ``ISO20022Codec/encode(_:creationDateTime:)`` writes a
/// status report as pain.002 only when its `source.version` is `pain.002.001.10`.
enum Pain002 {
    static func decode(_ document: ISO20022Document) -> PaymentMessage {
        var message = PaymentMessage(kind: .statusReport, function: .response)
        var groupStatus: String?
        var groupReason: ISO20022Document.Element?
        for element in document.elements {
            let text = element.text
            var mapped = true
            switch (element.path, element.block) {
            case ("GrpHdr/MsgId", _): message.identifiers.messageId = text
            case ("GrpHdr/DbtrAgt/FinInstnId/BICFI", _): message.debtorAgent = text
            case ("GrpHdr/CdtrAgt/FinInstnId/BICFI", _): message.creditorAgent = text
            case ("OrgnlGrpInfAndSts/GrpSts", 0): groupStatus = text; mapped = false
            case ("OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd", 0): groupReason = groupReason ?? element; mapped = false
            case ("OrgnlPmtInfAndSts/TxInfAndSts/OrgnlInstrId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.instructionId, text)
            case ("OrgnlPmtInfAndSts/TxInfAndSts/OrgnlEndToEndId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.endToEndId, text)
            case ("OrgnlPmtInfAndSts/TxInfAndSts/OrgnlUETR", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.uetr, text)
            case ("OrgnlPmtInfAndSts/TxInfAndSts/TxSts", 0): mapped = ISO20022Mapping.setOnce(&message.status, text)
            case ("OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/Rsn/Cd", 0): mapped = ISO20022Mapping.setOnce(&message.statusReason, text)
            default: mapped = false
            }
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        ISO20022Mapping.takeGroupStatus(groupStatus, reason: groupReason, into: &message,
                                        written: ("OrgnlPmtInfAndSts/TxInfAndSts/TxSts", "OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/Rsn/Cd"))
        return message
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        let definition = ISO20022MessageDefinition.pain002
        let ids = message.identifiers
        let paymentInformationId = message.unmappedValue("OrgnlPmtInfAndSts/OrgnlPmtInfId")
        let statusId = message.unmappedValue("OrgnlPmtInfAndSts/TxInfAndSts/StsId")
        let identifiesTransaction = statusId != nil || ids.instructionId != nil || ids.endToEndId != nil || ids.uetr != nil
        if identifiesTransaction, paymentInformationId == nil {
            throw ISO20022Error(.cannotEncode, path: "CstmrPmtStsRpt/OrgnlPmtInfAndSts/OrgnlPmtInfId",
                                reason: "pain.002 requires OrgnlPmtInfAndSts/OrgnlPmtInfId to report on a transaction")
        }
        let writesTransaction = paymentInformationId != nil && (identifiesTransaction || message.status != nil || message.statusReason != nil)
        var xml = XMLWriter(namespace: definition.namespace)
        xml.start("CstmrPmtStsRpt")
        xml.start("GrpHdr")
        try xml.leaf("MsgId", try ISO20022Mapping.required(ids.messageId, "GrpHdr/MsgId", in: definition))
        try xml.leaf("CreDtTm", message.unmappedValue("GrpHdr/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        if let initiator = message.unmappedValue("GrpHdr/InitgPty/Nm") {
            xml.start("InitgPty")
            try xml.leaf("Nm", initiator)
            xml.end()
        }
        try xml.agent("DbtrAgt", message.debtorAgent)
        try xml.agent("CdtrAgt", message.creditorAgent)
        xml.end()
        xml.start("OrgnlGrpInfAndSts")
        try xml.leaf("OrgnlMsgId", try ISO20022Mapping.required(message.unmappedValue("OrgnlGrpInfAndSts/OrgnlMsgId"),
                                                                "OrgnlGrpInfAndSts/OrgnlMsgId", in: definition))
        try xml.leaf("OrgnlMsgNmId", message.unmappedValue("OrgnlGrpInfAndSts/OrgnlMsgNmId") ?? ISO20022MessageDefinition.pain001.rawValue)
        try xml.leaf("GrpSts", message.unmappedValue("OrgnlGrpInfAndSts/GrpSts") ?? (writesTransaction ? nil : message.status))
        try xml.reason("StsRsnInf", message.unmappedValue("OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd") ?? (writesTransaction ? nil : message.statusReason))
        xml.end()
        if let paymentInformationId {
            xml.start("OrgnlPmtInfAndSts")
            try xml.leaf("OrgnlPmtInfId", paymentInformationId)
            try xml.leaf("PmtInfSts", message.unmappedValue("OrgnlPmtInfAndSts/PmtInfSts"))
            if writesTransaction {
                xml.start("TxInfAndSts")
                try xml.leaf("StsId", statusId)
                try xml.leaf("OrgnlInstrId", ids.instructionId)
                try xml.leaf("OrgnlEndToEndId", ids.endToEndId)
                try xml.leaf("OrgnlUETR", ids.uetr)
                try xml.leaf("TxSts", message.status)
                try xml.reason("StsRsnInf", message.statusReason)
                xml.end()
            }
            xml.end()
        }
        return xml
    }
}
