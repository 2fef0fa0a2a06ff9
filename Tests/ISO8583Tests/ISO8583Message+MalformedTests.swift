import ISO8583
import TestSupport
import Testing

/// Malformed frames give a precise error (code, field, byte offset) and never a crash.
struct MalformedInputTests {
    /// The reference 0200 that pyiso8583, moov-io/iso8583 and jPOS all encode identically.
    static let binaryFrame = Hex.decode(
        "30323030723C448128E0920031363437363137333930303130313031313930303030303030303030303030313030303031313230313533303435313233343536313533303435313132303237313235343131303531303030363132333435363337343736313733393030313031303131393D32373132323031313134333830343430303030303433323031353132333435365445524D303030314D45524348414E543030303030303141434D452053544F524520343220202020202020202020535052494E474649454C442020494C55533834301A2B3C4D5E6F70813039329F260811223344556677889F2701809F10120110A00003220000000000000000000000FF9F3704A1B2C3D49F36020042950500000800009A032611209C01009F02060000000100005F2A020840820239009F1A0208409F3303E0F0C8")!
    static let bcdFrame = Hex.decode(
        "0200723C448128E09200164761739001010119000000000000010000112015304512345615304511202712541100510006123456374761739001010119D2712201114380440000003433323031353132333435365445524D303030314D45524348414E543030303030303141434D452053544F524520343220202020202020202020535052494E474649454C442020494C55533834301A2B3C4D5E6F708100929F260811223344556677889F2701809F10120110A00003220000000000000000000000FF9F3704A1B2C3D49F36020042950500000800009A032611209C01009F02060000000100005F2A020840820239009F1A0208409F3303E0F0C8")!
    static let pan = "4761739001010119"

    /// Decodes and returns the error, failing the test when decoding succeeds.
    func decodeError(_ frame: [UInt8], _ dialectName: String = "iso87binary") throws -> ISO8583Error? {
        let dialect = try Dialect.shipped(dialectName)
        do {
            _ = try ISO8583Message(decoding: frame, dialect: dialect)
            Issue.record("decoding succeeded but should have failed")
            return nil
        } catch {
            #expect(!error.description.contains(MalformedInputTests.pan), "error text leaks the PAN: \(error)")
            return error
        }
    }

