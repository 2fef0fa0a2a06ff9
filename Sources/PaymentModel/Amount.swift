public import SpecFiles

/// An ISO 4217 currency and the number of its minor units.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    /// Alphabetic code, such as `EUR`.
    public let code: String
    /// Numeric code, such as `978` (what ISO 8583 DE 49 carries).
    public let numeric: String
    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    public let minorUnits: Int

    public var description: String { code }

    /// The currency with alphabetic or numeric code `code`, from specs/codes/currencies.yaml.
    public init?(_ code: String) {
        guard let currency = Currency.table.byCode[code] ?? Currency.table.byNumeric[code] else { return nil }
        self = currency
    }

    init(code: String, numeric: String, minorUnits: Int) {
        self.code = code
        self.numeric = numeric
        self.minorUnits = minorUnits
    }

    struct Table: Sendable {
        var byCode: [String: Currency] = [:]
        var byNumeric: [String: Currency] = [:]
    }

    /// The embedded table; ``loadShipped()`` is checked by the tests, so a release cannot ship a broken one.
    static let table: Table = (try? loadShipped()) ?? Table()

    /// Loads the embedded specs/codes/currencies.yaml, with its errors; returns how many currencies it has.
    @discardableResult
    public static func loadShipped() throws(SpecError) -> Int {
        try loadTable(yaml: String(decoding: PackageResources.currencies_yaml, as: UTF8.self), file: "specs/codes/currencies.yaml").byCode.count
    }

    static func loadShipped() throws(SpecError) -> Table {
        try loadTable(yaml: String(decoding: PackageResources.currencies_yaml, as: UTF8.self), file: "specs/codes/currencies.yaml")
    }

    /// Reads a currency table; every error names file:line:column.
    static func loadTable(yaml: String, file: String) throws(SpecError) -> Table {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("a currency table", allowed: ["currencies"])
        var table = Table()
        for entry in try top.required("currencies", in: "a currency table").sequence("currencies") {
            let map = try entry.mapping("a currency", allowed: ["code", "numeric", "minor-units", "name"])
            let code = try map.required("code", in: "a currency").string("code")
            let numeric = try map.required("numeric", in: "a currency").string("numeric")
            let minor = try map.required("minor-units", in: "a currency").integer("minor-units")
            guard code.count == 3, numeric.count == 3, (0...4).contains(minor) else {
                throw entry.error("currency \(code): a 3-letter code, a 3-digit numeric code and 0-4 minor units are needed")
            }
            guard table.byCode[code] == nil, table.byNumeric[numeric] == nil else { throw entry.error("currency \(code) is listed twice") }
            let currency = Currency(code: code, numeric: numeric, minorUnits: minor)
            table.byCode[code] = currency
            table.byNumeric[numeric] = currency
        }
        return table
    }
}

/// An amount as an integer number of minor units of a currency: never a floating-point number.
public struct Amount: Sendable, Hashable, CustomStringConvertible {
    /// The amount in minor units (cents for EUR, yen for JPY).
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses a decimal text such as `"12.30"` (ISO 20022 form), or nil when it has more decimals
    /// than the currency allows, or is not a plain non-negative decimal.
    public init?(decimal text: String, currency: Currency) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, !parts[0].hasPrefix("+") else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= currency.minorUnits, fraction.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        let padded = fraction + String(repeating: "0", count: currency.minorUnits - fraction.count)
        var scale: Int64 = 1
        for _ in 0..<currency.minorUnits { scale *= 10 }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow, let minor = padded.isEmpty ? 0 : Int64(padded) else { return nil }
        self.init(minorUnits: scaled + minor, currency: currency)
    }

    /// The amount as decimal text with exactly the currency's minor units, such as `"12.30"`.
    public var decimalText: String {
        guard currency.minorUnits > 0 else { return String(minorUnits) }
        var scale: Int64 = 1
        for _ in 0..<currency.minorUnits { scale *= 10 }
        let fraction = String(minorUnits % scale)
        return "\(minorUnits / scale)." + String(repeating: "0", count: currency.minorUnits - fraction.count) + fraction
    }

    public var description: String { "\(decimalText) \(currency.code)" }
}
