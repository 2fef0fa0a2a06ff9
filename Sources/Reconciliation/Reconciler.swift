import PaymentModel

/// Matches a host's clearing file against the transactions the switch journalled for one
/// business date.
///
/// Feed it the file with ``read(file:chunkSize:)`` (or line by line with
/// ``consume(line:number:file:)``), then ask for ``report()``. Memory grows with the expected items
/// and the exceptions, never with the file: a host row whose key the journal holds only bumps
/// that item's counters.
public struct Reconciler: Sendable {
    let layout: ClearingLayout
    var plan: RowPlan
    /// The business date as yyyyMMdd, or nil to take every row.
    let businessDate: Int?
    /// Why the business date given to init is not one; thrown by the first read.
    let businessDateFault: String?

    let expected: [ExpectedItem]
    /// Each item's entry in ``index``; a later item with an earlier item's key is a journal duplicate.
    let entryOfItem: [Int]
    let isJournalDuplicate: [Bool]
    /// The first item holding each entry's key.
    let firstItemOfEntry: [Int]
    /// The journal's currency per item, as a numeric value; -1 when unknown, -2 when not a currency.
    let journalCurrency: [Int]
    let index: KeyIndex

    /// What the host showed per entry.
    var tallies: [Tally]
    /// What the host showed for keys the journal does not hold, by key bytes (fields joined by 0x1F).
    var hostOnly: [String: Tally] = [:]
    var rowsRead = 0
    var rowsOfOtherDates = 0
    /// Lines given to ``consume(line:number:file:)`` so far, for skip-lines and the header.
    var linesSeen = 0
    var headerSeen = false
    /// Alphabetic currency codes met so far, packed in a UInt32, with their numeric value and minor units.
    var alphabeticCurrencies: [UInt32: (numeric: Int, minorUnits: Int)] = [:]

    /// Separates key fields in the bytes a key is looked up by.
    static let keySeparator: UInt8 = 0x1F

    /// - Parameters:
    ///   - layout: How the host's file is laid out.
    ///   - businessDate: `yyyy-MM-dd`; host rows of other dates are skipped and counted in
    ///     ``ReconciliationReport/rowsOfOtherDates``. Nil takes every row, as does a layout without
    ///     a business-date column. A malformed date is reported by the first read.
    ///   - expected: What the journal holds for the date.
    public init(layout: ClearingLayout, businessDate: String?, expected: [ExpectedItem]) {
        self.layout = layout
        plan = RowPlan(layout: layout)
        if let businessDate {
            let date = Array(businessDate.utf8).withUnsafeBytes { RowPlan.parseDate($0, .dashed) }
            self.businessDate = date
            businessDateFault = date == nil ? "the business date '\(businessDate.prefix(10))' is not a date in the form yyyy-MM-dd" : nil
        } else {
            self.businessDate = nil
            businessDateFault = nil
        }
        self.expected = expected

        var index = KeyIndex(capacity: expected.count)
        var entryOfItem: [Int] = []
        var isJournalDuplicate: [Bool] = []
        var firstItemOfEntry: [Int] = []
        var journalCurrency: [Int] = []
        entryOfItem.reserveCapacity(expected.count)
        isJournalDuplicate.reserveCapacity(expected.count)
        journalCurrency.reserveCapacity(expected.count)
        // One key buffer for every item: building the index allocates nothing per item.
        var key: [UInt8] = []
        for (item, transaction) in expected.enumerated() {
            key.removeAll(keepingCapacity: true)
            for (position, field) in layout.keys.enumerated() {
                if position > 0 { key.append(Self.keySeparator) }
                key.append(contentsOf: (transaction.value(of: field) ?? "").utf8)
            }
            let (entry, inserted) = key.withUnsafeBytes { index.insert($0) }
            entryOfItem.append(entry)
            isJournalDuplicate.append(!inserted)
            if inserted { firstItemOfEntry.append(item) }
            if let code = transaction.currency {
                journalCurrency.append(Currency(code).flatMap { Int($0.numeric) } ?? -2)
            } else {
                journalCurrency.append(-1)
            }
        }
        self.index = index
        self.entryOfItem = entryOfItem
        self.isJournalDuplicate = isJournalDuplicate
        self.firstItemOfEntry = firstItemOfEntry
        self.journalCurrency = journalCurrency
        tallies = Array(repeating: Tally(), count: index.count)
    }
}

/// The host rows seen for one key.
struct Tally: Sendable {
    var approvals = 0
    var reversals = 0
    /// The first approval's amount, currency (numeric value) and line.
    var amount: Int64 = 0
    var currency = 0
    var approvalLine = 0
    /// The second approval's line: what a duplicate points at.
    var extraApprovalLine = 0
    /// The first row's line, approval or reversal.
    var firstLine = 0
    /// The first reversal's amount and currency, shown when the key has no approval.
    var reversalAmount: Int64 = 0
    var reversalCurrency = 0

    mutating func count(isReversal: Bool, amount: Int64, currency: Int, line: Int) {
        if firstLine == 0 { firstLine = line }
        if isReversal {
            if reversals == 0 {
                reversalAmount = amount
                reversalCurrency = currency
            }
            reversals += 1
        } else {
            if approvals == 0 {
                self.amount = amount
                self.currency = currency
                approvalLine = line
            } else if approvals == 1 {
                extraApprovalLine = line
            }
            approvals += 1
        }
    }
}
