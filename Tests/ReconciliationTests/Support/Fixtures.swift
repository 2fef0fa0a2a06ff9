import Foundation
import Reconciliation

/// Rows of the sim-issuer CSV and journal items keyed alike, so a test states only what differs.
enum Fixture {
    static let header = "business_date,record,rrn,stan,terminal,approval_code,amount,currency,masked_pan"
    static let date = "2025-03-14"

    static func rrn(_ number: Int) -> String { String(repeating: "0", count: 12 - String(number).count) + String(number) }
    static func terminal(_ number: Int) -> String { "TERM" + String(repeating: "0", count: 4 - String(number % 10000).count) + String(number % 10000) }

    /// One CSV row; transaction `number` decides the rrn, stan and terminal.
    static func row(
        _ number: Int, _ record: String = "approval", amount: String = "1250", currency: String = "840", date: String = date
    ) -> String {
        let stan = String(rrn(number).suffix(6))
        return "\(date),\(record),\(rrn(number)),\(stan),\(terminal(number)),A\(stan.suffix(5)),\(amount),\(currency),476173******0119"
    }

    /// The journal's side of transaction `number`.
    static func item(_ number: Int, _ state: ExpectedItem.State = .settled, amount: Int64? = 1250, currency: String? = "840") -> ExpectedItem {
        var item = ExpectedItem(reference: "J\(number)", state: state)
        item.rrn = rrn(number)
        item.stan = String(rrn(number).suffix(6))
        item.terminal = terminal(number)
        item.approvalCode = "A" + rrn(number).suffix(5)
        item.amount = amount
        item.currency = currency
        item.maskedPAN = "476173******0119"
        return item
    }

    static func simIssuer() throws -> ClearingLayout { try ClearingLayout.shipped("sim-issuer") }

    /// Reconciles `rows` (after the header) line by line through `consume`.
    static func reconcile(
        _ rows: [String], expected: [ExpectedItem], businessDate: String? = date, layout: ClearingLayout? = nil, header: Bool = true
    ) throws -> ReconciliationReport {
        var reconciler = Reconciler(layout: try layout ?? simIssuer(), businessDate: businessDate, expected: expected)
        for (offset, line) in ((header ? [Self.header] : []) + rows).enumerated() {
            var line = line
            try line.withUTF8 { try reconciler.consume(line: UnsafeRawBufferPointer($0), number: offset + 1, file: "host.csv") }
        }
        return reconciler.report()
    }

    /// A file in a fresh temporary directory, removed by the caller with ``remove(_:)``.
    static func temporaryFile(_ contents: String, name: String = "host.csv") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}

extension ReconciliationReport {
    /// The categories with a non-zero count, for comparing with what a test expects.
    var nonZero: [Category: Int] { counts.filter { $0.value != 0 } }
}
