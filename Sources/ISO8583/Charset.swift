import PaymentModel

/// Byte-level character tables shared by the decoder and the encoder.
///
/// Everything here works on single bytes through 256-entry tables, so the hot path never builds
/// a `String` or a `Character`.
enum Charset {
    /// Bits of ``classBits``: which character classes a byte belongs to.
    static let digitBit: UInt8 = 1 << 0
    static let letterBit: UInt8 = 1 << 1
    static let spaceBit: UInt8 = 1 << 2
    static let printableBit: UInt8 = 1 << 3
    static let separatorBit: UInt8 = 1 << 4
    static let hexBit: UInt8 = 1 << 5

    /// For every byte (as ASCII), the class bits it carries.
    static let classBits: [UInt8] = (0..<256).map { value -> UInt8 in
        var bits: UInt8 = 0
        switch value {
        case 0x30...0x39: bits |= digitBit | hexBit
        case 0x41...0x46, 0x61...0x66: bits |= letterBit | hexBit
        case 0x47...0x5A, 0x67...0x7A: bits |= letterBit
        case 0x20: bits |= spaceBit
        case 0x3D: bits |= separatorBit
        default: break
        }
        if (0x20...0x7E).contains(value) { bits |= printableBit }
        return bits
    }

    /// The class bits a byte must have (any of them) to belong to `fieldClass`.
    static func allowedBits(_ fieldClass: FieldClass) -> UInt8 {
        switch fieldClass {
        case .numeric, .signedAmount: return digitBit
        case .alpha: return letterBit | spaceBit
        case .alphanumeric: return digitBit | letterBit | spaceBit
        case .alphanumericSpecial: return printableBit
        case .track: return digitBit | separatorBit
        case .binary: return 0
        }
    }

    /// Value of an ASCII hexadecimal digit, or 0xFF when the byte is not one.
    static let hexValue: [UInt8] = (0..<256).map { value -> UInt8 in
        switch value {
        case 0x30...0x39: return UInt8(value - 0x30)
        case 0x41...0x46: return UInt8(value - 0x41 + 10)
        case 0x61...0x66: return UInt8(value - 0x61 + 10)
        default: return 0xFF
        }
    }

    /// Uppercase ASCII hexadecimal digits.
    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// The table that turns an encoded character byte into ASCII (Latin-1), or nil for ASCII itself.
    static func toASCIITable(_ encoding: DataEncoding) -> [UInt8]? {
        switch encoding {
        case .ebcdic037: return ebcdic037ToLatin1
        case .ebcdic1047: return ebcdic1047ToLatin1
        default: return nil
        }
    }

    /// The table that turns an ASCII (Latin-1) byte into the encoded character byte, or nil for ASCII itself.
    static func fromASCIITable(_ encoding: DataEncoding) -> [UInt8]? {
        switch encoding {
        case .ebcdic037: return latin1ToEBCDIC037
        case .ebcdic1047: return latin1ToEBCDIC1047
        default: return nil
        }
    }

    /// A byte shown safely in an error message: the character when printable, else its hex value.
    static func describe(_ byte: UInt8) -> String {
        if (0x21...0x7E).contains(byte) { return "'\(Character(Unicode.Scalar(byte)))' (0x\(hex(byte)))" }
        return "0x\(hex(byte))"
    }

