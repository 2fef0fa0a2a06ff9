import PaymentModel

/// camt.029.001.09 RsltnOfInvstgtn ⇄ canonical resolution of investigation.
///
/// The case assignment gives the message identification and the agents, as in camt.056.
/// `Sts/Conf` (CNCL, RJCR, PDCR …) is the status; the other status choices (`RjctdMod`, `DplctOf`,
/// `AssgnmtCxlConf`) stay in `unmapped`, and a message without a status cannot be written. The first
/// `TxInfAndSts` of the first `CxlDtls` gives the identifiers of the transaction concerned
/// (`OrgnlInstrId`, `OrgnlEndToEndId`, `OrgnlTxId`, `OrgnlUETR`), its amount and settlement date
/// (`OrgnlIntrBkSttlmAmt`, `OrgnlIntrBkSttlmDt`), and the first `CxlStsRsnInf/Rsn/Cd` the status
/// reason. The cancellation status identification and the transaction's own cancellation status
/// have no canonical field: `CxlDtls/TxInfAndSts/CxlStsId` and `CxlDtls/TxInfAndSts/TxCxlSts` are
/// kept in `unmapped` and written back, like `Assgnmt/CreDtTm` and `CxlDtls/TxInfAndSts/OrgnlGrpInf`.
enum Camt029 {
    static func decode(_ document: ISO20022Document) throws(ISO20022Error) -> PaymentMessage {
        var message = PaymentMessage(kind: .resolutionOfInvestigation, function: .response)
        for element in document.elements {
            if ISO20022Mapping.mapAssignment(element, into: &message) { continue }
            let text = element.text
            var mapped = true
            switch (element.path, element.block) {
            case ("Sts/Conf", _): message.status = text
            case ("CxlDtls/TxInfAndSts/OrgnlInstrId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.instructionId, text)
            case ("CxlDtls/TxInfAndSts/OrgnlEndToEndId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.endToEndId, text)
            case ("CxlDtls/TxInfAndSts/OrgnlTxId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.transactionId, text)
            case ("CxlDtls/TxInfAndSts/OrgnlUETR", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.uetr, text)
            case ("CxlDtls/TxInfAndSts/CxlStsRsnInf/Rsn/Cd", 0): mapped = ISO20022Mapping.setOnce(&message.statusReason, text)
            case ("CxlDtls/TxInfAndSts/OrgnlIntrBkSttlmAmt", 0) where element.attributes.count == 1 && message.amount == nil:
                try ISO20022Mapping.readAmount(element, into: &message)
            case ("CxlDtls/TxInfAndSts/OrgnlIntrBkSttlmDt", 0): mapped = ISO20022Mapping.setOnce(&message.settlementDate, text)
            default: mapped = false
            }
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        return message
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        let definition = ISO20022MessageDefinition.camt029
        var xml = XMLWriter(namespace: definition.namespace)
        xml.start("RsltnOfInvstgtn")
        try xml.caseAssignment(message, creationDateTime: creationDateTime, definition: definition)
        // Without a confirmation code, the status choice kept from the source (RjctdMod, DplctOf,
        // AssgnmtCxlConf) fills it; the schema check refuses a document with none.
        xml.start("Sts")
        try xml.leaf("Conf", message.status)
        xml.end()
        let ids = message.identifiers
        let statusId = message.unmappedValue("CxlDtls/TxInfAndSts/CxlStsId")
        let transactionStatus = message.unmappedValue("CxlDtls/TxInfAndSts/TxCxlSts")
        if statusId != nil || transactionStatus != nil || ids.instructionId != nil || ids.endToEndId != nil || ids.transactionId != nil
            || ids.uetr != nil || message.amount != nil || message.settlementDate != nil || message.statusReason != nil {
            xml.start("CxlDtls")
            xml.start("TxInfAndSts")
            try xml.leaf("CxlStsId", statusId)
            try xml.originalGroup("OrgnlGrpInf", key: "CxlDtls/TxInfAndSts/OrgnlGrpInf", of: message)
            try xml.leaf("OrgnlInstrId", ids.instructionId)
            try xml.leaf("OrgnlEndToEndId", ids.endToEndId)
            try xml.leaf("OrgnlTxId", ids.transactionId)
            try xml.leaf("OrgnlUETR", ids.uetr)
            try xml.leaf("TxCxlSts", transactionStatus)
            try xml.reason("CxlStsRsnInf", message.statusReason)
            try xml.amount("OrgnlIntrBkSttlmAmt", of: message)
            try xml.leaf("OrgnlIntrBkSttlmDt", message.settlementDate)
            xml.end()
            xml.end()
        }
        return xml
    }
}
