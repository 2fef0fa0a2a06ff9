import ISO8583
import Testing

/// Field 55 BER-TLV and the composite layouts: positional, private TLV and bitmapped.
struct SubfieldTests {
    static let composites = """
        dialect: composites
        mti: ascii
        bitmap: hex
        fields:
          - {field: 2, name: PAN, class: n, length: LL, max: 19, sensitivity: pan}
          - field: 48
            name: Additional Data
            class: ans
            length: LLL
            max: 999
            subfields:
              format: tlv
              tag-length: 2
              length-digits: 2
              tags:
                - {tag: "01", name: Customer Reference}
                - {tag: "CV", name: CVV2, sensitivity: cvv}
          - {field: 55, name: ICC, class: b, length: LLL, max: 255, encoding: binary, prefix: binary, sensitivity: emv, subfields: {format: ber-tlv}}
          - field: 62
            name: Private Bitmapped
            class: ans
            length: LLL
            max: 999
            subfields:
              format: bitmapped
              bitmap: hex
              fields:
                - {field: 1, name: Authorization Characteristics, class: an, length: 1}
                - {field: 2, name: Transaction Identifier, class: n, length: 15}
                - {field: 3, name: Note, class: ans, length: LL, max: 20}
          - field: 90
            name: Original Data Elements
            class: n
            length: 42
            encoding: bcd
            subfields:
              format: positional
              fields:
                - {field: 1, name: Original MTI, class: n, length: 4}
                - {field: 2, name: Original STAN, class: n, length: 6}
                - {field: 3, name: Original Date, class: n, length: 10}
                - {field: 4, name: Acquirer, class: n, length: 11}
                - {field: 5, name: Forwarder, class: n, length: 11}
        """

    func dialect() throws -> Dialect { try Dialect.load(yaml: Self.composites, file: "composites.yaml") }

    func roundTrip(_ fields: [(Int, String)], binary: [(Int, [UInt8])] = []) throws -> ISO8583Message {
        let dialect = try dialect()
        var message = ISO8583Message(mti: MTI("0100")!)
        for (field, value) in fields { message.set(field, value) }
        for (field, value) in binary { message.set(field, bytes: value) }
        let frame = try message.encoded(as: dialect)
        let decoded = try ISO8583Message(decoding: frame, dialect: dialect)
        #expect(try decoded.encoded(as: dialect) == frame)
        return decoded
    }

    @Test func berTLVMultiByteTagsLongLengthsConstructedAndEmpty() throws {
        let long = [UInt8](repeating: 0xAB, count: 200)
        let tlv: [UInt8] = [0x9F, 0x26, 0x02, 0x11, 0x22]  // two-byte tag
            + [0xDF, 0x81, 0x01, 0x01, 0x33]  // three-byte tag
            + [0x9F, 0x10, 0x81, 0xC8] + long  // long-form length
            + [0x71, 0x05, 0x9F, 0x18, 0x02, 0x01, 0x02]  // constructed, with a child
            + [0x9F, 0x03, 0x00]  // zero-length
        let decoded = try roundTrip([], binary: [(55, [0x00] + tlv)])  // leading 00 padding is skipped
        let objects = try decoded.tlv(55)
        #expect(objects.map(\.tag) == ["9F26", "DF8101", "9F10", "71", "9F03"])
        #expect(objects[2].value == long)
        #expect(objects[3].isConstructed && objects[3].children.first?.tag == "9F18")
        #expect(objects[4].value.isEmpty)
    }

