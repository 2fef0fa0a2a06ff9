public import PaymentModel

/// Reads and writes ISO 20022 as ``PaymentMessage``: every message with a mapping table
/// (pacs.008.001.08 and .13, pacs.009.001.12, pacs.002.001.10, pacs.004.001.09, pacs.028.001.03,
/// camt.056.001.08, camt.029.001.09, pain.001.001.09 and pain.002.001.10; see
/// ``ISO20022MessageDefinition``).
///
/// ``decode(_:)`` maps the first transaction of a document (`CdtTrfTxInf`, `TxInfAndSts`, `TxInf`)
/// to the canonical message; ``decodeBatch(_:)`` maps each. Every leaf the mapping does not cover is
/// kept in ``PaymentMessage/unmapped`` under its indexed path (`CdtTrfTxInf[2]/PmtId/EndToEndId`,
/// `RmtInf/Ustrd[2]`), and written back: as the message it was read from, in its place and schema
/// order (``PaymentMessage/sourcePositions`` and ``PaymentMessage/sourceTexts`` keep where
/// mapped values were and how an amount was written); as the other message of its kind, where that
/// message has the same element (see ``encodeReportingLoss(_:as:creationDateTime:)``). Every
/// document written is checked against the schema table first.
public struct ISO20022Codec: Sendable {
    public var limits: ISO20022Limits

    public init(limits: ISO20022Limits = ISO20022Limits()) {
        self.limits = limits
    }

    /// Reads a document into its leaf elements, with the size, depth, DOCTYPE and namespace checks.
    public func parse(_ bytes: [UInt8]) throws(ISO20022Error) -> ISO20022Document {
        try StreamingReader(limits: limits).read(bytes)
    }

    public func parse(_ text: String) throws(ISO20022Error) -> ISO20022Document {
        try parse(Array(text.utf8))
    }

    /// Reads a document and maps it to the canonical message.
    public func decode(_ bytes: [UInt8]) throws(ISO20022Error) -> PaymentMessage {
        try ISO20022Codec.map(try parse(bytes))
    }

    public func decode(_ text: String) throws(ISO20022Error) -> PaymentMessage {
        try decode(Array(text.utf8))
    }

    /// Maps a parsed document to the canonical message.
    public static func map(_ document: ISO20022Document) throws(ISO20022Error) -> PaymentMessage {
        let definition = document.definition
        var message = PaymentMessage(kind: definition.kind, function: definition.mapping.function ?? .request)
        try definition.mapping.decode(document.elements, into: &message, placed: true)
        message.source = PaymentMessage.Source(format: "iso20022", version: definition.rawValue)
        if !document.header.isEmpty, let header = ISO20022MessageMapping.shipped(ISO20022MessageDefinition.headerDefinition) {
            try header.decode(document.header, into: &message, prefix: "AppHdr/", placed: true)
            // A header none of whose leaves maps (a sender given as an organisation) is still one.
            if message.businessHeader == nil { message.businessHeader = BusinessHeader() }
        }
        return message
    }

    /// Writes the canonical message as the ISO 20022 message its kind calls for: a credit transfer
    /// as pacs.008.001.08, a status report as pacs.002.001.10, a payment return as pacs.004.001.09,
    /// a status request as pacs.028.001.03, a cancellation request as camt.056.001.08 and a
    /// resolution of investigation as camt.029.001.09.
    ///
    /// A kind may have several messages (pacs.008.001.08 and .13, pain.001 for credit transfers;
    /// pacs.002 and pain.002 for status reports): a message read from one of them is written as it;
    /// any other (ISO 8583, built in code) as the one named above. Use
    /// ``encode(_:as:creationDateTime:)`` to choose.
    ///
    /// - Parameter creationDateTime: `GrpHdr/CreDtTm` (`Assgnmt/CreDtTm` in camt) when the message
    ///   carries none in `unmapped`; the current UTC time when nil.
    public static func encode(_ message: PaymentMessage, creationDateTime: String? = nil) throws(ISO20022Error) -> String {
        try encode(message, as: try definition(for: message), creationDateTime: creationDateTime)
    }

