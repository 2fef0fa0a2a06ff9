import SpecFiles
import Reconciliation
import Testing

/// Each category comes from exactly the case meant for it, and from nothing else.
struct ReconcilerMatchingTests {
    /// A journal state (nil: the journal lacks the key), the host's rows for the key, and the one
    /// category the transaction must land in.
    struct Case: Sendable, CustomTestStringConvertible {
        let journal: ExpectedItem.State?
        let host: [String]
        let category: ReconciliationReport.Category
        var testDescription: String { "\(journal?.rawValue ?? "absent") + host \(host) → \(category.rawValue)" }
    }

    static let cases: [Case] = [
        Case(journal: .settled, host: ["approval"], category: .matched),
        Case(journal: .settled, host: [], category: .journalOnly),
        Case(journal: .settled, host: ["approval amount=1200"], category: .amountDifference),
        Case(journal: .settled, host: ["approval currency=978"], category: .currencyDifference),
        // Currency differs and amount differs: one exception, the currency's.
        Case(journal: .settled, host: ["approval amount=99 currency=978"], category: .currencyDifference),
        Case(journal: .settled, host: ["approval", "approval"], category: .duplicate),
        Case(journal: .settled, host: ["approval", "approval", "reversal"], category: .duplicate),
        Case(journal: .settled, host: ["approval", "reversal"], category: .reversalDifference),
        Case(journal: .settled, host: ["reversal"], category: .reversalDifference),
        Case(journal: .settled, host: ["approval", "reversal", "reversal"], category: .reversalDifference),
        Case(journal: .reversed, host: [], category: .matched),
        Case(journal: .reversed, host: ["reversal"], category: .matched),
        Case(journal: .reversed, host: ["approval", "reversal"], category: .matched),
        // Networks repeat reversals: not duplicates.
        Case(journal: .reversed, host: ["approval", "reversal", "reversal", "reversal"], category: .matched),
        Case(journal: .reversed, host: ["approval", "approval", "reversal"], category: .duplicate),
        Case(journal: .reversed, host: ["approval"], category: .reversalDifference),
        Case(journal: .reversalPending, host: ["approval"], category: .reversalPending),
        Case(journal: .reversalPending, host: ["approval", "reversal"], category: .matched),
        Case(journal: .reversalPending, host: [], category: .matched),
        Case(journal: .notApproved, host: [], category: .matched),
        Case(journal: .notApproved, host: ["approval"], category: .hostOnly),
        Case(journal: .notApproved, host: ["approval", "reversal"], category: .matched),
        Case(journal: nil, host: ["approval"], category: .hostOnly),
        Case(journal: nil, host: ["reversal"], category: .hostOnly),
        Case(journal: nil, host: ["approval", "reversal", "reversal"], category: .hostOnly),
    ]

    /// Host rows for transaction 7: `approval`, optionally with `amount=` and `currency=`.
    static func rows(_ host: [String]) -> [String] {
        host.map { spec in
            let words = spec.split(separator: " ")
            var amount = "1250", currency = "840"
            for word in words.dropFirst() {
                let pair = word.split(separator: "=")
                if pair[0] == "amount" { amount = String(pair[1]) } else { currency = String(pair[1]) }
            }
            return Fixture.row(7, String(words[0]), amount: amount, currency: currency)
        }
    }

    @Test(arguments: cases)
    func categoryComesFromItsCase(_ test: Case) throws {
        // Transaction 1 matches cleanly beside it, so the case's category is the only exception.
        let expected = [Fixture.item(1)] + (test.journal.map { [Fixture.item(7, $0)] } ?? [])
        let report = try Fixture.reconcile([Fixture.row(1)] + Self.rows(test.host), expected: expected)
        var counts: [ReconciliationReport.Category: Int] = [.matched: 1]
        counts[test.category, default: 0] += 1
        #expect(report.nonZero == counts)
        #expect(report.items.map(\.category) == (test.category == .matched ? [] : [test.category]))
        #expect(report.isReconciled == (test.category == .matched))
        #expect(report.rowsRead == 1 + test.host.count)
        if let item = report.items.first {
            #expect(item.key == "rrn=000000000007 terminal=TERM0007")
            #expect(item.reference == (test.journal == nil ? nil : "J7"))
        }
    }

