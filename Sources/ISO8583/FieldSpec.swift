/// How one ISO 8583 data element (or subfield) is laid out on the wire.
///
/// A `FieldSpec` is plain data read from a dialect spec file; ``Dialect`` freezes a table of them
/// into the compact form the codec walks on its hot path.
public struct FieldSpec: Sendable, Hashable {
    /// The data element number (2–192), or the subfield position or number inside a composite.
    public var number: Int
    /// The field's name, as printed in dumps and errors.
    public var name: String
    /// The character class the value must belong to.
    public var fieldClass: FieldClass
    /// Fixed length, or variable with a length prefix and a maximum.
    public var length: LengthType
    /// The maximum (variable) or exact (fixed) length, in the field's logical units:
    /// characters for text, digits for numeric, bytes for binary.
    public var maxLength: Int
    /// How a variable length prefix is written.
    public var prefixEncoding: PrefixEncoding
    /// How the value itself is written.
    public var dataEncoding: DataEncoding
    /// What the length prefix counts.
    public var lengthUnit: LengthUnit
    /// Which side a short value is padded on (fixed fields and odd BCD digit counts).
    public var padding: Padding
    /// The pad character (text) or nibble (BCD, as `"0"` or `"F"`).
    public var padCharacter: UInt8
    /// How the value must be protected when printed.
    public var sensitivity: Sensitivity
    /// The inner structure of the value, when it has one.
    public var subfields: Subfields?

    /// Creates a field spec; unset layout properties take the defaults of the class and encoding.
    public init(
        number: Int, name: String, fieldClass: FieldClass, length: LengthType, maxLength: Int,
        prefixEncoding: PrefixEncoding = .ascii, dataEncoding: DataEncoding = .ascii,
        lengthUnit: LengthUnit? = nil, padding: Padding? = nil, padCharacter: UInt8? = nil,
        sensitivity: Sensitivity = .none, subfields: Subfields? = nil
    ) {
        self.number = number
        self.name = name
        self.fieldClass = fieldClass
        self.length = length
        self.maxLength = maxLength
        self.prefixEncoding = prefixEncoding
        self.dataEncoding = dataEncoding
        self.lengthUnit = lengthUnit ?? dataEncoding.defaultLengthUnit
        let defaultPadding = FieldSpec.defaultPadding(fieldClass, dataEncoding)
        self.padding = padding ?? defaultPadding.0
        self.padCharacter = padCharacter ?? defaultPadding.1
        self.sensitivity = sensitivity
        self.subfields = subfields
    }

    static func defaultPadding(_ fieldClass: FieldClass, _ encoding: DataEncoding) -> (Padding, UInt8) {
        switch (fieldClass, encoding) {
        // Zeros between the sign and the digits: C00001234 (jPOS's IFB_AMOUNT zero-pads so too).
        case (.signedAmount, _): return (.left, UInt8(ascii: "0"))
        case (_, .bcd): return (.left, UInt8(ascii: "0"))
        case (.numeric, _): return (.left, UInt8(ascii: "0"))
        case (.binary, _): return (.none, 0)
        default: return (.right, UInt8(ascii: " "))
        }
    }
}

/// The character class of a field's value, as named by ISO 8583.
public enum FieldClass: String, Sendable, Hashable, CaseIterable {
    /// `n`: decimal digits.
    case numeric = "n"
    /// `xn`: an amount: sign `C` (credit) or `D` (debit) followed by digits.
    case signedAmount = "xn"
    /// `a`: letters and space.
    case alpha = "a"
    /// `an`: letters, digits and space.
    case alphanumeric = "an"
    /// `ans`: printable ASCII characters.
    case alphanumericSpecial = "ans"
    /// `z`: track 2 or 3 data: digits and the `=` field separator.
    case track = "z"
    /// `b`: binary data.
    case binary = "b"

    /// What the class allows, in words for error messages.
    public var expectation: String {
        switch self {
        case .numeric: return "n (digits 0-9)"
        case .signedAmount: return "xn (C or D, then digits)"
        case .alpha: return "a (letters and space)"
        case .alphanumeric: return "an (letters, digits and space)"
        case .alphanumericSpecial: return "ans (printable characters)"
        case .track: return "z (digits and '=')"
        case .binary: return "b (bytes)"
        }
    }
}

/// Whether a field is fixed or carries a variable length prefix.
public enum LengthType: Sendable, Hashable {
    /// Exactly `maxLength` units; no prefix.
    case fixed
    /// A length prefix of this many decimal digits (LL = 2, LLL = 3, LLLL = 4).
    case variable(digits: Int)

    /// The prefix digit count, zero for fixed fields.
    public var prefixDigits: Int {
        if case .variable(let digits) = self { return digits }
        return 0
    }
}

