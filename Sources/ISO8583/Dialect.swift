/// One ISO 8583 dialect: how the MTI, the bitmaps and each data element are written.
///
/// A dialect is read from a spec file (see ``Dialect/load(yaml:file:resolve:)``) and frozen into a
/// flat table indexed by field number, which the decoder and encoder walk without allocating.
public struct Dialect: Sendable {
    /// The dialect's name, as given to `--spec`.
    public let name: String
    /// The dialects it extends, nearest first (empty for one written whole): a dialect that
    /// extends a shipped one maps to the canonical message as that one does.
    public let lineage: [String]
    /// One line on what the dialect is for.
    public let summary: String
    /// How the MTI is written.
    public let mtiEncoding: MTIEncoding
    /// How the primary, secondary and tertiary bitmaps are written.
    public let bitmapEncoding: BitmapEncoding
    /// Whether bit 65 announces a tertiary bitmap (fields 129–192) instead of a data element.
    public let tertiaryBitmap: Bool
    /// Field specs by number, 0–192; nil where the dialect defines no field.
    public let fields: [FieldSpec?]

    /// The hot-path view of ``fields``.
    let codecs: [FieldCodec]
    /// How field numbers are labelled in errors: `DE ` for messages, `DE 48.` inside a composite.
    var fieldLabelPrefix = "DE "

    /// Freezes a dialect from its parts; validation of the parts is the loader's job.
    public init(
        name: String, summary: String, mtiEncoding: MTIEncoding, bitmapEncoding: BitmapEncoding,
        tertiaryBitmap: Bool, fields: [FieldSpec], lineage: [String] = []
    ) {
        var table = [FieldSpec?](repeating: nil, count: Dialect.fieldLimit + 1)
        for field in fields where (1...Dialect.fieldLimit).contains(field.number) { table[field.number] = field }
        self.name = name
        self.lineage = lineage
        self.summary = summary
        self.mtiEncoding = mtiEncoding
        self.bitmapEncoding = bitmapEncoding
        self.tertiaryBitmap = tertiaryBitmap
        self.fields = table
        self.codecs = table.map { $0.map(FieldCodec.init) ?? FieldCodec.undefined }
    }

    /// The highest data element number (with a tertiary bitmap).
    public static let fieldLimit = 192

    /// The spec of field `number`, if the dialect defines it.
    public subscript(field number: Int) -> FieldSpec? {
        (0...Dialect.fieldLimit).contains(number) ? fields[number] : nil
    }

    /// Whether values of field `number` are card data never to be printed in clear; true for a
    /// field the dialect does not define.
    func isSensitive(_ number: Int) -> Bool {
        guard (0...Dialect.fieldLimit).contains(number), codecs[number].defined else { return true }
        return codecs[number].isSensitive
    }

    /// Whether `number` is a bitmap position rather than a data element in this dialect.
    func isBitmapField(_ number: Int) -> Bool { number == 1 || (number == 65 && tertiaryBitmap) }
}

/// How a field value is held in a message's storage: in its wire form after decoding, or in its
/// logical form (``text`` or ``binary``) when built by hand.
enum ValueForm: UInt8, Sendable {
    case text, ebcdic037, ebcdic1047, bcdLeft, bcdRight, binary, hex
    /// A signed amount (class xn) written as jPOS's IFB_AMOUNT does: the sign C or D as one ASCII
    /// byte, then the digits packed BCD (an odd digit count starts with a 0 nibble).
    case signedBCD

    init(_ encoding: DataEncoding, padding: Padding) {
        switch encoding {
        case .ascii: self = .text
        case .ebcdic037: self = .ebcdic037
        case .ebcdic1047: self = .ebcdic1047
        case .bcd: self = padding == .right ? .bcdRight : .bcdLeft
        case .binary: self = .binary
        case .hex: self = .hex
        }
    }

    /// Bytes the form takes for `units` logical units (characters, digits or bytes).
    @inline(__always)
    func byteCount(units: Int) -> Int {
        switch self {
        case .text, .ebcdic037, .ebcdic1047, .binary: return units
        case .bcdLeft, .bcdRight: return (units + 1) >> 1
        case .hex: return units << 1
        case .signedBCD: return units == 0 ? 0 : 1 + units >> 1
        }
    }

    /// The character table that maps stored bytes to ASCII, for EBCDIC forms.
    var toASCII: [UInt8]? {
        switch self {
        case .ebcdic037: return Charset.ebcdic037ToLatin1
        case .ebcdic1047: return Charset.ebcdic1047ToLatin1
        default: return nil
        }
    }
}