    /// Writes the canonical message as `definition`, which must map the message's kind (pacs.008 or
    /// pain.001 for a credit transfer, pacs.002 or pain.002 for a status report …).
    ///
    /// A message with a ``PaymentMessage/businessHeader`` is written as a business message: the
    /// `AppHdr` (head.001.001.02, its `MsgDefIdr` set to `definition`) and the `Document` inside a
    /// `BizMsg` element. ISO 20022 defines no envelope of its own (networks each bring theirs), and
    /// the decoder reads the pair under any root.
    ///
    /// - Parameter creationDateTime: as in ``encode(_:creationDateTime:)``; also the header's `CreDt`
    ///   when it has none.
    public static func encode(_ message: PaymentMessage, as definition: ISO20022MessageDefinition,
                              creationDateTime: String? = nil) throws(ISO20022Error) -> String {
        try encodeReportingLoss(message, as: definition, creationDateTime: creationDateTime).document
    }

    /// Writes the canonical message as `definition`, as ``encode(_:as:creationDateTime:)`` does,
    /// and names the leaves kept from an ISO 20022 source document that `definition` has no place
    /// for: written as the message it was read from, none; translated (pacs.008 to pain.001 …),
    /// each one not carried.
    public static func encodeReportingLoss(_ message: PaymentMessage, as definition: ISO20022MessageDefinition,
                                           creationDateTime: String? = nil) throws(ISO20022Error) -> ISO20022Encoding {
        let encoded = try encodeTree(message, as: definition, creationDateTime: creationDateTime)
        let document: String
        if let text = encoded.text { document = text } else { document = try encoded.writer.text(of: encoded.tree) }
        var lost = encoded.lost
        if message.isTranslated(to: definition) {
            lost += canonicalLosses(of: message, comparedWith: try ISO20022Codec().decode(document))
        }
        return ISO20022Encoding(document: try withHeader(document, of: message, as: definition, keeping: encoded.header,
                                                         creationDateTime: creationDateTime), lost: lost)
    }

    /// The document as a business message (`AppHdr` and `Document` in `BizMsg`) when `message` has
    /// a business header, with the header's kept leaves; else the document alone.
    static func withHeader(_ document: String, of message: PaymentMessage, as definition: ISO20022MessageDefinition,
                           keeping kept: [UnmappedField], creationDateTime: String?) throws(ISO20022Error) -> String {
        guard var header = message.businessHeader,
              let mapping = ISO20022MessageMapping.shipped(ISO20022MessageDefinition.headerDefinition) else { return document }
        // The header describes the document it travels with, whatever it said when read.
        header.messageDefinitionId = definition.rawValue
        var described = PaymentMessage(kind: message.kind, function: message.function)
        described.businessHeader = header
        let appHdr = try mapping.encode(described, creationDateTime: creationDateTime).finish(keeping: kept)
        return BusinessApplicationHeader.envelope(header: appHdr, document: document)
    }

    /// The canonical values of `message` that `written` (another message of its kind, read back
    /// from what was written) does not carry: a pacs.008's settlement method or instructing agent has no place in
    /// a pain.001. Listed by canonical name (`settlementMethod`).
    static func canonicalLosses(of message: PaymentMessage, comparedWith written: PaymentMessage) -> [UnmappedField] {
        TransferField.all.compactMap { field in
            guard let before = field.text(of: message), field.text(of: written) != before else { return nil }
            return UnmappedField(key: field.name, value: before)
        }
    }

