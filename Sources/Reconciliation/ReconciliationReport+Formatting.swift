import Foundation
import PaymentModel

extension ReconciliationReport {
    /// A summary of counts per category, then the exceptions as aligned columns, for a terminal.
    public func table() -> String {
        var out = "rows read: \(rowsRead)"
        if rowsOfOtherDates > 0 { out += " (\(rowsOfOtherDates) of other dates skipped)" }
        out += "\n\(isReconciled ? "reconciled" : "NOT reconciled")\n\n"
        let width = Category.allCases.map(\.rawValue.count).max()! + 2
        for category in Category.allCases {
            let count = String(counts[category] ?? 0)
            out += category.rawValue.padding(width) + String(repeating: " ", count: max(0, 8 - count.count)) + count + "\n"
        }
        guard !items.isEmpty else { return out }
        let header = ["category", "key", "reference", "line", "journal", "host", "detail"]
        let rows = items.map { item in
            [
                item.category.rawValue, item.key, item.reference ?? "-", item.hostLine.map(String.init) ?? "-",
                Self.money(item.journalAmount, item.journalCurrency), Self.money(item.hostAmount, item.hostCurrency), item.detail,
            ]
        }
        var widths = header.map(\.count)
        for row in rows { for (column, text) in row.enumerated() { widths[column] = max(widths[column], text.count) } }
        out += "\nexceptions: \(items.count)\n"
        for row in [header] + rows {
            var line = ""
            for (column, text) in row.enumerated() {
                line += column == row.count - 1 ? text : text.padding(widths[column] + 2)
            }
            out += line + "\n"
        }
        return out
    }

    /// A header line, then one line per exception (RFC 4180 quoting).
    public func csv() -> String {
        var out = "category,key,reference,host_line,journal_amount,journal_currency,host_amount,host_currency,detail\n"
        for item in items {
            let fields = [
                item.category.rawValue, item.key, item.reference ?? "", item.hostLine.map(String.init) ?? "",
                item.journalAmount.map(String.init) ?? "", item.journalCurrency ?? "", item.hostAmount.map(String.init) ?? "",
                item.hostCurrency ?? "", item.detail,
            ]
            out += fields.map(Self.csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    /// The report as one JSON object with sorted keys (amounts in minor units, currencies numeric).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain strings, integers and arrays cannot fail.
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `12.50 USD` when the currency is known, else the minor units and the code as given.
    static func money(_ amount: Int64?, _ currency: String?) -> String {
        guard let amount else { return currency ?? "-" }
        guard let currency else { return String(amount) }
        guard let known = Currency(currency) else { return "\(amount) \(currency)" }
        return Amount(minorUnits: amount, currency: known).description
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
