import ISO8583
import PaymentModel
import Testing

/// Between ISO 8583 editions a data element number does not keep its meaning: what crosses, what
/// is refused, what an answer echoes, and how a response code is read in a reversal's answer.
@Suite struct MappingEditionTests {
    static let iso93 = try! Dialect.shipped("iso93ascii")
    static let iso87 = try! Dialect.shipped("iso87ascii")

    static func request93(_ extra: [(Int, String)]) throws -> ISO8583Message {
        try ISO8583Message(mti: MTI("1100")!, texts: [
            (2, PAN.testCard(range: "476173", account: "900101011")), (3, "000000"), (4, "000000001000"), (7, "1120153045"),
            (11, "000001"), (12, "251120153045"), (41, "TERM0001"), (49, "840"),
        ] + extra, dialect: iso93)
    }

    @Test func aResponseCodeIsReadInTheRangeOfItsMessageClass() throws {
        let table = ResultCodeTable.shipped
        #expect(table.fromISO87("00") == .approved)
        #expect(table.fromISO87("00", messageClass: 4) == .reversalAccepted)
        #expect(table.fromISO87("00", messageClass: 8) == ResultCode(8000))
        #expect(table.fromISO93("400", messageClass: 4) == .reversalAccepted)
        #expect(table.fromISO93("000", messageClass: 4) == .approved, "no 4xxx row carries 000: the first row")
        #expect(table.fromISO87("05", messageClass: 4) == ResultCode(1000))
        #expect(table.fromISO87("25", messageClass: 4) == ResultCode(4080))
    }

    @Test func anUnmappedElementIsRefusedAcrossEditionsUnlessDroppingIsAllowed() throws {
        let mapping93 = try ISO8583Mapping.shipped(for: "iso93ascii"), mapping87 = try ISO8583Mapping.shipped(for: "iso87ascii")
        // 1993 DE 24 is the function code, 1987 DE 24 the NII; DE 52 (the PIN block) means the same in both.
        let payment = try mapping93.canonical(from: try Self.request93([(24, "100"), (52, "1A2B3C4D5E6F7081")]), dialect: Self.iso93)
        #expect(payment.source?.edition == 1)
        do {
            _ = try mapping87.message(from: payment, dialect: Self.iso87)
            Issue.record("a 1993 DE 24 went into 1987 by number")
        } catch {
            #expect(error.field == 24)
            #expect(error.reason.contains("DE 24 of ISO 8583:1993"))
            #expect(error.reason.contains("unmapped-elements"))
        }
        let dropped = try mapping87.message(from: payment, dialect: Self.iso87, mayDrop: [.unmappedElements])
        #expect(!dropped.contains(24))
        #expect(dropped.string(52) == "1A2B3C4D5E6F7081", "the PIN block crosses editions")
        #expect(dropped.mti.description == "0100")
        // Within one edition the element is carried by number, as before.
        let sameEdition = try ISO8583Mapping.shipped(for: "iso93ascii").message(from: payment, dialect: Self.iso93)
        #expect(sameEdition.string(24) == "100")
    }

    @Test func aMappingFileCannotMapAFieldToUnmappedElements() {
        do {
            _ = try ISO8583Mapping.load(yaml: """
                mapping: broken
                version: 0
                dialects: [iso87ascii]
                result-codes: iso87
                fields:
                  - {field: 24, to: unmapped-elements}
                """, file: "broken.yaml")
            Issue.record("a field mapped to unmapped-elements")
        } catch {
            #expect("\(error)" == "broken.yaml:6:21: error: unmapped-elements names what no field maps; it belongs in a channel's may-drop")
        }
    }

    @Test func anAnswerEchoesTheFieldsTheHostEchoedAsTheOriginatorSentThem() throws {
        let mapping93 = try ISO8583Mapping.shipped(for: "iso93ascii"), mapping87 = try ISO8583Mapping.shipped(for: "iso87ascii")
        let request = try Self.request93([(15, "251120"), (43, "ACME\\\\SPRINGFIELD\\US")])
        // The 1987 host's answer: it echoes DE 2, 4, 7, 11, 12 and 13, 15 and 41, not DE 3 or 49's amount
        // (it has no DE 4), and adds DE 38 and 39.
        let answer = try ISO8583Message(mti: MTI("0110")!, texts: [
            (2, PAN.testCard(range: "476173", account: "900101011")), (7, "1120153045"), (11, "000001"), (12, "153045"),
            (13, "1120"), (15, "1120"), (38, "A1B2C3"), (39, "00"), (41, "TERM0001"),
        ], dialect: Self.iso87)
        let canonical = try mapping87.canonical(from: answer, dialect: Self.iso87)
        let echoed = mapping93.echoedFields(of: request, answer: canonical)
        #expect(echoed == [2, 7, 11, 12, 15, 41])
    }
}