    /// The message element as it will be written (before the schema check), what was lost, and the
    /// kept leaves of the business header; for a translation, also the document's text, which the
    /// schema check that finds what no longer fits has already written.
    static func encodeTree(_ message: PaymentMessage, as definition: ISO20022MessageDefinition, creationDateTime: String?)
        throws(ISO20022Error) -> (writer: XMLWriter, tree: XMLNode, lost: [UnmappedField], header: [UnmappedField], text: String?) {
        var placement = ISO20022Codec.placement(of: message, in: definition)
        let writer = try encodeDocument(message, as: definition, creationDateTime: creationDateTime)
        let samePlaces = message.iso20022Source == definition
        var dropped: [UnmappedField] = []
        while true {
            let tree = try writer.tree(keeping: placement.document, positions: samePlaces ? message.sourcePositions : [:])
            // A kept leaf whose one place the canonical value took (a transaction's ChrgBr where the
            // target has one at the payment information) is lost as well.
            var lost = placement.lost + dropped
            for key in tree.overwritten {
                if let index = placement.document.firstIndex(where: { $0.key == key }) { lost.append(placement.sources[index]) }
            }
            guard !samePlaces, !placement.document.isEmpty else { return (writer, tree.message, lost, placement.header, nil) }
            // Translated, kept leaves may fit no longer together (a choice given both ways, a group
            // whose required part the other version lacks): the group the schema check names is lost.
            do {
                return (writer, tree.message, lost, placement.header, try writer.text(of: tree.message))
            } catch {
                guard let group = keptGroup(named: error, in: placement.document, under: definition.messageElement) else { throw error }
                for index in placement.document.indices.reversed() where ISO20022Path.split(placement.document[index].key).path.isWithin(group) {
                    dropped.append(placement.sources[index])
                    placement.document.remove(at: index)
                    placement.sources.remove(at: index)
                }
            }
        }
    }

    /// The innermost element on the path of a schema error (`root/…`) that holds kept leaves, or nil.
    private static func keptGroup(named error: ISO20022Error, in kept: [UnmappedField], under root: String) -> Substring? {
        guard let path = error.path, path.hasPrefix(root + "/") else { return nil }
        var group = path.dropFirst(root.count + 1)
        while !group.isEmpty {
            if kept.contains(where: { ISO20022Path.split($0.key).path.isWithin(group) }) { return group }
            group = group.lastIndex(of: "/").map { group[..<$0] } ?? ""
        }
        return nil
    }

    /// The `Document` alone, before the kept leaves join it.
    static func encodeDocument(_ message: PaymentMessage, as definition: ISO20022MessageDefinition,
                               creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        guard definition.kind == message.kind else {
            throw ISO20022Error(.cannotEncode, path: definition.messageElement,
                                reason: "a \(message.kind.rawValue) message cannot be written as \(definition.rawValue), which carries a \(definition.kind.rawValue)")
        }
        return try definition.mapping.encode(message, creationDateTime: creationDateTime)
    }

    /// The message ``encode(_:creationDateTime:)`` writes for `message`: by kind, and for the kinds
    /// with a pain and a pacs message by `source.version`.
    static func definition(for message: PaymentMessage) throws(ISO20022Error) -> ISO20022MessageDefinition {
        // The message it was read from, when that carries its kind (a pain.001, a pacs.008.001.13).
        if let source = message.iso20022Source, source.kind == message.kind { return source }
        switch message.kind {
        case .creditTransfer: return .pacs008
        case .statusReport: return .pacs002
        case .paymentReturn: return .pacs004
        case .statusRequest: return .pacs028
        case .cancellationRequest: return .camt056
        case .resolutionOfInvestigation: return .camt029
        case .authorization, .financial, .reversal, .advice, .networkManagement:
            throw ISO20022Error(.cannotEncode, reason: "a \(message.kind.rawValue) message (a card payment) has no ISO 20022 mapping")
        }
    }
}

extension PaymentMessage {
    /// The value kept under `key` in ``unmapped``.
    func unmappedValue(_ key: String) -> String? {
        unmapped.first { $0.key == key }?.value
    }
}

extension PaymentMessage {
    /// The ISO 20022 message it was read from, if it was read from one.
    var iso20022Source: ISO20022MessageDefinition? {
        guard let source, source.format == "iso20022" else { return nil }
        return ISO20022MessageDefinition(rawValue: source.version)
    }

    /// Whether writing it as `definition` translates an ISO 20022 message into another.
    func isTranslated(to definition: ISO20022MessageDefinition) -> Bool {
        iso20022Source.map { $0 != definition } ?? false
    }
}