/// The compact, hot-path layout of one field: every decision the codec makes, precomputed.
struct FieldCodec: Sendable {
    var defined: Bool
    var fieldClass: FieldClass
    var allowedBits: UInt8
    var prefixDigitCount: UInt8
    var prefixEncoding: PrefixEncoding
    var prefixByteCount: UInt8
    var lengthUnit: LengthUnit
    var form: ValueForm
    var padding: Padding
    var padCharacter: UInt8
    var maxLengthValue: Int32
    var checksSubfields: Bool
    var isSensitive: Bool
    /// How a prefix number turns into logical units: 0 same, 1 halve (hex characters or nibbles of
    /// bytes), -1 double (bytes of BCD digits). Precomputed so the hot path does no tuple switch.
    var prefixUnitShift: Int8
    /// Whether the value is plain text checked in place (ASCII, not a signed amount): the common case.
    var isPlainText: Bool
    /// Whether the value holds BER-TLV data objects (EMV field 55).
    var isBERTLV = false

    var prefixDigits: Int { Int(prefixDigitCount) }
    /// The nibble that pads an odd BCD digit count: F when the pad character is F, else 0.
    var padNibble: UInt8 { padCharacter == UInt8(ascii: "F") || padCharacter == UInt8(ascii: "f") ? 0x0F : 0 }
    var prefixBytes: Int { Int(prefixByteCount) }
    var maxLength: Int { Int(maxLengthValue) }
    /// The largest number the length prefix can carry.
    var largestPrefixValue: Int {
        guard prefixDigits > 0 else { return 0 }
        if prefixEncoding == .binary { return prefixBytes == 1 ? 0xFF : 0xFFFF }
        return ByteWriter.powersOfTen[prefixDigits] - 1
    }

    static let undefined = FieldCodec(
        defined: false, fieldClass: .binary, allowedBits: 0, prefixDigits: 0, prefixEncoding: .ascii,
        prefixBytes: 0, lengthUnit: .bytes, form: .binary, padding: .none, padCharacter: 0, maxLength: 0,
        checksSubfields: false, isSensitive: false)

    init(
        defined: Bool, fieldClass: FieldClass, allowedBits: UInt8, prefixDigits: Int,
        prefixEncoding: PrefixEncoding, prefixBytes: Int, lengthUnit: LengthUnit, form: ValueForm,
        padding: Padding, padCharacter: UInt8, maxLength: Int, checksSubfields: Bool, isSensitive: Bool
    ) {
        self.defined = defined
        self.fieldClass = fieldClass
        self.allowedBits = allowedBits
        self.prefixDigitCount = UInt8(prefixDigits)
        self.prefixEncoding = prefixEncoding
        self.prefixByteCount = UInt8(prefixBytes)
        self.lengthUnit = lengthUnit
        self.form = form
        self.padding = padding
        self.padCharacter = padCharacter
        self.maxLengthValue = Int32(maxLength)
        self.checksSubfields = checksSubfields
        self.isSensitive = isSensitive
        switch (form, lengthUnit) {
        case (.bcdLeft, .bytes), (.bcdRight, .bytes): prefixUnitShift = -1
        case (.binary, .nibbles), (.hex, .characters), (.hex, .nibbles), (.hex, .bytes): prefixUnitShift = 1
        default: prefixUnitShift = 0
        }
        isPlainText = form == .text && allowedBits != 0 && fieldClass != .signedAmount
    }

    init(_ spec: FieldSpec) {
        let digits = spec.length.prefixDigits
        self.init(
            defined: true, fieldClass: spec.fieldClass, allowedBits: Charset.allowedBits(spec.fieldClass),
            prefixDigits: digits, prefixEncoding: spec.prefixEncoding,
            prefixBytes: digits == 0 ? 0 : spec.prefixEncoding.byteCount(digits: digits),
            lengthUnit: spec.lengthUnit,
            form: spec.fieldClass == .signedAmount && spec.dataEncoding == .bcd ? .signedBCD : ValueForm(spec.dataEncoding, padding: spec.padding),
            padding: spec.padding, padCharacter: spec.padCharacter, maxLength: spec.maxLength,
            checksSubfields: spec.subfields != nil, isSensitive: spec.sensitivity.isSensitive)
        isBERTLV = spec.subfields == .berTLV
    }

    /// The number a length prefix carries for a value of `units` logical units.
    @inline(__always)
    func prefixValue(units: Int) -> Int {
        switch prefixUnitShift {
        case 0: return units
        case 1: return units << 1
        default: return (units + 1) >> 1
        }
    }

    /// The logical units a length prefix value stands for, or nil when it cannot (an odd nibble count
    /// for bytes).
    @inline(__always)
    func units(prefixValue value: Int) -> Int? {
        switch prefixUnitShift {
        case 0: return value
        case 1: return value & 1 == 0 ? value >> 1 : nil
        default: return value << 1
        }
    }
}
