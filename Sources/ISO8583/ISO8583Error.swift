/// An error raised while decoding or encoding an ISO 8583 message.
///
/// It names the field, the byte offset in the frame (when decoding), what was expected and what was
/// found. The ``reason`` never holds an unmasked sensitive value: for PAN, track, PIN, CVV and EMV
/// fields it describes the fault without quoting the data.
///
/// Equality compares everything: code, field, offset and reason. ``matches(_:field:offset:)``
/// compares only what a caller names.
public struct ISO8583Error: Error, Hashable, CustomStringConvertible, Sendable {
    /// What kind of fault this is.
    public let code: Code
    /// The data element number; 0 for the MTI, 1 for a bitmap, nil when no field is concerned.
    public let field: Int?
    /// The byte offset in the frame where the fault was found (decoding only).
    public let offset: Int?
    /// A short sentence saying what was expected and what was found.
    public let reason: String

    public init(code: Code, field: Int?, offset: Int?, reason: String) {
        self.code = code
        self.field = field
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        // The reason already names the field; the offset locates it in the frame.
        var text = "ISO8583Error.\(code)"
        if let offset { text += " at byte \(offset)" }
        return text + ": " + reason
    }

    /// Whether this is a `code` error at `field` and `offset` (each checked when given).
    public func matches(_ code: Code, field: Int? = nil, offset: Int? = nil) -> Bool {
        self.code == code && (field == nil || self.field == field) && (offset == nil || self.offset == offset)
    }

    /// The kind of an ``ISO8583Error``; a struct so that new kinds do not break clients' switches.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The frame ended before the field it announces.
        public static let truncated = Code("truncated")
        /// A length prefix is not a valid number in its encoding.
        public static let invalidLengthPrefix = Code("invalidLengthPrefix")
        /// A length is over the field's maximum.
        public static let lengthOverMaximum = Code("lengthOverMaximum")
        /// A fixed field's value has the wrong length.
        public static let wrongLength = Code("wrongLength")
        /// A character outside the field's class.
        public static let invalidCharacter = Code("invalidCharacter")
        /// A BCD nibble that is not a decimal digit (or pad) where one is required.
        public static let invalidBCD = Code("invalidBCD")
        /// Hexadecimal text that is not valid.
        public static let invalidHex = Code("invalidHex")
        /// The MTI is not four digits.
        public static let invalidMTI = Code("invalidMTI")
        /// A secondary or tertiary bitmap is announced but empty.
        public static let invalidBitmap = Code("invalidBitmap")
        /// The bitmap announces a field the dialect does not define.
        public static let undefinedField = Code("undefinedField")
        /// A TLV structure (BER-TLV or private) is malformed.
        public static let invalidTLV = Code("invalidTLV")
        /// A composite field's subfields do not fill it exactly.
        public static let invalidSubfields = Code("invalidSubfields")
        /// Bytes remain after the last field the bitmap announces.
        public static let trailingBytes = Code("trailingBytes")
        /// A message to encode lacks something the encoding needs.
        public static let missingValue = Code("missingValue")
    }
}
