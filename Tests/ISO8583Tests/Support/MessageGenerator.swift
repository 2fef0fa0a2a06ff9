import ISO8583
import TestSupport

/// Builds random messages that are valid in a dialect: every field's class, length and subfield
/// structure respected.
struct MessageGenerator {
    let dialect: Dialect
    var random: SeededRandom
    /// When set, only fields this dialect defines alike (class, length, maximum) are generated:
    /// messages meant to be translated into it.
    var alike: Dialect?

    init(dialect: Dialect, seed: UInt64, alike: Dialect? = nil) {
        self.dialect = dialect
        self.random = SeededRandom(seed: seed)
        self.alike = alike
    }

    static let mtis = ["0100", "0110", "0200", "0210", "0400", "0420", "0800", "0810"]

    /// A message and the value set for each field (text, or hex for binary fields).
    mutating func message() -> (ISO8583Message, [Int: String]) {
        var message = ISO8583Message(mti: MTI(MessageGenerator.mtis.randomElement(using: &random)!)!)
        var expected: [Int: String] = [:]
        let useSecondary = Bool.random(using: &random)
        let useTertiary = useSecondary && dialect.tertiaryBitmap && Int.random(in: 0..<4, using: &random) == 0
        for spec in dialect.fields.compactMap({ $0 }) {
            if spec.number > 64 && !useSecondary { continue }
            if spec.number > 128 && !useTertiary { continue }
            if let alike {
                guard let other = alike[field: spec.number], other.fieldClass == spec.fieldClass, other.length == spec.length,
                      other.maxLength == spec.maxLength else { continue }
            }
            guard Int.random(in: 0..<3, using: &random) == 0 else { continue }
            let value = self.value(for: spec)
            if spec.fieldClass == .binary {
                message.set(spec.number, bytes: value)
                expected[spec.number] = Hex.encode(value)
            } else {
                let text = String(decoding: value, as: UTF8.self)
                message.set(spec.number, text)
                expected[spec.number] = text
            }
        }
        if message.fieldCount == 0 {
            message.set(11, "000001")
            expected[11] = "000001"
        }
        return (message, expected)
    }

    /// A valid logical value for a field: characters for text, bytes for binary.
    mutating func value(for spec: FieldSpec) -> [UInt8] {
        let length: Int
        switch spec.length {
        case .fixed: length = spec.maxLength
        case .variable: length = Int.random(in: 0...min(spec.maxLength, 40), using: &random)
        }
        switch spec.subfields {
        case .berTLV?:
            return berTLV(maxBytes: min(spec.maxLength, 120))
        case .positional(let parts)?:
            var out: [UInt8] = []
            for part in parts {
                let piece = value(for: part)
                if case .variable(let digits) = part.length {
                    out += Array(String(piece.count).leftPadded(to: digits).utf8)
                }
                out += piece
            }
            return out
        default:
            return characters(spec.fieldClass, count: length)
        }
    }

    /// Random characters (or bytes) of a class.
    mutating func characters(_ fieldClass: FieldClass, count: Int) -> [UInt8] {
        func pick(_ alphabet: String) -> [UInt8] {
            let letters = Array(alphabet.utf8)
            return (0..<count).map { _ in letters.randomElement(using: &random)! }
        }
        switch fieldClass {
        case .numeric: return pick("0123456789")
        case .signedAmount:
            guard count > 0 else { return [] }
            return [Bool.random(using: &random) ? UInt8(ascii: "C") : UInt8(ascii: "D")] + pick("0123456789").dropLast()
        case .alpha: return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ abcxyz")
        case .alphanumeric: return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")
        case .alphanumericSpecial:
            return (0..<count).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) }
        case .track:
            var digits = pick("0123456789")
            if count > 2 { digits[Int.random(in: 1..<count - 1, using: &random)] = UInt8(ascii: "=") }
            return digits
        case .binary:
            return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
    }

    /// A run of EMV data objects: short and multi-byte tags, short and long-form lengths, one
    /// constructed tag, a zero-length value.
    mutating func berTLV(maxBytes: Int) -> [UInt8] {
        let tags: [[UInt8]] = [[0x9F, 0x26], [0x9F, 0x27], [0x95], [0x9A], [0x5F, 0x2A], [0x82], [0x9F, 0x10], [0xDF, 0x81, 0x01]]
        var out: [UInt8] = []
        while true {
            let choice = Int.random(in: 0..<(tags.count + 2), using: &random)
            var object: [UInt8]
            if choice == tags.count {
                // A constructed template holding one primitive object.
                let inner: [UInt8] = [0x9F, 0x36, 0x02, UInt8.random(in: 0...255, using: &random), 0x42]
                object = [0x71, UInt8(inner.count)] + inner
            } else if choice == tags.count + 1 {
                // A zero-length value, and a long-form length for a short value.
                object = [0x9F, 0x03, 0x00, 0x9F, 0x1E, 0x81, 0x02, 0x41, 0x42]
            } else {
                let count = Int.random(in: 0...9, using: &random)
                object = tags[choice] + [UInt8(count)] + (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            guard out.count + object.count <= maxBytes else { return out }
            out += object
            if Int.random(in: 0..<4, using: &random) == 0 { return out }
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
