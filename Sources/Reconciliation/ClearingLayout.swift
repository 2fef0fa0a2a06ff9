/// How a host's clearing or settlement file is laid out: its format and where each value the
/// reconciliation needs sits in a row. Read from a small YAML file (specs/reconcile).
public struct ClearingLayout: Sendable {
    /// Delimited text or fixed-width records.
    public enum Format: String, Sendable, CaseIterable {
        case csv
        case fixed
    }

    /// A field that, with the others of ``ClearingLayout/keys``, identifies a transaction on both sides.
    public enum KeyField: String, Sendable, CaseIterable {
        case rrn
        case stan
        case terminal
        case approvalCode = "approval-code"
    }

    /// How a date is written in the file.
    public enum DateFormat: String, Sendable, CaseIterable {
        case dashed = "yyyy-MM-dd"
        case compact = "yyyyMMdd"
        /// Two-digit years are taken as 20yy.
        case short = "yyMMdd"
    }

    /// How an amount is written in the file.
    public enum AmountFormat: String, Sendable, CaseIterable {
        /// An integer count of minor units (cents): `1250` is 12.50 USD.
        case minor
        /// Digits with an optional `.`, scaled by the currency's minor units: `12.5` is 1250 for USD.
        case decimal
    }

    /// Where a value sits in a row.
    public enum Column: Sendable, Hashable, CustomStringConvertible {
        /// A CSV column named by the header line.
        case named(String)
        /// A CSV column by position, from 1.
        case numbered(Int)
        /// Fixed-width bytes: 1-based start and length.
        case span(start: Int, length: Int)

        public var description: String {
            switch self {
            case .named(let name): "column '\(name)'"
            case .numbered(let number): "column \(number)"
            case .span(let start, let length): "bytes \(start)-\(start + length - 1)"
            }
        }
    }

    /// The layout's name (`layout:`), such as `sim-issuer`.
    public var name: String
    /// What the layout is for (`description:`).
    public var summary: String
    public var format: Format
    /// The CSV separator, one ASCII byte.
    public var delimiter: UInt8
    /// Whether the first line after ``skipLines`` names the columns (and is not data).
    public var header: Bool
    /// Lines to skip before the header or the data.
    public var skipLines: Int
    /// The fields that identify a transaction, in key order.
    public var keys: [KeyField]
    /// Where each key field sits; holds every field of ``keys``.
    public var keyColumns: [KeyField: Column]
    /// The business (settlement) date of a row, when the file carries one.
    public var businessDate: Column?
    public var dateFormat: DateFormat
    /// Whether a row is an approval or a reversal.
    public var record: Column
    /// Values of ``record`` that mean an approval.
    public var approvalValues: [String]
    /// Values of ``record`` that mean a reversal.
    public var reversalValues: [String]
    public var amount: Column
    public var amountFormat: AmountFormat
    /// The currency, numeric (`840`) or alphabetic (`USD`).
    public var currency: Column
    /// The masked card number: informational, never read for matching.
    public var maskedPAN: Column?
}
