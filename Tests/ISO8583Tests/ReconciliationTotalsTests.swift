import ISO8583
import Testing

/// DE 74-89 and 97: what each transaction counts as, and the totals carried in a 0520 and read back.
struct ReconciliationTotalsTests {
    @Test(arguments: [
        ("0200", "000000", ReconciliationTotals.Kind.debit), ("0200", "010000", .debit), ("0200", "200000", .credit),
        ("0200", "310000", .inquiry), ("0200", "400000", .transfer), ("0100", "000000", .authorization), ("0201", "000000", .debit),
    ])
    func transactionsCountByMTIAndProcessingCode(mti: String, processingCode: String, kind: ReconciliationTotals.Kind) {
        #expect(ReconciliationTotals.kind(mti: mti, processingCode: processingCode) == kind)
    }

    @Test(arguments: ["0400", "0800", "0210", "0220", "0500"])
    func otherMessagesCountNowhere(mti: String) {
        #expect(ReconciliationTotals.kind(mti: mti, processingCode: "000000") == nil)
    }

    @Test func totalsGoIntoA0520AndComeBack() throws {
        var totals = ReconciliationTotals()
        totals.add(.debit, amount: 12_550)
        totals.add(.debit, amount: 1_000)
        totals.addReversal(.debit, amount: 1_000)
        totals.add(.credit, amount: 500)
        totals.add(.authorization, amount: 99)
        totals.addReversal(.authorization, amount: 99)
        #expect(totals.netSettlement == 500 - 12_550)
        let fields = Dictionary(uniqueKeysWithValues: totals.fields)
        #expect(fields[74] == "0000000001" && fields[76] == "0000000002" && fields[77] == "0000000001" && fields[81] == "0000000001")
        #expect(fields[88] == "0000000000013550" && fields[89] == "0000000000001000" && fields[97] == "D0000000000012050")

        let dialect = try Dialect.shipped("iso87ascii")
        var message = ISO8583Message(mti: MTI("0520")!)
        message.set(11, "000001")
        totals.write(into: &message, dialect: dialect)
        let read = try #require(ReconciliationTotals(try ISO8583Message(decoding: try message.encoded(as: dialect), dialect: dialect)))
        #expect(read == totals)
        var other = totals
        other.addReversal(.credit, amount: 500)
        #expect(totals.differences(from: other) == [
            "DE 75 (credit reversals): 0000000000 here, 0000000001 there",
            "DE 87 (credit reversals amount): 0000000000000000 here, 0000000000000500 there",
            "DE 97 (net settlement): D0000000000012050 here, D0000000000012550 there",
        ])
        message.remove(86)
        #expect(ReconciliationTotals(message) == nil)
    }

    /// 1993's DE 82-85 are ten-digit counts: a 1520 carries the same totals in its own widths.
    @Test func a1520TakesTheWidthsOf1993() throws {
        var totals = ReconciliationTotals()
        totals.add(.debit, amount: 12_550)
        let dialect = try Dialect.shipped("iso93ascii")
        var message = ISO8583Message(mti: MTI("1520")!)
        message.set(11, "000001")
        totals.write(into: &message, dialect: dialect)
        let decoded = try ISO8583Message(decoding: try message.encoded(as: dialect), dialect: dialect)
        #expect(decoded.string(82) == "0000000000" && decoded.string(97) == "D0000000000012550")
        #expect(ReconciliationTotals(decoded) == totals)
    }
}