    @Test(arguments: [
        ([0x9F, 0x26, 0x09, 0x01], "length 9 but only 1 bytes are left"),
        ([0x9F], "cut off"),
        ([0x9F, 0x26], "has no length"),
        ([0x9F, 0x26, 0x85, 0x01], "unsupported length form"),
        ([0x9F, 0xA6, 0xB1, 0xC2, 0xD3, 0x01], "longer than 4 bytes"),
        ([0x71, 0x03, 0x9F, 0x26, 0x05], "length 5"),
    ] as [([UInt8], String)])
    func malformedTLVIsRefused(value: [UInt8], words: String) throws {
        let dialect = try dialect()
        var message = ISO8583Message(mti: MTI("0100")!)
        message.set(55, bytes: value)
        let frame = try message.encoded(as: dialect)
        #expect {
            try ISO8583Message(decoding: frame, dialect: dialect)
        } throws: { error in
            guard let error = error as? ISO8583Error else { return false }
            return error.code == .invalidTLV && error.field == 55 && error.reason.contains(words)
        }
    }

    @Test func privateTLVWithSensitiveTag() throws {
        let decoded = try roundTrip([(48, "01" + "05" + "ABCDE" + "CV" + "03" + "123")])
        let parts = try decoded.subfields(48, dialect: try dialect())
        #expect(parts.map(\.id) == ["01", "CV"])
        #expect(parts[1].name == "CVV2" && parts[1].sensitivity == .cvv)
        #expect(parts[1].sensitivity.mask(String(decoding: parts[1].value, as: UTF8.self)) == "***")
    }

    @Test func privateTLVOverrunIsRefused() throws {
        let dialect = try dialect()
        var message = ISO8583Message(mti: MTI("0100")!)
        message.set(48, "0109ABC")
        let frame = try message.encoded(as: dialect)
        expectISO8583Error(.invalidTLV, field: 48, offset: 27) {
            try ISO8583Message(decoding: frame, dialect: dialect)
        }
    }

    @Test func bitmappedComposite() throws {
        // Bitmap 0xA0…: subfields 1 and 3.
        let decoded = try roundTrip([(62, "A000000000000000" + "Y" + "05" + "hello")])
        let parts = try decoded.subfields(62, dialect: try dialect())
        #expect(parts.map(\.id) == ["1", "3"])
        #expect(parts.map { String(decoding: $0.value, as: UTF8.self) } == ["Y", "hello"])
    }

    @Test func bitmappedCompositeWithUndefinedSubfieldIsRefused() throws {
        let dialect = try dialect()
        var message = ISO8583Message(mti: MTI("0100")!)
        message.set(62, "1000000000000000" + "X")  // bit 4, which the spec does not define
        let frame = try message.encoded(as: dialect)
        expectISO8583Error(.undefinedField, field: 62, offset: 39) {
            try ISO8583Message(decoding: frame, dialect: dialect)
        }
    }

    @Test func positionalSubfieldsOverBCDDigits() throws {
        let original = "0200" + "123456" + "1120153045" + "00000012345" + "00000067890"
        let decoded = try roundTrip([(90, original)])
        #expect(decoded.wireBytes(90)?.count == 21)
        let parts = try decoded.subfields(90, dialect: try dialect())
        #expect(parts.map { String(decoding: $0.value, as: UTF8.self) } == ["0200", "123456", "1120153045", "00000012345", "00000067890"])
        #expect(parts[1].name == "Original STAN")
    }
}

/// Encodings, padding, bitmaps and encoder checks.
struct EncodingTests {
    static let spec = """
        dialect: encodings
        mti: ebcdic
        bitmap: binary
        tertiary-bitmap: true
        fields:
          - {field: 2, name: PAN, class: n, length: LL, max: 19, encoding: bcd, prefix: bcd, pad: right, pad-char: F, sensitivity: pan}
          - {field: 3, name: Code, class: n, length: 6, encoding: ebcdic}
          - {field: 4, name: Amount, class: n, length: 12}
          - {field: 28, name: Fee, class: xn, length: 9}
          - {field: 41, name: Terminal, class: ans, length: 8}
          - {field: 43, name: Name 1047, class: ans, length: LL, max: 40, encoding: ebcdic1047, prefix: ebcdic}
          - {field: 44, name: Name 037, class: ans, length: LL, max: 40, encoding: ebcdic, prefix: binary}
          - {field: 52, name: PIN, class: b, length: 8, sensitivity: pin}
          - {field: 54, name: Binary counted in nibbles, class: b, length: LL, max: 40, counts: nibbles}
          - {field: 60, name: Hex, class: b, length: LLL, max: 100, encoding: hex, counts: bytes}
          - {field: 70, name: Secondary, class: n, length: 3, encoding: bcd}
          - {field: 130, name: Tertiary, class: ans, length: LLL, max: 999}
        """

    func dialect() throws -> Dialect { try Dialect.load(yaml: Self.spec, file: "encodings.yaml") }

