import PaymentModel

/// head.001.001.02 `AppHdr` ⇄ ``BusinessHeader``: the sender and receiver as financial institution
/// BICs, the identifiers, creation date, duplicate flags and priority. Other header leaves (a party
/// given as an organisation, `Rltd`, `MktPrctc`) stay in `unmapped` under `AppHdr/…`.
enum BusinessApplicationHeader {
    static let definitionId = "head.001.001.02"
    static var namespace: String { ISO20022MessageDefinition.namespacePrefix + definitionId }

    static func decode(_ elements: [ISO20022Document.Element], unmapped: inout [UnmappedField]) -> BusinessHeader {
        var header = BusinessHeader()
        for element in elements {
            let text = element.text
            let mapped: Bool
            switch element.path {
            case "AppHdr/Fr/FIId/FinInstnId/BICFI": mapped = ISO20022Mapping.setOnce(&header.from, text)
            case "AppHdr/To/FIId/FinInstnId/BICFI": mapped = ISO20022Mapping.setOnce(&header.to, text)
            case "AppHdr/BizMsgIdr": mapped = ISO20022Mapping.setOnce(&header.businessMessageId, text)
            case "AppHdr/MsgDefIdr": mapped = ISO20022Mapping.setOnce(&header.messageDefinitionId, text)
            case "AppHdr/BizSvc": mapped = ISO20022Mapping.setOnce(&header.businessService, text)
            case "AppHdr/CreDt": mapped = ISO20022Mapping.setOnce(&header.creationDate, text)
            case "AppHdr/CpyDplct": mapped = ISO20022Mapping.setOnce(&header.copyDuplicate, text)
            case "AppHdr/Prty": mapped = ISO20022Mapping.setOnce(&header.priority, text)
            case "AppHdr/PssblDplct" where header.possibleDuplicate == nil && (text == "true" || text == "false"):
                header.possibleDuplicate = text == "true"
                mapped = true
            default: mapped = false
            }
            if !mapped { unmapped.append(contentsOf: element.unmappedFields) }
        }
        return header
    }

    /// The header as its own document (root `AppHdr`), valid against head.001.001.02.
    static func encode(_ header: BusinessHeader, definition: ISO20022MessageDefinition,
                       creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        func required(_ value: String?, _ path: String) throws(ISO20022Error) -> String {
            try ISO20022Mapping.required(value, path, under: "AppHdr", by: "the business application header")
        }
        var xml = XMLWriter(root: "AppHdr", namespace: namespace)
        xml.start("Fr")
        try xml.agent("FIId", try required(header.from, "Fr/FIId/FinInstnId/BICFI"))
        xml.end()
        xml.start("To")
        try xml.agent("FIId", try required(header.to, "To/FIId/FinInstnId/BICFI"))
        xml.end()
        try xml.leaf("BizMsgIdr", try required(header.businessMessageId, "BizMsgIdr"))
        // The header describes the document it travels with, whatever it said when read.
        try xml.leaf("MsgDefIdr", definition.rawValue)
        try xml.leaf("BizSvc", header.businessService)
        try xml.leaf("CreDt", header.creationDate ?? creationDateTime ?? XMLWriter.nowUTC())
        try xml.leaf("CpyDplct", header.copyDuplicate)
        try xml.leaf("PssblDplct", header.possibleDuplicate.map { $0 ? "true" : "false" })
        try xml.leaf("Prty", header.priority)
        return xml
    }

    /// `<BizMsg>` holding the header and the document (each written as a document of its own),
    /// with one XML declaration. Not re-indented: a value may hold a line feed.
    static func envelope(header: String, document: String) -> String {
        XMLWriter.declaration + "<BizMsg>\n" + header.dropFirst(XMLWriter.declaration.count)
            + document.dropFirst(XMLWriter.declaration.count) + "</BizMsg>\n"
    }
}
