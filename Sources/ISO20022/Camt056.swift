import PaymentModel

/// camt.056.001.08 FIToFIPmtCxlReq ⇄ canonical cancellation request.
///
/// The case assignment gives the message identification (`Assgnmt/Id`) and the agents (assigner
/// as instructing, assignee as instructed agent, both by BIC). The first `TxInf` of the first
/// `Undrlyg` gives the identifiers of the transaction to cancel (`OrgnlInstrId`, `OrgnlEndToEndId`,
/// `OrgnlTxId`, `OrgnlUETR`), its amount (`OrgnlIntrBkSttlmAmt`) and settlement date
/// (`OrgnlIntrBkSttlmDt`), and the first `CxlRsnInf/Rsn/Cd` the status reason. A second `TxInf` in
/// the same `Undrlyg` only adds what the first left empty; the rest stays in `unmapped`. The
/// cancellation's own identification `CxlId` has no canonical field: it is kept in `unmapped` as
/// `Undrlyg/TxInf/CxlId` and written back, like `Assgnmt/CreDtTm` and `Undrlyg/TxInf/OrgnlGrpInf`.
enum Camt056 {
    static func decode(_ document: ISO20022Document) throws(ISO20022Error) -> PaymentMessage {
        var message = PaymentMessage(kind: .cancellationRequest, function: .request)
        for element in document.elements {
            if ISO20022Mapping.mapAssignment(element, into: &message) { continue }
            let text = element.text
            var mapped = true
            switch (element.path, element.block) {
            case ("Undrlyg/TxInf/OrgnlInstrId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.instructionId, text)
            case ("Undrlyg/TxInf/OrgnlEndToEndId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.endToEndId, text)
            case ("Undrlyg/TxInf/OrgnlTxId", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.transactionId, text)
            case ("Undrlyg/TxInf/OrgnlUETR", 0): mapped = ISO20022Mapping.setOnce(&message.identifiers.uetr, text)
            case ("Undrlyg/TxInf/OrgnlIntrBkSttlmAmt", 0) where element.attributes.count == 1 && message.amount == nil:
                try ISO20022Mapping.readAmount(element, into: &message)
            case ("Undrlyg/TxInf/OrgnlIntrBkSttlmDt", 0): mapped = ISO20022Mapping.setOnce(&message.settlementDate, text)
            case ("Undrlyg/TxInf/CxlRsnInf/Rsn/Cd", 0): mapped = ISO20022Mapping.setOnce(&message.statusReason, text)
            default: mapped = false
            }
            if !mapped { message.unmapped.append(contentsOf: element.unmappedFields) }
        }
        return message
    }

    static func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        let definition = ISO20022MessageDefinition.camt056
        var xml = XMLWriter(namespace: definition.namespace)
        xml.start("FIToFIPmtCxlReq")
        try xml.caseAssignment(message, creationDateTime: creationDateTime, definition: definition)
        xml.start("Undrlyg")
        let ids = message.identifiers
        let cancellationId = message.unmappedValue("Undrlyg/TxInf/CxlId")
        if cancellationId != nil || ids.instructionId != nil || ids.endToEndId != nil || ids.transactionId != nil || ids.uetr != nil
            || message.amount != nil || message.settlementDate != nil || message.statusReason != nil {
            xml.start("TxInf")
            try xml.leaf("CxlId", cancellationId)
            try xml.originalGroup("OrgnlGrpInf", key: "Undrlyg/TxInf/OrgnlGrpInf", of: message)
            try xml.leaf("OrgnlInstrId", ids.instructionId)
            try xml.leaf("OrgnlEndToEndId", ids.endToEndId)
            try xml.leaf("OrgnlTxId", ids.transactionId)
            try xml.leaf("OrgnlUETR", ids.uetr)
            try xml.amount("OrgnlIntrBkSttlmAmt", of: message)
            try xml.leaf("OrgnlIntrBkSttlmDt", message.settlementDate)
            try xml.reason("CxlRsnInf", message.statusReason)
            xml.end()
        }
        return xml
    }
}
