import ISO8583
import Testing

/// iso87bcd writes what jPOS's ISO87BPackager writes. The expected bytes are worked out by hand
/// from its field packagers (IFB_LLNUM right-pads an odd digit count with a 0 nibble, IFB_AMOUNT
/// is an ASCII sign then BCD digits, IFB_LLLCHAR is ASCII with a 2-byte BCD length, IF_CHAR pads
/// with spaces, IFB_BINARY is raw), not taken from our own encoder.
struct ISO87BPackagerTests {
    static let fields: [Int: String] = [
        2: "123456789012345", 28: "C00001234", 32: "12345", 35: "4761739001010119=2712", 36: "=1234ab",
        93: "ABC   ", 97: "D0000000000012345",
    ]

    static let frame = "0200" + "C000001130000000" + "8000000880000000"
        + "15" + "1234567890123450"                       // DE 2: LL 15, odd: 0 nibble last
        + "4300001234"                                    // DE 28: 'C' then 8 digits BCD
        + "05" + "123450"                                 // DE 32: LL 05, 0 nibble last
        + "21" + "4761739001010119D27120"                 // DE 35: '=' as D, 0 nibble last
        + "0007" + "3D31323334" + "6162"                  // DE 36: LLL 0007, ASCII
        + "01"                                            // DE 65: one byte
        + "414243202020"                                  // DE 93: an6, spaces
        + "44" + "0000000000012345"                       // DE 97: 'D' then 16 digits BCD

    static func message() -> ISO8583Message {
        var message = ISO8583Message(mti: MTI("0200")!)
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) { message.set(field, value) }
        message.set(65, bytes: [0x01])
        return message
    }

    @Test func encodesAsISO87BPackagerDoes() throws {
        let dialect = try Dialect.shipped("iso87bcd")
        #expect(Hex.encode(try Self.message().encoded(as: dialect)) == Self.frame)
    }

    @Test func decodesWhatISO87BPackagerWrites() throws {
        let dialect = try Dialect.shipped("iso87bcd")
        let decoded = try ISO8583Message(decoding: Hex.decode(Self.frame)!, dialect: dialect)
        for (field, value) in Self.fields { #expect(decoded.string(field) == value, "DE \(field)") }
        #expect(decoded.bytes(65) == [0x01])
        #expect(try decoded.encoded(as: dialect) == Hex.decode(Self.frame)!)
    }

    /// A short signed amount is zero-padded between its sign and its digits, as IFB_AMOUNT does
    /// (and in the all-ASCII dialect alike), never padded before the sign or with spaces.
    @Test(arguments: [("iso87bcd", "C123", "4300000123"), ("iso87ascii", "D5", "443030303030303035")])
    func aShortSignedAmountIsZeroPaddedAfterItsSign(dialectName: String, value: String, hex: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(28, value)
        let frame = try message.encoded(as: dialect)
        #expect(Hex.encode(frame).hasSuffix(hex))
        let padded = String(value.prefix(1)) + String(repeating: "0", count: 9 - value.count) + String(value.dropFirst())
        #expect(try ISO8583Message(decoding: frame, dialect: dialect).string(28) == padded)
    }

    @Test(arguments: [
        // A sign that is neither C nor D, at the field's first byte.
        ("4500001234", 28, "invalidCharacter", "expected C or D"),
        // A digit nibble above 9 after the sign.
        ("43000012A4", 28, "invalidBCD", "nibble 6 after the sign is 0xA, expected a digit"),
    ])
    func aBadSignedAmountNamesItsFieldOffsetAndReason(value: String, field: Int, code: String, reason: String) throws {
        let dialect = try Dialect.shipped("iso87bcd")
        let frame = Hex.decode("0200" + "0000001000000000" + value)!
        #expect {
            _ = try ISO8583Message(decoding: frame, dialect: dialect)
        } throws: { error in
            guard let error = error as? ISO8583Error else { return false }
            let offset = 10 + (code == "invalidBCD" ? 4 : 0)
            return error.field == field && "\(error.code)" == code && error.offset == offset && error.reason.contains(reason)
        }
    }
    /// An odd BCD digit count's pad nibble is the field's pad character, as pyiso8583 checks it:
    /// F where the dialect says 0 is refused with the field, its byte and the reason, and a
    /// dialect that says F takes F and refuses 0.
    @Test(arguments: [
        ("iso87bcd", "0840", nil), ("iso87bcd", "F840", "pad nibble 0 is 0xF, expected the pad 0"),
        ("padF", "F840", nil), ("padF", "0840", "pad nibble 0 is 0x0, expected the pad F"),
    ] as [(String, String, String?)])
    func anOddDigitCountsPadIsTheFieldsPadCharacter(dialectName: String, value: String, refusal: String?) throws {
        let dialect = dialectName == "padF"
            ? try Dialect.load(yaml: """
                dialect: padF
                extends: iso87bcd
                fields:
                  - {field: 19, pad-char: F}
                """, file: "padF.yaml")
            : try Dialect.shipped(dialectName)
        let frame = Hex.decode("0200" + "0000200000000000" + value)!  // DE 19 alone, n3 fixed
        guard let refusal else {
            let message = try ISO8583Message(decoding: frame, dialect: dialect)
            #expect(message.string(19) == "840")
            #expect(try message.encoded(as: dialect) == frame)
            return
        }
        #expect {
            _ = try ISO8583Message(decoding: frame, dialect: dialect)
        } throws: { error in
            guard let error = error as? ISO8583Error else { return false }
            return error.code == .invalidBCD && error.field == 19 && error.offset == 10 && error.reason.contains(refusal)
        }
    }
}
