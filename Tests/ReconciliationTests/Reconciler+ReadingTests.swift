import SpecFiles
import Foundation
import Reconciliation
import Testing

/// The file is streamed in chunks; line breaks, quoting and fixed-width records are read alike.
struct ReconcilerReadingTests {
    static func read(_ contents: String, expected: [ExpectedItem], layout: ClearingLayout? = nil, chunkSize: Int = 64 * 1024) throws
        -> ReconciliationReport {
        let path = try Fixture.temporaryFile(contents)
        defer { Fixture.remove(path) }
        var reconciler = Reconciler(layout: try layout ?? Fixture.simIssuer(), businessDate: Fixture.date, expected: expected)
        try reconciler.read(file: path, chunkSize: chunkSize)
        return reconciler.report()
    }

    @Test(arguments: ["\n", "\r\n"])
    func lineBreaks(_ lineBreak: String) throws {
        let lines = [Fixture.header, Fixture.row(1), Fixture.row(2), "", Fixture.row(3)]
        let report = try Self.read(lines.joined(separator: lineBreak) + lineBreak, expected: (1...3).map { Fixture.item($0) })
        #expect(report.isReconciled && report.rowsRead == 3)
    }

    @Test func lastLineWithoutBreakCounts() throws {
        let report = try Self.read([Fixture.header, Fixture.row(1), Fixture.row(2)].joined(separator: "\r\n"), expected: [Fixture.item(1), Fixture.item(2)])
        #expect(report.isReconciled && report.rowsRead == 2)
    }

    @Test func byteOrderMarkBeforeTheHeader() throws {
        let report = try Self.read("\u{FEFF}" + Fixture.header + "\n" + Fixture.row(1) + "\n", expected: [Fixture.item(1)])
        #expect(report.isReconciled)
    }

    /// Every chunk size cuts lines somewhere else, including inside a CRLF pair and inside a line
    /// longer than the chunk (the buffer grows).
    @Test(arguments: [1, 7, 64, 100, 4096])
    func linesSplitAcrossChunks(chunkSize: Int) throws {
        let numbers = Array(1...60)
        let text = ([Fixture.header] + numbers.map { Fixture.row($0) }).joined(separator: "\r\n")
        let report = try Self.read(text, expected: numbers.map { Fixture.item($0) }, chunkSize: chunkSize)
        #expect(report.nonZero == [.matched: 60])
        #expect(report.rowsRead == 60)
    }

    /// A file larger than the default 64 KiB chunk, with one exception near each chunk boundary
    /// and one at the very end, so line numbers across chunks are checked too.
    @Test func fileLargerThanTheChunk() throws {
        let numbers = Array(1...3000)
        var rows = numbers.map { Fixture.row($0) }
        rows[1499] = Fixture.row(1500, amount: "1")
        rows[2999] = Fixture.row(3000, amount: "2")
        let text = ([Fixture.header] + rows).joined(separator: "\n") + "\n"
        #expect(text.utf8.count > 3 * 64 * 1024)
        let report = try Self.read(text, expected: numbers.map { Fixture.item($0) })
        #expect(report.nonZero == [.matched: 2998, .amountDifference: 2])
        #expect(report.items.map(\.hostLine) == [1501, 3001])
        #expect(report.items.map(\.hostAmount) == [1, 2])
    }

    @Test func quotedFields() throws {
        var item = Fixture.item(1)
        item.terminal = "T\"1,2"
        let lines = [
            Fixture.header,
            #""2025-03-14","approval","000000000001",000001,"T""1,2",A00001,"1250" ,840,"476173******0119""#,
            #"2025-03-14,approval,"000000000002",000002,TERM0002,,1250,"840","""#,
        ]
        let report = try Self.read(lines.joined(separator: "\n"), expected: [item, Fixture.item(2)])
        #expect(report.isReconciled && report.rowsRead == 2)
    }

    /// Columns are found by header name: extra columns (the simulator adds message and
    /// processing_code) and another order change nothing.
    @Test func headerNamesFindTheColumns() throws {
        let lines = [
            "currency,amount,record,business_date,terminal,rrn,stan,approval_code,masked_pan,message,processing_code",
            "840,1250,approval,2025-03-14,TERM0001,000000000001,000001,A00001,476173******0119,0200,000000",
            "840,1250,reversal,2025-03-14,TERM0002,000000000002,000002,A00002,476173******0119,0420,000000",
        ]
        let report = try Self.read(lines.joined(separator: "\n") + "\n", expected: [Fixture.item(1), Fixture.item(2, .reversed)])
        #expect(report.isReconciled && report.rowsRead == 2)
    }

