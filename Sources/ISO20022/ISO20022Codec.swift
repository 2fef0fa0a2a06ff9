public import PaymentModel

/// Reads and writes ISO 20022 pacs.008.001.08 and pacs.002.001.10 as ``PaymentMessage``.
///
/// Only the first transaction of a document maps to the canonical message (`CdtTrfTxInf`,
/// `TxInfAndSts`); the leaves of later ones, and every leaf the mapping does not cover, are kept in
/// ``PaymentMessage/unmapped`` under their path (`CdtTrfTxInf[2]/PmtId/EndToEndId`). Group-level
/// values the canonical model has no field for live there too, and the encoder reads them back:
/// `GrpHdr/CreDtTm`, `GrpHdr/NbOfTxs`, `OrgnlGrpInfAndSts/OrgnlMsgId`, `OrgnlGrpInfAndSts/OrgnlMsgNmId`,
/// `OrgnlGrpInfAndSts/GrpSts`. Other unmapped leaves are not written back.
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
        var message: PaymentMessage
        switch document.definition {
        case .pacs008: message = try Pacs008.decode(document)
        case .pacs002: message = Pacs002.decode(document)
        }
        message.source = PaymentMessage.Source(format: "iso20022", version: document.definition.rawValue)
        message.unmapped.append(contentsOf: document.header.map { UnmappedField(key: $0.path, value: $0.text) })
        return message
    }

    /// Writes the canonical message as the ISO 20022 message its kind calls for: a credit transfer
    /// as pacs.008.001.08, a status report as pacs.002.001.10.
    ///
    /// - Parameter creationDateTime: `GrpHdr/CreDtTm` when the message carries none in `unmapped`;
    ///   the current UTC time when nil.
    public static func encode(_ message: PaymentMessage, creationDateTime: String? = nil) throws(ISO20022Error) -> String {
        switch message.kind {
        case .creditTransfer: return try Pacs008.encode(message, creationDateTime: creationDateTime)
        case .statusReport: return try Pacs002.encode(message, creationDateTime: creationDateTime)
        default:
            throw ISO20022Error(.cannotEncode, reason: "a \(message.kind.rawValue) message has no ISO 20022 mapping yet (pacs.008 and pacs.002 only)")
        }
    }
}

extension PaymentMessage {
    /// The value kept under `key` in ``unmapped``.
    func unmappedValue(_ key: String) -> String? {
        unmapped.first { $0.key == key }?.value
    }
}
