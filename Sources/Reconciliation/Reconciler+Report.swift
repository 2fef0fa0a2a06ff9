import PaymentModel

extension Reconciler {
    /// Compares what the host showed with what the journal holds; can be called at any point.
    public func report() -> ReconciliationReport {
        var counts = Dictionary(uniqueKeysWithValues: ReconciliationReport.Category.allCases.map { ($0, 0) })
        var items: [ReconciliationReport.Item] = []
        func add(_ item: ReconciliationReport.Item) {
            counts[item.category, default: 0] += 1
            items.append(item)
        }

        for (position, transaction) in expected.enumerated() {
            let entry = entryOfItem[position]
            let key = displayKey(transaction)
            let journalCurrency = journalCurrency[position] == -1 ? nil : (Currency3.text(journalCurrency[position]) ?? transaction.currency)
            func item(_ category: ReconciliationReport.Category, line: Int? = nil, host: Bool = true, _ detail: String) -> ReconciliationReport.Item {
                let tally = tallies[entry]
                let approved = tally.approvals > 0
                let shown = host && (approved || tally.reversals > 0)
                return ReconciliationReport.Item(
                    category: category, key: key, reference: transaction.reference, hostLine: line ?? (shown ? tally.firstLine : nil),
                    journalAmount: transaction.amount, journalCurrency: journalCurrency,
                    hostAmount: shown ? (approved ? tally.amount : tally.reversalAmount) : nil,
                    hostCurrency: shown ? Currency3.text(approved ? tally.currency : tally.reversalCurrency) : nil,
                    detail: detail)
            }
            if isJournalDuplicate[position] {
                let first = expected[firstItemOfEntry[entry]].reference
                add(item(.duplicate, host: false, "the journal holds this key twice (first as \(first)); not matched"))
                continue
            }
            let tally = tallies[entry]
            let approvals = tally.approvals, reversals = tally.reversals
            switch transaction.state {
            case .settled:
                if approvals == 0 && reversals == 0 {
                    add(item(.journalOnly, host: false, "settled in the journal, not in the host's file"))
                } else if approvals >= 2 {
                    add(item(.duplicate, line: tally.extraApprovalLine, "approved \(approvals) times at the host"))
                } else if reversals > 0 {
                    add(item(.reversalDifference, line: tally.approvalLine > 0 ? tally.approvalLine : tally.firstLine,
                             approvals == 0 ? "reversed at the host (no approval row), standing in the journal"
                                            : "reversed at the host, standing in the journal"))
                } else if journalCurrency != nil && self.journalCurrency[position] != tally.currency {
                    add(item(.currencyDifference, line: tally.approvalLine, "the currencies differ"))
                } else if let amount = transaction.amount, amount != tally.amount {
                    add(item(.amountDifference, line: tally.approvalLine, "the amounts differ"))
                } else {
                    counts[.matched, default: 0] += 1
                }
            case .reversed, .reversalPending:
                if approvals == 0 {
                    counts[.matched, default: 0] += 1
                } else if reversals > 0 {
                    if approvals >= 2 {
                        add(item(.duplicate, line: tally.extraApprovalLine, "approved \(approvals) times at the host"))
                    } else {
                        counts[.matched, default: 0] += 1
                    }
                } else if transaction.state == .reversalPending {
                    add(item(.reversalPending, line: tally.approvalLine, "the reversal waits for the host's acknowledgement"))
                } else {
                    add(item(.reversalDifference, line: tally.approvalLine, "reversed in the journal, standing at the host"))
                }
            case .notApproved:
                if approvals > 0 && reversals == 0 {
                    add(item(.hostOnly, line: tally.approvalLine, "approved at the host, not in the journal's approvals"))
                } else {
                    // Declined or unanswered, and nothing stands at the host: that agrees.
                    counts[.matched, default: 0] += 1
                }
            }
        }

        // Keys only the host knows, in file order.
        for (key, tally) in hostOnly.sorted(by: { $0.value.firstLine < $1.value.firstLine }) {
            let approved = tally.approvals > 0
            let what = approved && tally.reversals > 0 ? "approval and reversal" : approved ? "approval" : "reversal"
            let display = displayKey(key)
            add(ReconciliationReport.Item(
                category: .hostOnly, key: display, hostLine: approved ? tally.approvalLine : tally.firstLine,
                hostAmount: approved ? tally.amount : tally.reversalAmount,
                hostCurrency: Currency3.text(approved ? tally.currency : tally.reversalCurrency),
                detail: "\(what) at the host, not in the journal"))
            if tally.approvals >= 2 {
                add(ReconciliationReport.Item(
                    category: .duplicate, key: display, hostLine: tally.extraApprovalLine, hostAmount: tally.amount,
                    hostCurrency: Currency3.text(tally.currency), detail: "approved \(tally.approvals) times at the host"))
            }
        }
        return ReconciliationReport(rowsRead: rowsRead, rowsOfOtherDates: rowsOfOtherDates, counts: counts, items: items)
    }

    /// `rrn=000000000042 terminal=TERM0011`, from the journal's values.
    private func displayKey(_ transaction: ExpectedItem) -> String {
        layout.keys.map { "\($0.rawValue)=\(Self.shown(transaction.value(of: $0) ?? ""))" }.joined(separator: " ")
    }

    /// The same, from the key bytes the host's row was looked up by.
    private func displayKey(_ key: String) -> String {
        let values = key.split(separator: Character(Unicode.Scalar(Self.keySeparator)), omittingEmptySubsequences: false)
        return zip(layout.keys, values).map { "\($0.rawValue)=\(Self.shown(String($1)))" }.joined(separator: " ")
    }

    /// A key value as reports print it: a card-like run of 13 to 19 digits (a layout whose key
    /// column holds card numbers) is masked; RRNs, STANs, terminals and approval codes are shorter.
    static func shown(_ value: String) -> String {
        (13...19).contains(value.utf8.count) && value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            ? PAN.masked(value) : value
    }
}

/// Numeric currency values as the three digits reports print.
enum Currency3 {
    static func text(_ value: Int) -> String? {
        guard (0...999).contains(value) else { return nil }
        let digits = String(value)
        return String(repeating: "0", count: 3 - digits.count) + digits
    }
}