    @Test func otherDelimiterAndNumberedColumns() throws {
        let layout = try ClearingLayout.load(
            yaml: "layout: t\nformat: csv\ndelimiter: ';'\nkeys: [rrn]\ncolumns: {record: 2, rrn: 1, amount: {column: 3, format: decimal}, currency: 4}\n",
            file: "t.yaml")
        let report = try Self.read("000000000001;approval;12.5;USD\n000000000002;approval;100;JPY\n",
                                   expected: [Fixture.item(1), Fixture.item(2, amount: 100, currency: "392")], layout: layout)
        #expect(report.isReconciled)
    }

    /// A record of the example-fixed layout: bytes 1-8 date, 9 type, 10-21 rrn, 22-27 stan,
    /// 28-35 terminal, 36-41 approval code, 42-54 amount, 55-57 currency.
    static func fixed(_ number: Int, _ type: String = "A", amount: String = "12.50", currency: String = "USD", date: String = "20250314") -> String {
        let rrn = Fixture.rrn(number)
        let terminal = Fixture.terminal(number)
        let amountField = String(repeating: " ", count: 13 - amount.count) + amount
        return date + type + rrn + String(rrn.suffix(6)) + terminal.padding(toLength: 8, withPad: " ", startingAt: 0) + "A" + rrn.suffix(5)
            + amountField + currency
    }

    @Test func fixedWidthLayout() throws {
        let layout = try ClearingLayout.shipped("example-fixed")
        let lines = [
            "SETTLEMENT FILE  ACQUIRER 0042", "GENERATED 2025-03-15 02:00",
            Self.fixed(1), Self.fixed(2), Self.fixed(2, "X"), Self.fixed(3, amount: "12.5"), Self.fixed(4, amount: "9.99"),
            Self.fixed(5, date: "20250313"),
        ]
        #expect(Self.fixed(1).utf8.count == 57)
        let expected = [Fixture.item(1), Fixture.item(2, .reversed), Fixture.item(3), Fixture.item(4), Fixture.item(6)]
        let report = try Self.read(lines.joined(separator: "\r\n") + "\r\n", expected: expected, layout: layout)
        #expect(report.nonZero == [.matched: 3, .amountDifference: 1, .journalOnly: 1])
        #expect(report.rowsRead == 6 && report.rowsOfOtherDates == 1)
        #expect(report.items.first { $0.category == .amountDifference }?.hostLine == 7)
    }

    @Test func fixedWidthLinesCutShortInsideTheLastField() throws {
        let layout = try ClearingLayout.load(
            yaml: "layout: t\nformat: fixed\nkeys: [terminal]\ncolumns:\n  record: {start: 1, length: 1, approval: A, reversal: R}\n  amount: {start: 2, length: 6}\n  currency: {start: 8, length: 3}\n  terminal: {start: 11, length: 10}\n",
            file: "t.yaml")
        let report = try Self.read("A  1250840TERM0001\nA  1250840TERM0002  \n", expected: [Fixture.item(1), Fixture.item(2)], layout: layout)
        #expect(report.isReconciled)
    }

    /// A layout changed after loading so that a named column has no header to resolve it.
    @Test func namedColumnWithoutHeader() throws {
        var layout = try Fixture.simIssuer()
        layout.header = false
        let error = #expect(throws: ReconciliationError.self) { try Self.read(Fixture.row(1) + "\n", expected: [], layout: layout) }
        #expect(error?.line == 1 && error?.message.contains("is no column of this file") == true)
    }

    @Test func missingFile() throws {
        var reconciler = Reconciler(layout: try Fixture.simIssuer(), businessDate: nil, expected: [])
        let error = #expect(throws: ReconciliationError.self) { try reconciler.read(file: "/nonexistent/host.csv") }
        #expect(error?.description.hasPrefix("/nonexistent/host.csv:0:0: error: cannot open the file") == true)
    }
}
