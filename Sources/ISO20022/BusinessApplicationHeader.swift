import PaymentModel

/// The head.001.001.02 business application header (`AppHdr`) and the envelope it travels in with
/// its document. Its mapping to ``BusinessHeader`` is specs/iso20022/mappings/head.001.001.02.yaml;
/// other header leaves (a party given as an organisation, `Rltd`, `MktPrctc`) stay in `unmapped`
/// under `AppHdr/…`.
enum BusinessApplicationHeader {
    static let definitionId = "head.001.001.02"
    static var namespace: String { ISO20022MessageDefinition.namespacePrefix + definitionId }

    /// `<BizMsg>` holding the header and the document (each written as a document of its own),
    /// with one XML declaration. Not re-indented: a value may hold a line feed.
    static func envelope(header: String, document: String) -> String {
        XMLWriter.declaration + "<BizMsg>\n" + header.dropFirst(XMLWriter.declaration.count)
            + document.dropFirst(XMLWriter.declaration.count) + "</BizMsg>\n"
    }
}
