import ISO8583

/// Running totals per channel and business date, kept from the journal as it is written: what the
/// day-end reconciliation will find, watched as it grows (the side-car loss-prevention check).
/// Published as gauges once per journal batch; confined to the storage writer's queue.
struct DayTotals {
    struct Key: Hashable {
        var channel: String
        var date: String
    }

    struct Running: Equatable {
        /// Requests the switch answered approved.
        var approved = 0
        var approvedAmount: Int64 = 0
        /// Reversals the switch made, timeouts' included (booked to their reversal's date).
        var reversals = 0
        var reversalsAmount: Int64 = 0
        /// Approvals still standing: approved, less those the switch then reversed.
        var standingAmount: Int64 = 0
    }

    private(set) var running: [Key: Running] = [:]

    /// Appends what a journal record adds: to its own date, and to its reversal's (which may be
    /// another). Into the caller's array, so that a record costs no allocation of its own.
    static func changes(of record: JournalRecord, into changes: inout [(Key, Running)]) {
        guard record.channel != "-", let date = record.businessDate else { return }
        let amount = record.amount ?? 0
        let reversed = record.forward == "reversal"
        if record.outcome == "approved" {
            changes.append((Key(channel: record.channel, date: date),
                            Running(approved: 1, approvedAmount: amount, standingAmount: reversed ? 0 : amount)))
        }
        if reversed {
            changes.append((Key(channel: record.channel, date: record.forwardBusinessDate ?? date),
                            Running(reversals: 1, reversalsAmount: amount)))
        }
    }

    /// Adds a written batch's changes and publishes the totals it touched.
    mutating func apply(_ changes: [(Key, Running)], metrics: SwitchMetrics) {
        guard !changes.isEmpty else { return }
        var touched = Set<Key>()
        for (key, change) in changes {
            var total = running[key] ?? Running()
            total.approved += change.approved
            total.approvedAmount = ReconciliationTotals.sum(total.approvedAmount, change.approvedAmount)
            total.reversals += change.reversals
            total.reversalsAmount = ReconciliationTotals.sum(total.reversalsAmount, change.reversalsAmount)
            total.standingAmount = ReconciliationTotals.sum(total.standingAmount, change.standingAmount)
            running[key] = total
            touched.insert(key)
        }
        for key in touched { metrics.day(channel: key.channel, date: key.date, running[key]!) }
    }
}
