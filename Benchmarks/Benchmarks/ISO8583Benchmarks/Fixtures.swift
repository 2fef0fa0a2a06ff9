// Messages the benchmarks encode and decode. Everything here runs in setup, never inside the
// measured closures.
import ISO8583

/// Field 55: a short but realistic EMV ARQC data set as BER-TLV (the same bytes as
/// `ICC_HEX` in shared/peers/pyiso8583_bench.py).
let iccHex =
    "9F26081122334455667788"  // Application Cryptogram
    + "9F270180"  // Cryptogram Information Data
    + "9F10120110A00003220000000000000000000000FF"  // Issuer Application Data
    + "9F3704A1B2C3D4"  // Unpredictable Number
    + "9F36020042"  // ATC
    + "95050000080000"  // TVR
    + "9A03261120"  // Transaction Date
    + "9C0100"  // Transaction Type
    + "9F0206000000010000"  // Amount, Authorised
    + "5F2A020840"  // Transaction Currency Code
    + "82023900"  // AIP
    + "9F1A020840"  // Terminal Country Code
    + "9F3303E0F0C8"  // Terminal Capabilities

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

func bytes(fromHex hex: String) throws -> [UInt8] {
    guard let bytes = Hex.decode(hex) else { throw FixtureError(description: "bad hex: \(hex)") }
    return bytes
}

/// The typical financial request: the 0200 of shared/peers/pyiso8583_bench.py (20 fields with
/// track 2 and ICC data). For the 1993 dialect the fields that changed meaning or format get 1993
/// values: MTI 1200, DE12 local date and time n12, DE22 POS data code an12, DE24 function code,
/// and no DE25 (now a 4-digit reason code, which a plain request does not carry).
func typicalRequest(for dialectName: String) throws -> ISO8583Message {
    let is1993 = dialectName.hasPrefix("iso93")
    var m = ISO8583Message(mti: MTI(is1993 ? "1200" : "0200")!)
    m.set(2, "4761739001010119")
    m.set(3, "000000")
    m.set(4, "000000010000")
    m.set(7, "1120153045")
    m.set(11, "123456")
    m.set(14, "2712")
    m.set(18, "5411")
    if is1993 {
        m.set(12, "261120153045")
        m.set(22, "A10101654140")
        m.set(24, "200")
    } else {
        m.set(12, "153045")
        m.set(13, "1120")
        m.set(22, "051")
        m.set(25, "00")
    }
    m.set(32, "123456")
    m.set(35, "4761739001010119=27122011143804400000")
    m.set(37, "432015123456")
    m.set(41, "TERM0001")
    m.set(42, "MERCHANT0000001")
    m.set(43, is1993 ? "ACME STORE 42>SPRINGFIELD IL>US" : "ACME STORE 42          SPRINGFIELD  ILUS")
    m.set(49, "840")
    m.set(52, bytes: try bytes(fromHex: "1A2B3C4D5E6F7081"))
    m.set(55, bytes: try bytes(fromHex: iccHex))
    return m
}

/// The 87 field numbers of the large message: every data field of the primary and secondary
/// bitmaps (2-64, 66-128; 1 and 65 are bitmaps) except the multiples of 3 from 12 up, which
/// leaves 45 fields in the primary bitmap and 42 in the secondary one.
let largeMessageFields: [Int] = Array(2...64).filter { $0 < 12 || $0 % 3 != 0 }
    + Array(66...128).filter { $0 % 3 != 0 }