    @Test func everyEncodingWritesTheExpectedBytes() throws {
        let dialect = try dialect()
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(2, "476173900101011")  // 15 digits: right-padded with F
        message.set(3, "001000")
        message.set(4, "150")  // fixed n: padded on the left with zeros
        message.set(28, "D00000100")
        message.set(41, "T1")  // fixed ans: padded on the right with spaces
        message.set(43, "[^]")  // the characters where 037 and 1047 differ
        message.set(44, "[^]")
        message.set(52, bytes: [1, 2, 3, 4, 5, 6, 7, 8])
        message.set(54, bytes: [0xCA, 0xFE])
        message.set(60, bytes: [0xAB])
        message.set(70, "301")
        message.set(130, "tertiary")
        let frame = try message.encoded(as: dialect)
        // MTI in EBCDIC, then the primary bitmap: bits 1-4, 28, 41, 43, 44, 52, 54, 60.
        #expect(Array(frame.prefix(12)) == [0xF0, 0xF2, 0xF0, 0xF0, 0xF0, 0x00, 0x00, 0x10, 0x00, 0xB0, 0x14, 0x10])
        // Secondary: bits 65 (tertiary bitmap) and 70; tertiary: bit 130.
        #expect(Array(frame[12..<20]) == [0x84, 0, 0, 0, 0, 0, 0, 0])
        let decoded = try ISO8583Message(decoding: frame, dialect: dialect)
        #expect(Array(decoded.wireBytes(2)!) == [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x1F])
        #expect(Array(decoded.wireBytes(3)!) == [0xF0, 0xF0, 0xF1, 0xF0, 0xF0, 0xF0])
        #expect(decoded.string(4) == "000000000150")
        #expect(decoded.string(41) == "T1      ")
        #expect(Array(decoded.wireBytes(43)!) == [0xAD, 0x5F, 0xBD])  // code page 1047
        #expect(Array(decoded.wireBytes(44)!) == [0xBA, 0xB0, 0xBB])  // code page 037
        #expect(decoded.string(43) == "[^]" && decoded.string(44) == "[^]")
        #expect(decoded.string(54) == "CAFE")
        #expect(Array(decoded.wireBytes(60)!) == Array("AB".utf8))
        #expect(decoded.string(70) == "301" && Array(decoded.wireBytes(70)!) == [0x03, 0x01])
        #expect(decoded.string(130) == "tertiary")
        #expect(decoded.fieldNumbers == [2, 3, 4, 28, 41, 43, 44, 52, 54, 60, 70, 130])
        // Length prefixes: 43's in EBCDIC, 44's one binary byte, 54's counting nibbles, 60's counting bytes
        let bytes43 = frame.firstRange(of: [0xF0, 0xF3, 0xAD])
        #expect(bytes43 != nil)
        #expect(frame.firstRange(of: [0x03, 0xBA, 0xB0, 0xBB]) != nil)
        #expect(frame.firstRange(of: Array("04".utf8) + [0xCA, 0xFE]) != nil)
        #expect(frame.firstRange(of: Array("002AB".utf8)) != nil)
        #expect(try decoded.encoded(as: dialect) == frame)
    }

    @Test(arguments: [
        (4, "12A", ISO8583Error.Code.invalidCharacter),
        (4, "1234567890123", .wrongLength),
        (28, "X00000100", .invalidCharacter),
        (2, "41111111111111111111", .lengthOverMaximum),
        (41, "caf\u{E9}", .invalidCharacter),
        (130, "ok", .undefinedField),
    ] as [(Int, String, ISO8583Error.Code)])
    func encoderChecksBeforeWriting(field: Int, value: String, code: ISO8583Error.Code) throws {
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(field, value)
        let dialect = field == 130 ? try Dialect.shipped("iso87ascii").withoutTertiary() : try dialect()
        expectISO8583Error(code, field: field, offset: nil) {
            try message.encoded(as: dialect)
        }
    }

    @Test func binaryFixedFieldIsNotPadded() throws {
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(52, bytes: [1, 2, 3])
        expectISO8583Error(.wrongLength, field: 52, offset: nil) {
            try message.encoded(as: try dialect())
        }
    }

    @Test func encoderErrorsDoNotQuoteThePAN() throws {
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(2, "4761739001010119X")
        do {
            _ = try message.encoded(as: try dialect())
            Issue.record("encoded")
        } catch {
            #expect(!"\(error)".contains("4761739001010119"))
            #expect(!"\(error)".contains("'X'"))
        }
    }

    @Test func mtiHelpers() {
        let mti = MTI("0200")!
        #expect(mti.response == MTI("0210"))
        #expect(MTI("0421")!.response == MTI("0430"))
        #expect(mti.messageClass == 2 && mti.function == 0 && mti.expectsResponse)
        #expect(MTI("02A0") == nil && MTI("200") == nil)
    }

    @Test func maskingRules() {
        #expect(Sensitivity.pan.mask("4761739001010119") == "476173******0119")
        #expect(Sensitivity.pan.mask("123456789012") == "************")
        #expect(Sensitivity.track.mask("4761739001010119=2712") == String(repeating: "*", count: 21))
        #expect(Sensitivity.none.mask("TERM0001") == "TERM0001")
    }
}

extension Dialect {
    /// The same dialect without a tertiary bitmap: fields over 128 cannot be sent.
    func withoutTertiary() -> Dialect {
        Dialect(name: name, summary: summary, mtiEncoding: mtiEncoding, bitmapEncoding: bitmapEncoding,
                tertiaryBitmap: false, fields: fields.compactMap { $0 }.filter { $0.number <= 128 })
    }
}