    @Test func referenceFramesDecode() throws {
        let binary = try ISO8583Message(decoding: Self.binaryFrame, dialect: try Dialect.shipped("iso87binary"))
        let bcd = try ISO8583Message(decoding: Self.bcdFrame, dialect: try Dialect.shipped("iso87bcd"))
        #expect(binary.fieldCount == 20)
        for field in binary.fieldNumbers { #expect(binary.string(field) == bcd.string(field), "DE \(field)") }
        #expect(bcd.string(35) == "4761739001010119=27122011143804400000")
        #expect(bcd.integer(4) == 10000)
    }

    @Test func truncatedFrame() throws {
        let error = try decodeError(Array(Self.binaryFrame.dropLast(5)))
        #expect(error?.code == .truncated)
        #expect(error?.field == 55)
    }

    @Test func bitmapAnnouncingAbsentField() throws {
        var frame = Self.binaryFrame
        frame[11] |= 0x01  // bit 64: a MAC the frame does not carry
        let error = try decodeError(frame)
        #expect(error?.code == .truncated)
        #expect(error?.field == 64)
        #expect(error?.offset == frame.count)
    }

    @Test func lengthOverMaximum() throws {
        var frame = Self.binaryFrame
        frame[12] = UInt8(ascii: "2")
        frame[13] = UInt8(ascii: "5")  // PAN length 25 > 19
        let error = try decodeError(frame)
        #expect(error?.code == .lengthOverMaximum)
        #expect(error?.field == 2)
        #expect(error?.offset == 12)
        #expect(error?.description.contains("maximum 19") == true)
    }

    @Test func nonDigitInNumericField() throws {
        var frame = Self.binaryFrame
        frame[31] = UInt8(ascii: "A")  // second digit of DE 3
        let error = try decodeError(frame)
        #expect(error?.code == .invalidCharacter)
        #expect(error?.field == 3)
        #expect(error?.offset == 31)
        #expect(error?.description == "ISO8583Error.invalidCharacter at byte 31: DE 3 (Processing Code): expected n (digits 0-9), found 'A' (0x41)")
    }

    @Test func nonDigitInPANIsReportedWithoutQuotingIt() throws {
        var frame = Self.binaryFrame
        frame[20] = UInt8(ascii: "X")
        let error = try decodeError(frame)
        #expect(error?.code == .invalidCharacter)
        #expect(error?.offset == 20)
        #expect(error?.description.contains("X") == false)
    }

    @Test func badBCDNibble() throws {
        var frame = Self.bcdFrame
        frame[20] = 0x0A  // DE 3 is BCD at bytes 19-21
        let error = try decodeError(frame, "iso87bcd")
        #expect(error?.code == .invalidBCD)
        #expect(error?.field == 3)
        #expect(error?.offset == 20)
    }

    @Test func tlvLengthOverrunningItsField() throws {
        var frame = Self.binaryFrame
        let start = Self.binaryFrame.firstRange(of: [0x9F, 0x26, 0x08])!.lowerBound
        frame[start + 2] = 0x7F
        let error = try decodeError(frame)
        #expect(error?.code == .invalidTLV)
        #expect(error?.field == 55)
        #expect(error?.offset == start + 3)
    }

    @Test func trailingBytes() throws {
        let error = try decodeError(Self.binaryFrame + [0x00, 0x01])
        #expect(error?.code == .trailingBytes)
        #expect(error?.offset == Self.binaryFrame.count)
    }

    @Test func invalidMTI() throws {
        var frame = Self.binaryFrame
        frame[2] = UInt8(ascii: "X")
        let error = try decodeError(frame)
        #expect(error?.code == .invalidMTI)
        #expect(error?.offset == 0)
    }

    @Test func invalidHexBitmap() throws {
        var frame = Array("0200G000000000000000".utf8)
        frame += Array("000001".utf8)
        let error = try decodeError(frame, "iso87ascii")
        #expect(error?.code == .invalidHex)
        #expect(error?.offset == 4)
    }

    @Test func bitmapAnnouncingUndefinedField() throws {
        let dialect = try Dialect.load(yaml: """
            dialect: tiny
            fields:
              - {field: 11, name: STAN, class: n, length: 6}
            """, file: "tiny.yaml")
        var frame = Array("0800".utf8) + [0x60, 0, 0, 0, 0, 0, 0, 0]  // bits 2 and 3
        frame += Array("000001".utf8)
        expectISO8583Error(.undefinedField, field: 2, offset: 12) {
            try ISO8583Message(decoding: frame, dialect: dialect)
        }
    }

    /// Thousands of random mutations of valid frames: each either decodes (and then re-encodes to the
    /// same bytes) or throws an ISO8583Error inside the frame that does not quote the PAN or track.
    @Test(arguments: Dialect.shippedNames)
    func randomMutationsNeverCrash(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        var generator = MessageGenerator(dialect: dialect, seed: 0xF022)
        var random = SeededRandom(seed: 0xBAD_C0DE)
        var accepted = 0, refused = 0
        for _ in 0..<250 {
            let (message, expected) = generator.message()
            let frame = try message.encoded(as: dialect)
            for _ in 0..<20 {
                let mutated = mutate(frame, &random)
                do {
                    let decoded = try ISO8583Message(decoding: mutated, dialect: dialect)
                    #expect(try decoded.encoded(as: dialect) == mutated)
                    accepted += 1
                } catch {
                    refused += 1
                    if let offset = error.offset { #expect(offset >= 0 && offset <= mutated.count) }
                    for field in [2, 35] {
                        if let secret = expected[field], secret.count >= 12 {
                            #expect(!error.description.contains(secret), "error text quotes DE \(field)")
                        }
                    }
                }
            }
        }
        #expect(accepted + refused == 5000)
        #expect(refused > 1000)
    }

    func mutate(_ frame: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = frame
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] = UInt8.random(in: 0...255, using: &random)
        case 1:
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 2:
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
        case 3:
            bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
        case 4:
            bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random))
        default:
            // Flip a bitmap bit, announcing a field that is absent or hiding one that is there.
            let index = Int.random(in: 4..<min(bytes.count, 20), using: &random)
            bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        }
        return bytes
    }
}
