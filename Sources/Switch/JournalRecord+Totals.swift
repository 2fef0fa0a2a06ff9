public import ISO8583

/// A business date's reconciliation totals as the journal has them, with what keeps them from
/// being final.
public struct JournalTotals: Sendable, Equatable {
    public var totals = ReconciliationTotals()
    /// Records of the date that count in the totals.
    public var transactions = 0
    /// Reversals not yet acknowledged by the host: until they are, the totals may still change.
    public var pendingReversals = 0

    public init() {}

    /// The totals of `date` (`yyyy-MM-dd`) over journal records with their forward states.
    ///
    /// A request the host approved counts on its business date. A reversal the host acknowledged
    /// as booked (00 / 400) counts the original as approved on its date (the host approved it,
    /// whatever the switch answered) and the reversal on the reversal's date; one answered
    /// "original not found" (25 / 480) counts nowhere, as the host booked nothing.
    public init(_ records: some Sequence<JournalRecord>, on date: String) {
        for record in records {
            guard let kind = ReconciliationTotals.kind(mti: record.message, processingCode: record.processingCode) else { continue }
            let amount = record.amount ?? 0
            if record.forward == "reversal" {
                guard record.forwardState == "acknowledged" else {
                    if record.businessDate == date || record.forwardBusinessDate == date { pendingReversals += 1 }
                    continue
                }
                guard JournalTotals.bookedCodes.contains(record.forwardResult ?? "") else { continue }
                if record.businessDate == date {
                    totals.add(kind, amount: amount)
                    transactions += 1
                }
                if (record.forwardBusinessDate ?? record.businessDate) == date { totals.addReversal(kind, amount: amount) }
            } else if record.outcome == "approved", record.businessDate == date {
                totals.add(kind, amount: amount)
                transactions += 1
            }
        }
    }

    /// A reversal's answer that says the host found and reversed its original.
    static let bookedCodes: Set<String> = ["00", "400"]
}
