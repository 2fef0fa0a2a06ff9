import Foundation
import Reconciliation
import Testing

/// A large file streams through whole: every row read, every difference found. 50,000 rows by
/// default (RECONCILIATION_VOLUME_ROWS for more); its speed is measured by tools/bench/reconcile.sh,
/// not here.
struct ReconcilerVolumeTests {
    static let rows = ProcessInfo.processInfo.environment["RECONCILIATION_VOLUME_ROWS"].flatMap(Int.init) ?? 50_000

    @Test func largeFile() throws {
        let count = Self.rows
        // Every 1000th transaction is missing from the journal, every 1000th (offset) differs in amount.
        var text = Fixture.header + "\n"
        text.reserveCapacity(count * 90)
        var expected: [ExpectedItem] = []
        expected.reserveCapacity(count)
        for number in 1...count {
            text += Fixture.row(number, amount: number % 1000 == 500 ? "1" : "1250") + "\n"
            if number % 1000 != 0 { expected.append(Fixture.item(number)) }
        }
        let path = try Fixture.temporaryFile(text)
        defer { Fixture.remove(path) }
        text = ""

        var reconciler = Reconciler(layout: try Fixture.simIssuer(), businessDate: Fixture.date, expected: expected)
        try reconciler.read(file: path)
        let report = reconciler.report()
        #expect(report.rowsRead == count)
        #expect(report.counts[.hostOnly] == count / 1000)
        #expect(report.counts[.amountDifference] == (count + 500) / 1000)
        #expect(report.counts[.matched] == count - count / 1000 - (count + 500) / 1000)
        #expect(report.items.count == count / 1000 + (count + 500) / 1000)
    }
}