    /// Two uppercase hexadecimal digits of `byte`.
    static func hex(_ byte: UInt8) -> String {
        String(decoding: [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    /// Uppercase hexadecimal text of `bytes`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Calls `body` with the bytes of an even run of hexadecimal digits (nothing else), decoded on
    /// the stack; false, without calling it, when the text is anything else.
    static func withBytes(fromPlainHex text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        guard text.count % 2 == 0 else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(text.count / 2, 1)) { buffer in
            let hexValue = charTables.hexValue
            var invalid: UInt8 = 0
            for index in 0..<text.count / 2 {
                let high = hexValue[Int(text[2 * index])], low = hexValue[Int(text[2 * index + 1])]
                invalid |= high | low
                buffer[index] = high << 4 | low
            }
            guard invalid & 0xF0 == 0 else { return false }
            body(UnsafeBufferPointer(rebasing: buffer[0..<text.count / 2]))
            return true
        }
    }

    /// Bytes of a hexadecimal text, or nil when it is not an even run of hexadecimal digits.
    static func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var high: UInt8? = nil
        for character in text.utf8 {
            if character == 0x20 || character == 0x0A || character == 0x0D || character == 0x09 { continue }
            let value = hexValue[Int(character)]
            guard value != 0xFF else { return nil }
            if let pending = high {
                out.append(pending << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return high == nil ? out : nil
    }
}

/// Hexadecimal text, as used for binary values in JSON and on the command line.
public enum Hex {
    /// Uppercase hexadecimal text of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String { Charset.hex(bytes) }

    /// The bytes of hexadecimal text (either case; whitespace ignored), or nil when it is not an even
    /// run of hexadecimal digits.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? { Charset.bytes(fromHex: text) }
}

/// The lookup tables as raw pointers, for hot loops: reading them costs no retain, no release and
/// no bounds check. Allocated once for the life of the process.
struct CharTables: @unchecked Sendable {
    let classBits: UnsafePointer<UInt8>
    let hexValue: UnsafePointer<UInt8>
    let hexDigits: UnsafePointer<UInt8>
    let ebcdic037ToASCII: UnsafePointer<UInt8>
    let ebcdic1047ToASCII: UnsafePointer<UInt8>
    let asciiToEBCDIC037: UnsafePointer<UInt8>
    let asciiToEBCDIC1047: UnsafePointer<UInt8>

    init() {
        func copy(_ table: [UInt8]) -> UnsafePointer<UInt8> {
            let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: table.count)
            pointer.initialize(from: table, count: table.count)
            return UnsafePointer(pointer)
        }
        classBits = copy(Charset.classBits)
        hexValue = copy(Charset.hexValue)
        hexDigits = copy(Charset.hexDigits)
        ebcdic037ToASCII = copy(Charset.ebcdic037ToLatin1)
        ebcdic1047ToASCII = copy(Charset.ebcdic1047ToLatin1)
        asciiToEBCDIC037 = copy(Charset.latin1ToEBCDIC037)
        asciiToEBCDIC1047 = copy(Charset.latin1ToEBCDIC1047)
    }

    /// The index of the first of `count` ASCII bytes outside `fieldClass`, or nil when all belong.
    ///
    /// Digits and printable text, most of any message, are checked eight bytes at a time.
    ///
    /// - Parameter readableBytes: how many bytes may be read from `bytes` (a frame's bytes from the
    ///   value on): when eight or more, fewer than eight digits are checked as one word, the bytes
    ///   after them masked to zeros.
    @inline(__always)
    func firstOutsideClass(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ fieldClass: FieldClass, _ allowed: UInt8,
                           readableBytes: Int = 0) -> Int? {
        var index = 0
        switch fieldClass {
        case .numeric:
            if count < 8 && readableBytes >= 8 {
                let kept = (UInt64(1) &<< UInt64(8 &* count)) &- 1
                let word = UInt64(littleEndian: UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self)) & kept
                if areEightASCIIDigits(word | 0x3030_3030_3030_3030 & ~kept) { return nil }
            }
            while index + 8 <= count, areEightASCIIDigits(UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)) { index += 8 }
            // The tail as the last eight bytes (overlapping ones already checked), not byte by byte.
            if index < count, count >= 8, index + 8 > count, areEightASCIIDigits(UnsafeRawPointer(bytes + count - 8).loadUnaligned(as: UInt64.self)) { return nil }
        case .alphanumericSpecial:
            @inline(__always) func printable(_ word: UInt64) -> Bool {
                let ones: UInt64 = 0x0101_0101_0101_0101
                let tops: UInt64 = 0x8080_8080_8080_8080
                // A byte below 0x20, or at or above 0x7F, sends the word to the exact loop below.
                return (word &- 0x20 &* ones) & ~word & tops == 0 && ((word &+ ones) | word) & tops == 0
            }
            while index + 8 <= count, printable(UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)) { index += 8 }
            if index < count, count >= 8, index + 8 > count, printable(UnsafeRawPointer(bytes + count - 8).loadUnaligned(as: UInt64.self)) { return nil }
        case .binary:
            return nil
        default:
            break
        }
        while index < count {
            if classBits[Int(bytes[index])] & allowed == 0 { return index }
            index += 1
        }
        return nil
    }
}

/// The process's tables.
let charTables = CharTables()
