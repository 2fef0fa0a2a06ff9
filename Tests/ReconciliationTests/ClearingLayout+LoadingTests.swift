import Reconciliation
import SpecFiles
import Testing

/// Layouts are validated on load; every error names file:line:column.
struct ClearingLayoutLoadingTests {
    @Test(arguments: ClearingLayout.shippedNames)
    func shippedLayoutsLoad(name: String) throws {
        let layout = try ClearingLayout.shipped(name)
        #expect(layout.name == name)
        #expect(layout.keys == [.rrn, .terminal])
        #expect(!layout.summary.isEmpty)
    }

    @Test func simIssuerReadsTheSimulatorsCSV() throws {
        let layout = try ClearingLayout.shipped("sim-issuer")
        #expect(layout.format == .csv && layout.header && layout.delimiter == UInt8(ascii: ","))
        #expect(layout.businessDate == .named("business_date") && layout.dateFormat == .dashed)
        #expect(layout.record == .named("record") && layout.approvalValues == ["approval"] && layout.reversalValues == ["reversal"])
        #expect(layout.keyColumns[.rrn] == .named("rrn") && layout.keyColumns[.terminal] == .named("terminal"))
        #expect(layout.amount == .named("amount") && layout.amountFormat == .minor)
        #expect(layout.currency == .named("currency") && layout.maskedPAN == .named("masked_pan"))
    }

    @Test func exampleFixedIsFixedWidth() throws {
        let layout = try ClearingLayout.shipped("example-fixed")
        #expect(layout.format == .fixed && layout.skipLines == 2 && !layout.header)
        #expect(layout.businessDate == .span(start: 1, length: 8) && layout.dateFormat == .compact)
        #expect(layout.reversalValues == ["R", "X"])
        #expect(layout.amount == .span(start: 42, length: 13) && layout.amountFormat == .decimal)
    }

    @Test func unknownShippedName() {
        #expect(throws: SpecError.self) { try ClearingLayout.shipped("acquirer-x") }
    }

    @Test func numberedColumnsNeedNoHeader() throws {
        let layout = try ClearingLayout.load(
            yaml: "layout: t\nformat: csv\ndelimiter: ';'\nkeys: [stan]\ncolumns: {record: 1, stan: 2, amount: {column: 3, format: decimal}, currency: 4}\n",
            file: "t.yaml")
        #expect(layout.delimiter == UInt8(ascii: ";") && layout.keyColumns[.stan] == .numbered(2) && layout.businessDate == nil)
    }

    static let csvHeader = "layout: t\nformat: csv\nheader: true\nkeys: [rrn]\n"
    static let csvColumns = "columns:\n  record: record\n  rrn: rrn\n  amount: amount\n  currency: currency\n"

    /// Each broken layout, the line and column the error must point at, and words it must contain.
    static let brokenLayouts: [(String, Int, Int, String)] = [
        (csvHeader + csvColumns + "colour: blue\n", 10, 1, "unknown key 'colour'"),
        (csvHeader + "columns:\n  record: record\n  rrn: rrn\n  amount: amount\n  currency: currency\n  pan: masked_pan\n", 10, 3, "unknown key 'pan'"),
        (csvHeader + "columns:\n  record: record\n  rrn: rrn\n  amount: amount\n", 6, 3, "needs 'currency'"),
        (csvHeader + "columns:\n  record: record\n  amount: amount\n  currency: currency\n", 4, 8, "key field 'rrn' has no entry"),
        ("layout: t\nformat: csv\nheader: true\nkeys: [rrn, pan]\n" + csvColumns, 4, 13, "a key field 'pan' is not one of"),
        ("layout: t\nformat: csv\nheader: true\nkeys: [rrn, rrn]\n" + csvColumns, 4, 13, "listed twice"),
        ("layout: t\nformat: csv\nheader: true\nkeys: []\n" + csvColumns, 4, 7, "at least one"),
        ("layout: t\nformat: tsv\nkeys: [rrn]\n" + csvColumns, 2, 9, "format 'tsv' is not one of"),
        ("layout: t\nformat: csv\nkeys: [rrn]\n" + csvColumns, 6, 8, "no header"),
        ("layout: t\nformat: csv\ndelimiter: ';;'\nkeys: [rrn]\ncolumns: {record: 1, rrn: 2, amount: 3, currency: 4}\n", 3, 12, "one ASCII character"),
        ("layout: t\nformat: csv\nkeys: [rrn]\ncolumns: {record: 0, rrn: 2, amount: 3, currency: 4}\n", 4, 19, "numbered from 1"),
        (csvHeader + "columns:\n  record: {column: record, approval: A, reversal: [R, A]}\n  rrn: rrn\n  amount: amount\n  currency: currency\n",
         6, 51, "both an approval and a reversal"),
        (csvHeader + "columns:\n  record: {column: record, refund: [F]}\n  rrn: rrn\n  amount: amount\n  currency: currency\n",
         6, 28, "unknown key 'refund'"),
        (csvHeader + "columns:\n  record: record\n  rrn: rrn\n  amount: {column: amount, format: cents}\n  currency: currency\n",
         8, 36, "amount format 'cents' is not one of"),
        (csvHeader + "columns:\n  business-date: {column: d, format: dd.MM.yyyy}\n" + csvColumns.dropFirst(9),
         6, 38, "date format 'dd.MM.yyyy'"),
        (csvHeader + "columns:\n  record: {approval: A}\n  rrn: rrn\n  amount: amount\n  currency: currency\n", 6, 11, "record needs 'column'"),
        ("layout: t\nformat: fixed\nkeys: [rrn]\ncolumns:\n  record: 1\n  rrn: {start: 2, length: 12}\n  amount: {start: 14, length: 9}\n  currency: {start: 23, length: 3}\n",
         5, 11, "{start: N, length: N}"),
        ("layout: t\nformat: fixed\nkeys: [rrn]\ncolumns:\n  record: {start: 1, length: 1}\n  rrn: {start: 0, length: 12}\n  amount: {start: 14, length: 9}\n  currency: {start: 23, length: 3}\n",
         6, 16, "start counts bytes from 1"),
        ("layout: t\nformat: fixed\nkeys: [rrn]\ncolumns:\n  record: {start: 1, length: 1}\n  rrn: {start: 2, length: 12, column: rrn}\n  amount: {start: 14, length: 9}\n  currency: {start: 23, length: 3}\n",
         6, 31, "unknown key 'column'"),
        ("layout: t\nformat: fixed\ndelimiter: ','\nkeys: [rrn]\n", 3, 12, "csv layouts only"),
        ("layout: t\nformat: csv\nskip-lines: -1\n", 3, 13, "must not be negative"),
        ("format: csv\nkeys: [rrn]\n", 1, 1, "needs 'layout'"),
        ("layout: t\nformat: csv\nkeys: [rrn\n", 4, 1, "YAML"),
    ]

    @Test(arguments: brokenLayouts)
    func brokenLayoutIsLocated(yaml: String, line: Int, column: Int, words: String) {
        #expect {
            try ClearingLayout.load(yaml: yaml, file: "broken.yaml")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            let matches = error.file == "broken.yaml" && error.line == line && error.column == column
                && error.message.contains(words)
            if !matches { Issue.record("got \(error)") }
            return matches
        }
    }
}
