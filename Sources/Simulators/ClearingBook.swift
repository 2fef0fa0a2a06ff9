import Foundation
public import ISO8583
public import Logging
public import PaymentModel
import Synchronization

/// The issuer simulator's books: every request it approved and every reversal it booked, per
/// business date, appended to a clearing file (CSV, specs/reconcile/README.md), with the day's
/// reconciliation totals for 0520/1520.
///
/// A reversal is booked only when the simulator approved its original (matched by RRN and
/// terminal): one it never approved is answered "original not found" (25 / 480) and not written,
/// as an issuer does. The file is read back at start, so a restarted simulator still knows what
/// it approved before. Differences can be injected on purpose, to test reconciliation.
public final class ClearingBook: Sendable {
    /// Differences written into the file on purpose, each on the first rows it can apply to.
    public struct Differences: Sendable, Equatable {
        /// Reversals of approved transactions left out of the file (the host "missed" them).
        public var droppedReversals = 0
        /// Approvals whose amount is written one minor unit higher.
        public var changedAmounts = 0
        /// Approvals written twice.
        public var duplicates = 0
        /// Approvals of transactions that never happened, written once the first real one is.
        public var extraRows = 0

        public init(droppedReversals: Int = 0, changedAmounts: Int = 0, duplicates: Int = 0, extraRows: Int = 0) {
            self.droppedReversals = droppedReversals
            self.changedAmounts = changedAmounts
            self.duplicates = duplicates
            self.extraRows = extraRows
        }
    }

    /// The header line, naming the columns.
    public static let header = "business_date,record,rrn,stan,terminal,approval_code,amount,currency,masked_pan,message,processing_code"

    /// One row to book: what identifies and settles a transaction.
    struct Entry {
        var rrn: String
        var stan: String
        var terminal: String
        var approvalCode: String
        var amount: Int64
        var currency: String
        var maskedPAN: String
        /// The original's MTI (for a reversal, from its original data elements).
        var message: String
        var processingCode: String
        /// DE 15 as sent, when it was.
        var settlementDate: String?

        var key: String { rrn + "\u{1F}" + terminal }
        var kind: ReconciliationTotals.Kind? { ReconciliationTotals.kind(mti: message, processingCode: processingCode) }
    }

    private struct State {
        /// Approved and not reversed, by key: the kind and amount a reversal takes back.
        var approved: [String: (kind: ReconciliationTotals.Kind, amount: Int64)] = [:]
        var reversed = Set<String>()
        var totals: [BusinessDate: ReconciliationTotals] = [:]
        var pending: Differences
        var extraWritten = false
    }

    public let path: String
    public let businessDay: BusinessDay
    private let writer: Recorder
    private let state: Mutex<State>

    /// Opens (or creates) the clearing file, reading back what it already holds.
    public init(path: String, businessDay: BusinessDay = BusinessDay(), differences: Differences = Differences(),
                logger: Logger = Logger(label: "payswitch.sim.clearing")) throws {
        self.path = path
        self.businessDay = businessDay
        var state = State(pending: differences)
        let existing = FileManager.default.fileExists(atPath: path) ? try String(contentsOfFile: path, encoding: .utf8) : ""
        var lineNumber = 0
        for line in existing.split(separator: "\n", omittingEmptySubsequences: true) {
            lineNumber += 1
            if lineNumber == 1 && line == ClearingBook.header { continue }
            let columns = ClearingBook.fields(of: line)
            guard columns.count == 11, let date = BusinessDate(columns[0]), let amount = Int64(columns[6]) else {
                throw SimulatorError("\(path):\(lineNumber): not a clearing row of this simulator")
            }
            let entry = Entry(rrn: columns[2], stan: columns[3], terminal: columns[4], approvalCode: columns[5], amount: amount,
                              currency: columns[7], maskedPAN: columns[8], message: columns[9], processingCode: columns[10])
            guard let kind = entry.kind else { continue }
            if columns[1] == "approval" {
                state.approved[entry.key] = (kind, amount)
                state.totals[date, default: ReconciliationTotals()].add(kind, amount: amount)
            } else if columns[1] == "reversal", let original = state.approved.removeValue(forKey: entry.key) {
                state.reversed.insert(entry.key)
                state.totals[date, default: ReconciliationTotals()].addReversal(original.kind, amount: original.amount)
            }
        }
        self.state = Mutex(state)
        writer = try Recorder(path: path, logger: logger)
        if existing.isEmpty { writer.write(line: ClearingBook.header) }
    }

