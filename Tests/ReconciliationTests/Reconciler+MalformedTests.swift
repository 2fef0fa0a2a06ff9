import SpecFiles
import Reconciliation
import Testing

/// A malformed row stops the reading with file:line:column and the reason, never a crash; a long
/// value (perhaps a card number) is never quoted.
struct ReconcilerMalformedTests {
    static let good = "2025-03-14,approval,000000000001,000001,TERM0001,A00001,1250,840,476173******0119"

    /// The good row with the text from `field` (1-based) replaced.
    static func with(_ field: Int, _ value: String) -> String {
        var fields = good.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[field - 1] = value
        return fields.joined(separator: ",")
    }

    /// A broken row (line 3 of the file, after the header and a good row), the column the error
    /// must name, words it must contain, and text it must not.
    static let broken: [(String, Int, String, String?)] = [
        (with(7, "12x0"), 57, "amount '12x0' is not a whole number of minor units", nil),
        (with(7, ""), 57, "amount '' is empty", nil),
        (with(7, "-5"), 57, "is not a whole number", nil),
        (with(7, "99999999999999999999"), 57, "amount of 20 characters exceeds 9223372036854775807 minor units", "99999999999999999999"),
        (with(7, "9223372036854775808"), 57, "exceeds", nil),
        (with(2, "refund"), 12, "record 'refund' is not one of 'approval', 'reversal'", nil),
        (with(2, "4761739001010119"), 12, "record of 16 characters is not one of", "4761739001010119"),
        (with(8, "999"), 62, "currency '999' is not an ISO 4217 code", nil),
        (with(8, "usd"), 62, "currency 'usd'", nil),
        (with(1, "2025-13-01"), 1, "business-date '2025-13-01' is not a date in the form yyyy-MM-dd", nil),
        (with(1, "14/03/2025"), 1, "not a date", nil),
        ("2025-03-14,approval,000000000001", 33, "the row has 3 fields; terminal is field 5", nil),
        ("2025-03-14", 11, "the row has 1 field; rrn is field 3", nil),
        (with(5, "\"TERM0001"), 41, "field 5 opens a quote that the line does not close", nil),
        (with(5, "\"TERM\"0001"), 47, "field 5 has text after its closing quote", nil),
    ]

    @Test(arguments: broken)
    func malformedRowIsLocated(row: String, column: Int, words: String, secret: String?) throws {
        let error = #expect(throws: ReconciliationError.self) {
            try Fixture.reconcile([Self.good, row], expected: [])
        }
        #expect(error?.file == "host.csv")
        #expect(error?.line == 3)
        #expect(error?.column == column)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
        if let secret { #expect(error?.description.contains(secret) == false) }
    }

    @Test func errorDescriptionIsCompilerLike() throws {
        let path = try Fixture.temporaryFile(Fixture.header + "\n" + Self.with(7, "1.5") + "\n")
        defer { Fixture.remove(path) }
        var reconciler = Reconciler(layout: try Fixture.simIssuer(), businessDate: nil, expected: [])
        let error = #expect(throws: ReconciliationError.self) { try reconciler.read(file: path) }
        #expect(error?.description == "\(path):2:57: error: amount '1.5' is not a whole number of minor units")
    }

    @Test func headerWithoutALayoutColumn() throws {
        let error = #expect(throws: ReconciliationError.self) {
            try Fixture.reconcile(["business_date,record,rrn,stan,terminal,approval_code,amt,currency"], expected: [], header: false)
        }
        #expect(error?.line == 1 && error?.column == 1)
        #expect(error?.message == "the header has no column 'amount' (for amount)")
    }

    /// Decimal amounts: scaled by the currency's minor units, zeros past them accepted.
    @Test(arguments: [
        ("12.5", "USD", Int64(1250)), ("12", "USD", 1200), ("0.07", "840", 7), (".5", "EUR", 50), ("1.500", "USD", 150),
        ("1234", "JPY", 1234), ("1.234", "KWD", 1234), ("92233720368547758.07", "USD", Int64.max),
    ])
    func decimalAmounts(text: String, currency: String, minorUnits: Int64) throws {
        let report = try Fixture.reconcile(["000000000001,approval,\(text),\(currency)"], expected: [Fixture.item(1, amount: minorUnits, currency: currency)],
                                           layout: Self.decimal, header: false)
        #expect(report.isReconciled, "\(report.items)")
    }

    @Test(arguments: [("12.345", "USD", "more than the currency's 2 decimals"), ("1.5", "JPY", "0 decimals"), ("12.", "USD", "plain decimal"),
                      ("1.2.3", "USD", "plain decimal"), ("92233720368547758.08", "USD", "exceeds")])
    func badDecimalAmounts(text: String, currency: String, words: String) throws {
        let error = #expect(throws: ReconciliationError.self) {
            try Fixture.reconcile(["000000000001,approval,\(text),\(currency)"], expected: [], layout: Self.decimal, header: false)
        }
        #expect(error?.line == 1 && error?.column == 23)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
    }

    static let decimal = try! ClearingLayout.load(
        yaml: "layout: t\nformat: csv\nkeys: [rrn]\ncolumns: {rrn: 1, record: 2, amount: {column: 3, format: decimal}, currency: 4}\n", file: "t.yaml")
}