/// How a length prefix is written.
public enum PrefixEncoding: String, Sendable, Hashable, CaseIterable {
    /// Decimal digits as ASCII characters, one per digit.
    case ascii
    /// Decimal digits as EBCDIC characters, one per digit.
    case ebcdic
    /// Packed BCD, two digits per byte, left-padded with a zero nibble.
    case bcd
    /// Big-endian binary: one byte for LL, two bytes for LLL and LLLL.
    case binary

    /// The bytes a prefix of `digits` decimal digits takes.
    func byteCount(digits: Int) -> Int {
        switch self {
        case .ascii, .ebcdic: return digits
        case .bcd: return (digits + 1) / 2
        case .binary: return digits <= 2 ? 1 : 2
        }
    }
}

/// How a field's value is written.
public enum DataEncoding: String, Sendable, Hashable, CaseIterable {
    /// One ASCII byte per character.
    case ascii
    /// One EBCDIC (code page 037) byte per character.
    case ebcdic037 = "ebcdic"
    /// One EBCDIC (code page 1047) byte per character.
    case ebcdic1047
    /// Packed BCD: two decimal digits per byte, padded to a whole byte.
    case bcd
    /// Raw bytes.
    case binary
    /// Bytes written as uppercase hexadecimal ASCII characters, two per byte.
    case hex

    /// What a length prefix counts by default for this encoding.
    public var defaultLengthUnit: LengthUnit {
        switch self {
        case .ascii, .ebcdic037, .ebcdic1047, .hex: return .characters
        case .bcd: return .digits
        case .binary: return .bytes
        }
    }

    /// Whether the encoding writes characters one byte each.
    var isCharacterEncoding: Bool {
        switch self {
        case .ascii, .ebcdic037, .ebcdic1047: return true
        case .bcd, .binary, .hex: return false
        }
    }
}

/// What a length prefix counts.
public enum LengthUnit: String, Sendable, Hashable, CaseIterable {
    /// Characters on the wire (text), or hexadecimal characters for hex-encoded binary.
    case characters
    /// Decimal digits of a BCD value.
    case digits
    /// Bytes on the wire.
    case bytes
    /// Half-bytes: digits of a BCD value, or twice the bytes of a binary value.
    case nibbles
}

/// Which side a short value is padded on.
public enum Padding: String, Sendable, Hashable, CaseIterable {
    case left
    case right
    case none
}

/// How a field's value must be protected in logs, dumps and errors.
public enum Sensitivity: String, Sendable, Hashable, CaseIterable {
    /// Primary account number: first six and last four digits may be shown.
    case pan
    /// Magnetic stripe track data: never shown.
    case track
    /// PIN block: never shown.
    case pin
    /// Card verification value: never shown.
    case cvv
    /// EMV chip data: tags shown, values of card-identifying tags hidden.
    case emv
    /// Not sensitive.
    case none

    /// Whether values of this kind are hidden when printed without `--unmask`.
    public var isSensitive: Bool { self != .none }
}

/// The inner structure of a composite field.
public enum Subfields: Sendable, Hashable {
    /// Fixed-position subfields, one after another, each laid out like a field.
    case positional([FieldSpec])
    /// EMV BER-TLV data objects (ISO 8825 / EMV Book 3): field 55.
    case berTLV
    /// Private tag-length-value: a tag of `tagLength` characters, a length of `lengthDigits`
    /// decimal characters counting value characters, then the value (fields 48, 62 and the like).
    case tagLengthValue(tagLength: Int, lengthDigits: Int, tags: [TagSpec])
    /// A composite with its own bitmap (8 bytes binary, or 16 hex characters) and numbered subfields.
    case bitmapped(bitmap: BitmapEncoding, fields: [FieldSpec])
}

/// A named tag inside a private tag-length-value field.
public struct TagSpec: Sendable, Hashable {
    public var tag: String
    public var name: String
    public var sensitivity: Sensitivity

    public init(tag: String, name: String, sensitivity: Sensitivity = .none) {
        self.tag = tag
        self.name = name
        self.sensitivity = sensitivity
    }
}

/// How a bitmap is written.
public enum BitmapEncoding: String, Sendable, Hashable, CaseIterable {
    /// Eight raw bytes per bitmap.
    case binary
    /// Sixteen uppercase hexadecimal ASCII characters per bitmap.
    case hex
    /// Sixteen hexadecimal characters per bitmap, in EBCDIC.
    case ebcdicHex = "ebcdic-hex"

    /// Bytes one 64-bit bitmap takes.
    var byteCount: Int { self == .binary ? 8 : 16 }
}

/// How the message type indicator is written.
public enum MTIEncoding: String, Sendable, Hashable, CaseIterable {
    /// Four ASCII digits.
    case ascii
    /// Four EBCDIC digits.
    case ebcdic
    /// Two bytes of packed BCD.
    case bcd

    /// Bytes the MTI takes.
    var byteCount: Int { self == .bcd ? 2 : 4 }
}
