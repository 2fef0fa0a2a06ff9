/// Where each value the reconciliation reads sits in a row, compiled from a layout: the keys in key
/// order, then the record type, the amount, the currency and, when present, the business date.
struct RowPlan: Sendable {
    let keyCount: Int
    var recordSlot: Int { keyCount }
    var amountSlot: Int { keyCount + 1 }
    var currencySlot: Int { keyCount + 2 }
    /// -1 when the layout has no business-date column.
    let dateSlot: Int
    let slotCount: Int
    /// What each slot holds, for errors: `rrn`, `amount`, ...
    let labels: [String]
    /// The layout's column per slot.
    let columns: [ClearingLayout.Column]
    /// CSV: the 0-based column index per slot; -1 until the header names it.
    var columnIndex: [Int]
    /// CSV: the largest of ``columnIndex``; fields past it are not split.
    var lastColumn: Int
    /// Record values meaning an approval, and a reversal.
    let approvals: [[UInt8]]
    let reversals: [[UInt8]]

    init(layout: ClearingLayout) {
        keyCount = layout.keys.count
        var labels = layout.keys.map(\.rawValue)
        var columns = layout.keys.map { layout.keyColumns[$0]! }
        labels += ["record", "amount", "currency"]
        columns += [layout.record, layout.amount, layout.currency]
        if let date = layout.businessDate {
            dateSlot = labels.count
            labels.append("business-date")
            columns.append(date)
        } else {
            dateSlot = -1
        }
        slotCount = labels.count
        self.labels = labels
        self.columns = columns
        columnIndex = columns.map { column in
            if case .numbered(let number) = column { return number - 1 }
            return -1
        }
        lastColumn = columnIndex.max() ?? 0
        approvals = layout.approvalValues.map { Array($0.utf8) }
        reversals = layout.reversalValues.map { Array($0.utf8) }
    }

    /// Whether some CSV column is named and waits for the header line.
    var needsHeader: Bool { columnIndex.contains(-1) && columns.contains { if case .named = $0 { true } else { false } } }

    /// A date in `format` as the number yyyyMMdd, or nil when it is not a calendar-plausible date.
    static func parseDate(_ bytes: UnsafeRawBufferPointer, _ format: ClearingLayout.DateFormat) -> Int? {
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for position in range {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let year: Int?, month: Int?, day: Int?
        switch format {
        case .dashed:
            guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
            (year, month, day) = (digits(0..<4), digits(5..<7), digits(8..<10))
        case .compact:
            guard bytes.count == 8 else { return nil }
            (year, month, day) = (digits(0..<4), digits(4..<6), digits(6..<8))
        case .short:
            guard bytes.count == 6 else { return nil }
            (year, month, day) = (digits(0..<2).map { 2000 + $0 }, digits(2..<4), digits(4..<6))
        }
        guard let year, let month, let day, (1...12).contains(month), (1...31).contains(day) else { return nil }
        return year * 10000 + month * 100 + day
    }
}

/// A field's bytes in a line.
struct Span {
    /// Content, quotes and surrounding spaces excluded.
    var start: Int
    var end: Int
    /// Where the field begins in the line, from 1: what errors point at.
    var column: Int
    /// A quoted CSV field holding `""`, to be unescaped before use.
    var escaped: Bool

    var count: Int { end - start }
}

/// A malformed row: the byte column and the reason; the caller adds file and line.
struct RowFault: Error {
    let column: Int
    let message: String
}

extension RowFault {
    /// `label 'value'`, or only the label and size when the value is longer than 10 characters
    /// (it might be a card number).
    static func shown(_ label: String, _ bytes: UnsafeRawBufferPointer) -> String {
        guard bytes.count <= 10 else { return "\(label) of \(bytes.count) characters" }
        let printable = bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        return "\(label) '\(String(decoding: printable, as: UTF8.self))'"
    }
}