/// Builds a message with a valid value for every field of `fields`, from the dialect's own field
/// specs: fixed fields at their full length, variable fields at up to 24 characters (field 55
/// carries the ICC data set, field 35 a track 2).
func largeMessage(fields: [Int], dialect: Dialect) throws -> ISO8583Message {
    var m = ISO8583Message(mti: MTI("0200")!)
    for number in fields {
        guard let spec = dialect[field: number] else {
            throw FixtureError(description: "dialect \(dialect.name) does not define DE \(number)")
        }
        switch spec.subfields {
        case .berTLV:
            m.set(number, bytes: try bytes(fromHex: iccHex))
            continue
        case .tagLengthValue(let tagLength, let lengthDigits, _):
            let valueLength = 8
            var text = String(repeating: "T", count: tagLength)
            let length = String(valueLength)
            text += String(repeating: "0", count: max(0, lengthDigits - length.count)) + length
            text += String(repeating: "V", count: valueLength)
            m.set(number, text)
            continue
        case .positional(let parts):
            var text = ""
            for part in parts {
                let count = part.length == .fixed ? part.maxLength : min(part.maxLength, 8)
                let prefix = part.length.prefixDigits
                if prefix > 0 {
                    let length = String(count)
                    text += String(repeating: "0", count: prefix - length.count) + length
                }
                text += sampleText(class: part.fieldClass, count: count, seed: number + part.number)
            }
            m.set(number, text)
            continue
        case .bitmapped, .none:
            break
        }
        let count = spec.length == .fixed ? spec.maxLength : min(spec.maxLength, 24)
        if number == 35 {
            m.set(number, "4761739001010119=27122011143804400000")
        } else if spec.fieldClass == .binary {
            m.set(number, bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ number) })
        } else {
            m.set(number, sampleText(class: spec.fieldClass, count: count, seed: number))
        }
    }
    return m
}

/// A value of `count` characters that fits `fieldClass`.
func sampleText(class fieldClass: FieldClass, count: Int, seed: Int) -> String {
    let digits = Array("0123456789")
    let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    let alphanumerics = Array("ACME STORE 42 SPRINGFIELD 0123456789")
    let printable = Array("ACME Store #42, Springfield (IL) / US-840; ref=7*")
    func cycle(_ alphabet: [Character], _ n: Int) -> String {
        String((0..<n).map { alphabet[($0 + seed) % alphabet.count] })
    }
    switch fieldClass {
    case .numeric: return cycle(digits, count)
    case .signedAmount: return "C" + cycle(digits, count - 1)
    case .alpha: return cycle(letters, count)
    case .alphanumeric: return cycle(alphanumerics, count)
    case .alphanumericSpecial: return cycle(printable, count)
    case .track:
        let separator = min(16, count - 1)
        return cycle(digits, separator) + "=" + cycle(digits, count - separator - 1)
    case .binary: return cycle(digits, count)  // not reached: binary values are set as bytes
    }
}

/// One benchmark's input: the dialect, a built message, its frame.
struct Fixture: Sendable {
    let dialect: Dialect
    let message: ISO8583Message
    let frame: [UInt8]

    /// Encodes `message`, decodes the frame back and checks that both agree, so a benchmark never
    /// measures an error path.
    init(dialect: Dialect, message: ISO8583Message) throws {
        self.dialect = dialect
        self.message = message
        self.frame = try message.encoded(as: dialect)
        let decoded = try ISO8583Message(decoding: frame, dialect: dialect)
        guard decoded.fieldNumbers == message.fieldNumbers else {
            throw FixtureError(
                description: "\(dialect.name): decoded fields \(decoded.fieldNumbers), built \(message.fieldNumbers)")
        }
        for number in message.fieldNumbers {
            guard decoded.bytes(number) == message.bytes(number) else {
                throw FixtureError(
                    description: "\(dialect.name) DE \(number): decoded \(String(describing: decoded.string(number))), built \(String(describing: message.string(number)))")
            }
        }
        guard try decoded.encoded(as: dialect) == frame else {
            throw FixtureError(description: "\(dialect.name): re-encoding the decoded frame gives different bytes")
        }
    }

    static func typical(_ dialectName: String) throws -> Fixture {
        try Fixture(dialect: Dialect.shipped(dialectName), message: typicalRequest(for: dialectName))
    }

    static func large(_ dialectName: String) throws -> Fixture {
        let dialect = try Dialect.shipped(dialectName)
        let message = try largeMessage(fields: largeMessageFields, dialect: dialect)
        guard message.fieldCount == 87 else {
            throw FixtureError(description: "large message has \(message.fieldCount) fields, not 87")
        }
        return try Fixture(dialect: dialect, message: message)
    }
}