    @Test func exceptionItemsCarryBothSides() throws {
        let report = try Fixture.reconcile(
            [Fixture.row(1, amount: "1200"), Fixture.row(2), Fixture.row(2), Fixture.row(3)],
            expected: [Fixture.item(1), Fixture.item(2), Fixture.item(4)])
        #expect(report.items.count == 4)
        let amount = try #require(report.items.first { $0.category == .amountDifference })
        #expect(amount.reference == "J1" && amount.hostLine == 2 && amount.journalAmount == 1250 && amount.hostAmount == 1200)
        #expect(amount.journalCurrency == "840" && amount.hostCurrency == "840")
        let duplicate = try #require(report.items.first { $0.category == .duplicate })
        #expect(duplicate.reference == "J2" && duplicate.hostLine == 4)
        let journalOnly = try #require(report.items.first { $0.category == .journalOnly })
        #expect(journalOnly.reference == "J4" && journalOnly.hostLine == nil && journalOnly.hostAmount == nil)
        let hostOnly = try #require(report.items.first { $0.category == .hostOnly })
        #expect(hostOnly.reference == nil && hostOnly.hostLine == 5 && hostOnly.hostAmount == 1250)
        #expect(hostOnly.key == "rrn=000000000003 terminal=TERM0003" && hostOnly.detail.contains("approval"))
    }

    @Test func hostOnlyKeyApprovedTwiceIsAlsoADuplicate() throws {
        let report = try Fixture.reconcile([Fixture.row(9), Fixture.row(9)], expected: [])
        #expect(report.nonZero == [.hostOnly: 1, .duplicate: 1])
        #expect(report.items.map(\.hostLine) == [2, 3])
    }

    @Test func cleanFileReconciles() throws {
        let numbers = Array(1...500)
        let expected = numbers.map { number -> ExpectedItem in
            switch number % 5 {
            case 0: Fixture.item(number, .reversed)
            case 1: Fixture.item(number, .notApproved)
            default: Fixture.item(number, amount: Int64(number))
            }
        }
        var rows: [String] = []
        for number in numbers {
            switch number % 5 {
            case 0: rows += [Fixture.row(number), Fixture.row(number, "reversal")]
            case 1: break
            default: rows.append(Fixture.row(number, amount: String(number)))
            }
        }
        let report = try Fixture.reconcile(rows.reversed(), expected: expected)
        #expect(report.isReconciled)
        #expect(report.nonZero == [.matched: 500])
        #expect(report.items.isEmpty)
        #expect(report.rowsRead == rows.count && report.rowsOfOtherDates == 0)
    }

    @Test func rowsOfOtherDatesAreSkippedAndCounted() throws {
        let rows = [Fixture.row(1), Fixture.row(2, date: "2025-03-13"), Fixture.row(3, date: "2025-03-15")]
        let report = try Fixture.reconcile(rows, expected: [Fixture.item(1)])
        #expect(report.isReconciled)
        #expect(report.rowsRead == 3 && report.rowsOfOtherDates == 2)

        let everyDate = try Fixture.reconcile(rows, expected: [Fixture.item(1)], businessDate: nil)
        #expect(everyDate.nonZero == [.matched: 1, .hostOnly: 2])
        #expect(everyDate.rowsOfOtherDates == 0)
    }

    @Test func malformedBusinessDateIsReportedByTheFirstRead() throws {
        let error = #expect(throws: ReconciliationError.self) {
            try Fixture.reconcile([Fixture.row(1)], expected: [], businessDate: "14.03.2025")
        }
        #expect(error?.message.contains("not a date in the form yyyy-MM-dd") == true)
    }

    @Test func duplicateJournalKeysTakeNoPartInMatching() throws {
        var second = Fixture.item(1)
        second.reference = "J1-again"
        second.amount = 999
        let report = try Fixture.reconcile([Fixture.row(1)], expected: [Fixture.item(1), second, Fixture.item(2, .notApproved)])
        #expect(report.nonZero == [.matched: 2, .duplicate: 1])
        let duplicate = try #require(report.items.first)
        #expect(duplicate.reference == "J1-again" && duplicate.hostLine == nil && duplicate.detail.contains("J1"))
    }

    @Test func alphabeticCurrencyIsNormalisedToNumeric() throws {
        let report = try Fixture.reconcile([Fixture.row(1, currency: "USD"), Fixture.row(2, currency: "EUR")],
                                           expected: [Fixture.item(1), Fixture.item(2, currency: "USD")])
        #expect(report.nonZero == [.matched: 1, .currencyDifference: 1])
        #expect(report.items.first?.hostCurrency == "978" && report.items.first?.journalCurrency == "840")
    }

    @Test func journalWithoutAmountOrCurrencyIsNotCompared() throws {
        let report = try Fixture.reconcile([Fixture.row(1, amount: "7", currency: "978")], expected: [Fixture.item(1, amount: nil, currency: nil)])
        #expect(report.isReconciled)
    }

    @Test func keysMayUseOtherFields() throws {
        let layout = try ClearingLayout.load(
            yaml: """
                layout: by-stan
                format: csv
                header: true
                keys: [stan, terminal, approval-code]
                columns: {record: record, stan: stan, terminal: terminal, approval-code: approval_code, amount: amount, currency: currency}
                """, file: "by-stan.yaml")
        var item = Fixture.item(3)
        item.rrn = "different"
        let report = try Fixture.reconcile([Fixture.row(3)], expected: [item, Fixture.item(4, .notApproved)], layout: layout)
        #expect(report.nonZero == [.matched: 2])
    }
}
