@testable import ISO8583
import PaymentModel
import Testing

/// BCD values are unpacked four bytes at a time: every length, both pads, the track separator in
/// every position, and a text longer than the stack scratch read the same as character by character.
struct ValueReaderBCDTests {
    /// Reads a value the slow way: one nibble at a time through `forEach`.
    static func nibbleByNibble(_ message: ISO8583Message, _ field: Int) -> String {
        let slot = message.slots[message.slotIndex(field)!]
        var bytes: [UInt8] = []
        message.forEachLogicalByte(slot) { bytes.append($0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// iso87binary pads an odd length on the left, iso87bcd (as jPOS) on the right.
    @Test(arguments: ["iso87binary", "iso87bcd"])
    func everyTrackLengthAndSeparatorPosition(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        let digits = Array("4761739001010119271220111438044000")
        for length in 1...37 {
            for separator in [nil] + Array(0..<length) {
                var characters = (0..<length).map { digits[$0 % digits.count] }
                if let separator { characters[separator] = "=" }
                let value = String(characters)
                var message = ISO8583Message(mti: MTI("0200")!)
                message.set(35, value)
                let decoded = try ISO8583Message(decoding: try message.encoded(as: dialect), dialect: dialect)
                #expect(decoded.string(35) == value, "\(dialectName) length \(length) separator \(String(describing: separator))")
                #expect(Self.nibbleByNibble(decoded, 35) == value)
            }
        }
    }

    @Test(arguments: ["iso87binary", "iso87bcd"])
    func panOfEveryLengthReachesTheCanonicalMessage(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        let mapping = try ISO8583Mapping.shipped(for: dialectName)
        for length in 12...19 {
            let pan = String("4761739001010119876".prefix(length))
            var message = ISO8583Message(mti: MTI("0200")!)
            message.set(2, pan)
            message.set(11, "000123")
            let decoded = try ISO8583Message(decoding: try message.encoded(as: dialect), dialect: dialect)
            let payment = try mapping.canonical(from: decoded, dialect: dialect)
            #expect(payment.pan?.revealed == pan)
            #expect(payment.stan == "000123")
        }
    }

    /// A value whose text needs more than the stack scratch (binary, as hexadecimal) is read from the heap.
    @Test func unmappedBinaryLongerThanTheStackScratch() throws {
        let dialect = try Dialect.shipped("iso87ascii")
        let mapping = try ISO8583Mapping.shipped(for: "iso87ascii")
        let icc: [UInt8] = [0x9F, 0x10, 0x81, 0xC8] + (0..<200).map { UInt8($0) }
        var message = ISO8583Message(mti: MTI("0100")!)
        message.set(11, "000001")
        message.set(55, bytes: icc)
        let decoded = try ISO8583Message(decoding: try message.encoded(as: dialect), dialect: dialect)
        #expect(2 * icc.count > ISO8583Message.stackScratchCount)
        let hex = icc.map { byte in String("0123456789ABCDEF"[byte >> 4]) + String("0123456789ABCDEF"[byte & 0x0F]) }.joined()
        #expect(decoded.string(55) == hex)
        let payment = try mapping.canonical(from: decoded, dialect: dialect)
        #expect(payment.emv?.revealedSlice.elementsEqual(icc) == true)
    }
}

private extension String {
    subscript(nibble: UInt8) -> Character { self[index(startIndex, offsetBy: Int(nibble))] }
}
