import Foundation
import PaymentModel
import Reconciliation
import Testing

/// The table, CSV and JSON forms carry the categories, counts and exceptions.
struct ReconciliationReportFormattingTests {
    /// One matched, one of each exception but reversal-pending.
    static func report() throws -> ReconciliationReport {
        try Fixture.reconcile(
            [Fixture.row(1), Fixture.row(2, amount: "1"), Fixture.row(3, currency: "978"), Fixture.row(5), Fixture.row(5),
             Fixture.row(6), Fixture.row(6, "reversal"), Fixture.row(8, date: "2025-03-13"), Fixture.row(9, amount: "77")],
            expected: [Fixture.item(1), Fixture.item(2), Fixture.item(3), Fixture.item(4), Fixture.item(5), Fixture.item(6),
                       Fixture.item(7, .notApproved)])
    }

    @Test func countsAndItems() throws {
        let report = try Self.report()
        #expect(report.nonZero == [.matched: 2, .amountDifference: 1, .currencyDifference: 1, .journalOnly: 1, .duplicate: 1,
                                   .reversalDifference: 1, .hostOnly: 1])
        #expect(report.counts.count == ReconciliationReport.Category.allCases.count)
        #expect(report.rowsRead == 9 && report.rowsOfOtherDates == 1)
        #expect(!report.isReconciled)
        // Journal order first, then host-only keys.
        #expect(report.items.map(\.reference) == ["J2", "J3", "J4", "J5", "J6", nil])
    }

    @Test func table() throws {
        let table = try Self.report().table()
        for category in ReconciliationReport.Category.allCases { #expect(table.contains(category.rawValue)) }
        #expect(table.contains("NOT reconciled"))
        #expect(table.contains("rows read: 9 (1 of other dates skipped)"))
        let lines = table.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("matched") && $0.hasSuffix(" 2") })
        #expect(lines.contains { $0.hasPrefix("reversal-pending") && $0.hasSuffix(" 0") })
        #expect(table.contains("exceptions: 6"))
        #expect(table.contains("12.50 USD") && table.contains("0.01 USD") && table.contains("12.50 EUR"))
        #expect(table.contains("rrn=000000000009 terminal=TERM0009"))
    }

    @Test func cleanTable() throws {
        let table = try Fixture.reconcile([Fixture.row(1)], expected: [Fixture.item(1)]).table()
        #expect(table.contains("\nreconciled\n") && !table.contains("exceptions"))
    }

    @Test func csv() throws {
        let csv = try Self.report().csv()
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "category,key,reference,host_line,journal_amount,journal_currency,host_amount,host_currency,detail")
        #expect(lines.count == 7)
        #expect(lines.contains("amount-difference,rrn=000000000002 terminal=TERM0002,J2,3,1250,840,1,840,the amounts differ"))
        #expect(lines.contains("journal-only,rrn=000000000004 terminal=TERM0004,J4,,1250,840,,,\"settled in the journal, not in the host's file\""))
        #expect(lines.last?.hasPrefix("host-only,rrn=000000000009 terminal=TERM0009,,10,,,77,840,") == true)
    }

    @Test func json() throws {
        let text = try Self.report().json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["isReconciled"] as? Bool == false)
        #expect(object["rowsRead"] as? Int == 9 && object["rowsOfOtherDates"] as? Int == 1)
        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts.count == ReconciliationReport.Category.allCases.count)
        #expect(counts["matched"] == 2 && counts["host-only"] == 1 && counts["amount-difference"] == 1 && counts["reversal-pending"] == 0)
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items.count == 6)
        #expect(items.first?["category"] as? String == "amount-difference")
        #expect(items.first?["hostLine"] as? Int == 3 && items.first?["journalAmount"] as? Int == 1250)
        // Sorted keys: one object, keys in order.
        #expect(text.hasPrefix("{\"counts\":{"))
        #expect(text.range(of: "\"isReconciled\"")!.lowerBound < text.range(of: "\"items\"")!.lowerBound)
    }

    @Test func jsonRoundTrips() throws {
        let report = try Self.report()
        let decoded = try JSONDecoder().decode(ReconciliationReport.self, from: Data(report.json().utf8))
        #expect(decoded.items == report.items && decoded.counts == report.counts && decoded.rowsRead == report.rowsRead)
    }
    /// A layout keyed by a column that holds card numbers: the reports show them masked, in
    /// every form, for host-only rows and journal items alike.
    @Test func aCardNumberInAKeyColumnIsMaskedInEveryForm() throws {
        let layout = try ClearingLayout.load(yaml: """
            layout: by-card
            format: csv
            header: true
            keys: [rrn]
            columns:
              record: record
              rrn: masked_pan
              amount: amount
              currency: currency
            """, file: "by-card.yaml")
        let card = PAN.testCard(range: "411111", account: "111111111")
        var journal = ExpectedItem(reference: "J1", state: .settled)
        journal.rrn = PAN.testCard(range: "550000", account: "000000000")
        journal.amount = 1250
        journal.currency = "840"
        let report = try Fixture.reconcile(["2025-03-14,approval,1,1,T,A,1250,840,\(card)"], expected: [journal], layout: layout)
        #expect(report.nonZero == [.hostOnly: 1, .journalOnly: 1])
        for text in [report.table(), report.csv(), report.json()] {
            #expect(!text.contains(card) && !text.contains(journal.rrn!), "\(text)")
            #expect(text.contains("411111******1111") && text.contains("550000******0004"))
        }
    }
}
