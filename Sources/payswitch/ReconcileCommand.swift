import ArgumentParser
import Foundation
import ISO8583
import PaymentModel
import Reconciliation
import SQLiteStorage
import SpecFiles
import Switch

/// `payswitch reconcile`: a business date of the journal against a host's clearing file.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Match a business date of the journal against a host's clearing file (CSV or fixed width).",
        discussion: """
            The file is streamed and read by a layout (YAML: specs/reconcile/README.md; shipped: \
            \(ClearingLayout.shippedNames.joined(separator: ", "))). Reports matched transactions and, each in one \
            category, what is at the host but not in the journal, in the journal but not at the host, amount or currency \
            differences, duplicates, reversal differences and reversals still pending. Exits 1 while anything is unreconciled.
            """)

    @Argument(help: "The host's clearing file.") var file: String
    @Option(help: "Business date, yyyy-MM-dd.") var date: String
    @Option(help: "Channel whose journal records are matched.") var channel: String
    @Option(help: "Layout: a shipped name or a YAML file.") var layout = "sim-issuer"
    @Option(help: "Switch configuration (its storage); default: the embedded one.") var config: String?
    @Option(help: "The journal database; default: the configuration's.") var database: String?
    @Option(help: "table, csv or json.") var format: Format = .table

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    func run() throws {
        guard BusinessDate(date) != nil else { throw ValidationError("--date is yyyy-MM-dd, found '\(date)'") }
        let clearingLayout: ClearingLayout
        do {
            clearingLayout = ClearingLayout.shippedNames.contains(layout)
                ? try ClearingLayout.shipped(layout)
                : try ClearingLayout.load(yaml: try String(contentsOfFile: layout, encoding: .utf8), file: layout)
        } catch let error as SpecError {
            throw ValidationError("\(error)")
        }
        let storage = try JournalCommand.open(database: database, storage: try SwitchConfigurationFile.load(config).storage)
        var query = JournalQuery(limit: Int.max)
        query.channel = channel
        query.businessDate = date
        // Streamed: a day of the journal is held as compact expected items, not as records.
        var expected: [ExpectedItem] = []
        var reversals: [String: Int] = [:]
        try storage.forEachJournalRecord(query) { record in
            guard let item = ReconcileCommand.expected(record) else { return }
            if record.forward == "reversal" { reversals[record.id] = expected.count }
            expected.append(item)
        }
        for (id, state) in try storage.forwardStates(of: Array(reversals.keys)) where state.state == "acknowledged" {
            if let index = reversals[id] { expected[index].state = .reversed }
        }
        var reconciler = Reconciler(layout: clearingLayout, businessDate: date, expected: expected)
        do {
            try reconciler.read(file: file)
        } catch {
            throw ValidationError("\(error)")
        }
        let report = reconciler.report()
        switch format {
        case .table: print(report.table(), terminator: "")
        case .csv: print(report.csv(), terminator: "")
        case .json: print(report.json())
        }
        if !report.isReconciled { throw ExitCode(1) }
    }

    /// What the host should show for a journal record: approvals and reversals of authorization
    /// and financial requests; nil for what a clearing file never holds (network management,
    /// reversals and advices received as such).
    static func expected(_ record: JournalRecord) -> ExpectedItem? {
        guard ReconciliationTotals.kind(mti: record.message, processingCode: record.processingCode) != nil else { return nil }
        let state: ExpectedItem.State
        if record.forward == "reversal" {
            // Pending until its acknowledgement is read (records from a query carry it already).
            state = record.forwardState == "acknowledged" ? .reversed : .reversalPending
        } else {
            state = record.outcome == "approved" ? .settled : .notApproved
        }
        var item = ExpectedItem(reference: record.id, state: state)
        item.rrn = record.rrn
        // The STAN the host saw is the switch's own.
        item.stan = record.hostStan
        item.terminal = record.terminal
        item.approvalCode = record.approvalCode
        item.amount = record.amount
        item.currency = record.currency
        item.maskedPAN = record.maskedPAN
        return item
    }
}
