import ISO20022
import PaymentModel
import Testing

/// XML → canonical → XML → canonical for a sample, with the written XML checked by xmllint.
extension Fixtures {
    struct RoundTrip {
        /// The sample as read.
        var first: PaymentMessage
        /// What the encoder wrote for it.
        var xml: String
        /// The written XML as read back.
        var second: PaymentMessage
    }

    /// Reads the sample `<id>_valid.xml` (which must itself validate), writes it with
    /// `ISO20022Codec.encode` (by kind and source) and reads that back; the written XML must validate.
    static func roundTrip(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> RoundTrip {
        let bytes = try sample(id + "_valid.xml")
        let original = try xmllint(String(decoding: bytes, as: UTF8.self), schema: id)
        #expect(original.status == 0, "the sample must be valid: \(original.output)", sourceLocation: sourceLocation)
        let codec = ISO20022Codec()
        let first = try codec.decode(bytes)
        let xml = try ISO20022Codec.encode(first)
        let lint = try xmllint(xml, schema: id)
        #expect(lint.status == 0, "\(lint.output)\n\(xml)", sourceLocation: sourceLocation)
        return RoundTrip(first: first, xml: xml, second: try codec.decode(xml))
    }
}