    /// Books an approval the simulator gave.
    ///
    /// - Parameter delivered: Whether its answer goes out as it should: injected differences are
    ///   put only on those, so no fault of the run hides them.
    func approve(_ entry: Entry, delivered: Bool) {
        guard let kind = entry.kind else { return }
        let date = date(of: entry)
        let lines: [String] = state.withLock { state in
            var written = entry
            var lines: [String] = []
            // One difference per row, so that each shows on its own.
            var duplicated = false
            if delivered && state.pending.changedAmounts > 0 {
                state.pending.changedAmounts -= 1
                written.amount += 1
            } else if delivered && state.pending.duplicates > 0 {
                state.pending.duplicates -= 1
                duplicated = true
            }
            lines.append(ClearingBook.row(date, "approval", written))
            if duplicated { lines.append(lines[0]) }
            if delivered && !state.extraWritten {
                state.extraWritten = true
                for index in 0..<state.pending.extraRows {
                    var extra = entry
                    extra.rrn = "9999" + String(100_000_000 + index).suffix(8)
                    extra.terminal = "EXTRA001"
                    lines.append(ClearingBook.row(date, "approval", extra))
                }
            }
            state.approved[entry.key] = (kind, entry.amount)
            state.totals[date, default: ReconciliationTotals()].add(kind, amount: written.amount)
            return lines
        }
        for line in lines { writer.write(line: line) }
    }

    /// Books a reversal; false when its original was never approved here (nothing is booked).
    /// A repeated reversal is found and not booked twice.
    func reverse(_ entry: Entry) -> Bool {
        let date = date(of: entry)
        let line: String?? = state.withLock { state in
            if state.reversed.contains(entry.key) { return .some(nil) }
            guard let original = state.approved.removeValue(forKey: entry.key) else { return nil }
            state.reversed.insert(entry.key)
            if state.pending.droppedReversals > 0 {
                state.pending.droppedReversals -= 1
                return .some(nil)
            }
            state.totals[date, default: ReconciliationTotals()].addReversal(original.kind, amount: original.amount)
            return .some(ClearingBook.row(date, "reversal", entry))
        }
        guard let line else { return false }
        if let line { writer.write(line: line) }
        return true
    }

    /// The totals booked for a business date.
    public func totals(on date: BusinessDate) -> ReconciliationTotals {
        state.withLock { $0.totals[date] ?? ReconciliationTotals() }
    }

    /// Waits until every row handed over is written.
    public func flush() { writer.flush() }

    /// The business date of a row: its DE 15, else the simulator's business day now.
    private func date(of entry: Entry) -> BusinessDate {
        let today = businessDay.date(atUnixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        return entry.settlementDate.flatMap { BusinessDate.settlementDate($0, near: today) } ?? today
    }

    private static func row(_ date: BusinessDate, _ record: String, _ entry: Entry) -> String {
        [date.description, record, entry.rrn, entry.stan, entry.terminal, entry.approvalCode, String(entry.amount), entry.currency,
         entry.maskedPAN, entry.message, entry.processingCode].map(quoted).joined(separator: ",")
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
    private static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The fields of one CSV line of this file (RFC 4180 quoting, no line breaks inside fields).
    private static func fields(of line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else {
                            quoted = false
                            if next == "," { fields.append(current); current = "" } else { current.append(next) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else if character != "\r" {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}

extension ClearingBook.Entry {
    /// What a request or reversal books: RRN and terminal identify it; a reversal names its
    /// original's MTI in DE 90 (1987) or DE 56 (1993).
    init?(_ message: ISO8583Message, approvalCode: String?) {
        guard let rrn = message.string(37), let terminal = message.string(41) else { return nil }
        self.rrn = rrn
        self.terminal = terminal
        stan = message.string(11) ?? ""
        self.approvalCode = approvalCode ?? ""
        amount = message.integer(4) ?? 0
        currency = message.string(49) ?? ""
        maskedPAN = message.string(2).map(PAN.masked) ?? ""
        let mti = message.mti.description
        if message.mti.messageClass == 4 {
            let original = message.string(90) ?? message.string(56) ?? ""
            self.message = original.count >= 4 ? String(original.prefix(4)) : String(mti.prefix(1)) + "200"
        } else {
            self.message = mti
        }
        processingCode = message.string(3) ?? ""
        settlementDate = message.string(15)
    }
}
