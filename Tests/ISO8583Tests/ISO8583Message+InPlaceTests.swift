import ISO8583
import Testing

/// Changes made to a message's frame in place: what the switch rewrites and what it may keep.
@Suite struct ISO8583MessageInPlaceTests {
    static func purchase() -> ISO8583Message {
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(2, "4761739001010119")
        message.set(3, "000000")
        message.set(4, "000000012550")
        message.set(11, "000042")
        message.set(35, "4761739001010119=2512101123400001")
        message.set(41, "TERM0001")
        message.set(45, "B4761739001010119^CARDHOLDER/TEST^25121011234")
        message.set(52, bytes: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF])
        return message
    }

    @Test(arguments: ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic", "iso93ascii"])
    func authenticationDataIsZeroedAndTheRestKept(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        let received = try ISO8583Message(decoding: try Self.purchase().encoded(as: dialect), dialect: dialect)
        let kept = received.withoutAuthenticationData(dialect: dialect)
        let frame = try #require(kept.receivedFrame, "changed in place: still the received frame")
        #expect(frame.count == (try Self.purchase().encoded(as: dialect)).count)
        let reread = try ISO8583Message(decoding: frame, dialect: dialect)
        #expect(reread.string(35)?.allSatisfy { $0 == "0" } == true && reread.string(35)?.count == 33)
        #expect(reread.string(45)?.allSatisfy { $0 == "0" } == true)
        #expect(reread.bytes(52) == [UInt8](repeating: 0, count: 8))
        for field in [2, 3, 4, 11, 41] { #expect(reread.string(field) == received.string(field), "DE \(field) kept") }
        #expect(!frame.contains(bytes: Array("2512101123400001".utf8)) || dialectName != "iso87ascii")
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(bytes: [UInt8]) -> Bool {
        guard bytes.count <= count else { return false }
        return (0...(count - bytes.count)).contains { Array(self[$0..<$0 + bytes.count]) == bytes }
    }
}
