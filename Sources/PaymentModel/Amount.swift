public import SpecFiles

/// An ISO 4217 currency and the number of its minor units.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    /// The three ASCII letters of the alphabetic code, packed, and the numeric code as a number:
    /// an amount is created, copied and destroyed without a string.
    private let letters: UInt32
    private let number: UInt16
    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    public let minorUnits: Int

    /// Alphabetic code, such as `EUR`.
    public var code: String {
        String(unsafeUninitializedCapacity: 3) { buffer in
            for index in 0..<3 { buffer[index] = UInt8(truncatingIfNeeded: letters >> UInt32(8 * index)) }
            return 3
        }
    }

    /// Numeric code, such as `978` (what ISO 8583 DE 49 carries), always three digits.
    public var numeric: String {
        String(unsafeUninitializedCapacity: 3) { buffer in
            var count = 0
            withNumericDigits { count = buffer.initialize(fromContentsOf: $0) }
            return count
        }
    }

    /// Calls `body` with the three ASCII digits of the numeric code, from the stack.
    package func withNumericDigits(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let digits: (UInt8, UInt8, UInt8) = (
            UInt8(ascii: "0") + UInt8(number / 100), UInt8(ascii: "0") + UInt8(number / 10 % 10), UInt8(ascii: "0") + UInt8(number % 10))
        withUnsafeBytes(of: digits) { body($0.assumingMemoryBound(to: UInt8.self)) }
    }

    public var description: String { code }

    /// The currency with alphabetic or numeric code `code`, from specs/codes/currencies.yaml.
    public init?(_ code: String) {
        guard let currency = Currency.table.byCode[code] ?? Currency.table.byNumeric[code] else { return nil }
        self = currency
    }

    /// The currency whose numeric code is these three ASCII digits, or nil: an array lookup,
    /// without building a string.
    package init?(numericDigits bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 3 else { return nil }
        var index = 0
        for byte in bytes {
            guard isASCIIDigit(byte) else { return nil }
            index = index * 10 + Int(byte &- UInt8(ascii: "0"))
        }
        guard let currency = Currency.table.byNumericValue[index] else { return nil }
        self = currency
    }

    /// A currency of a three-letter ASCII code and a numeric code of 0-999.
    init(code: String, numeric: Int, minorUnits: Int) {
        precondition(code.utf8.count == 3 && (0...999).contains(numeric))
        var packed: UInt32 = 0
        for (index, byte) in code.utf8.enumerated() { packed |= UInt32(byte) << UInt32(8 * index) }
        letters = packed
        number = UInt16(numeric)
        self.minorUnits = minorUnits
    }

    struct Table: Sendable {
        var byCode: [String: Currency] = [:]
        var byNumeric: [String: Currency] = [:]
        /// By numeric code as a number, 0-999.
        var byNumericValue = [Currency?](repeating: nil, count: 1000)
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
            guard code.utf8.count == 3, code.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }),
                  numeric.utf8.count == 3, numeric.utf8.allSatisfy(isASCIIDigit), let value = Int(numeric), (0...4).contains(minor) else {
                throw entry.error("currency \(code): a 3-letter code, a 3-digit numeric code and 0-4 minor units are needed")
            }
            guard table.byCode[code] == nil, table.byNumeric[numeric] == nil else { throw entry.error("currency \(code) is listed twice") }
            let currency = Currency(code: code, numeric: value, minorUnits: minor)
            table.byCode[code] = currency
            table.byNumeric[numeric] = currency
            table.byNumericValue[value] = currency
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

    /// The amount as decimal text with exactly the currency's minor units, such as `"12.30"`.
    public var decimalText: String {
        guard currency.minorUnits > 0 else { return String(minorUnits) }
        var scale: Int64 = 1
        for _ in 0..<currency.minorUnits { scale *= 10 }
        let fraction = String(minorUnits % scale)
        return "\(minorUnits / scale)." + String(repeating: "0", count: currency.minorUnits - fraction.count) + fraction
    }

    /// Whether `text` is ``decimalText``, compared without making it: a decode asks this of every
    /// amount it reads (to keep a lexical form such as `100.5` as written).
    public func isDecimalText(_ text: String) -> Bool {
        let minor = currency.minorUnits
        guard minorUnits >= 0, minor <= 18 else { return text == decimalText }
        // Written right to left: Int64's 19 digits, the point and the leading zeros of a fraction fit.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { buffer in
            var position = buffer.count
            var value = minorUnits
            var digits = 0
            repeat {
                if minor > 0, digits == minor {
                    position -= 1
                    buffer[position] = UInt8(ascii: ".")
                }
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                digits += 1
            } while value > 0 || digits <= minor
            return text.utf8.elementsEqual(UnsafeMutableBufferPointer(rebasing: buffer[position...]))
        }
    }

    public var description: String { "\(decimalText) \(currency.code)" }
}

/// Why a decimal text is not an amount.
public struct AmountError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// Not a plain non-negative decimal such as `12.30`.
        case notDecimal
        /// More digits after the point than the scale (the currency's minor units) allows.
        case tooManyDecimals(allowed: Int)
        /// The value does not fit a 64-bit count of minor units.
        case outOfRange
    }

    public let reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .notDecimal: "not a plain non-negative decimal"
        case .tooManyDecimals(let allowed): "more than \(allowed) decimals"
        case .outOfRange: "too large: it exceeds \(Int64.max) minor units"
        }
    }
}

extension Amount {
    /// Parses a decimal text such as `"12.30"` (ISO 20022 form); the error says why it is not one.
    public init(parsing text: some StringProtocol, currency: Currency) throws(AmountError) {
        self.init(minorUnits: try Amount.scaled(text, scale: currency.minorUnits), currency: currency)
    }

    /// Parses a decimal text such as `"12.30"`, or nil when ``init(parsing:currency:)`` would throw.
    public init?(decimal text: String, currency: Currency) {
        guard let amount = try? Amount(parsing: text, currency: currency) else { return nil }
        self = amount
    }

    /// A non-negative decimal text as an integer count of 10^-`scale` units, every step
    /// overflow-checked: `"12.3"` at scale 2 is 1230. Trailing zeros past the scale are
    /// accepted only with `ignoringTrailingZeros` (`"1.500"` at scale 2).
    public static func scaled(_ text: some StringProtocol, scale: Int, ignoringTrailingZeros: Bool = false) throws(AmountError) -> Int64 {
        // On the UTF-8 in place (a String's own storage): every amount a decode reads comes here.
        var text = String(text)
        let result = text.withUTF8 { utf8 in
            Result { () throws(AmountError) in try Amount.scaled(utf8: utf8, scale: scale, ignoringTrailingZeros: ignoringTrailingZeros) }
        }
        return try result.get()
    }

    private static func scaled(utf8: UnsafeBufferPointer<UInt8>, scale: Int, ignoringTrailingZeros: Bool) throws(AmountError) -> Int64 {
        let point = utf8.firstIndex(of: UInt8(ascii: "."))
        let wholeDigits = utf8[..<(point ?? utf8.count)]
        var fractionDigits = point.map { utf8[($0 + 1)...] } ?? utf8[utf8.count...]
        guard !wholeDigits.isEmpty, point == nil || !fractionDigits.isEmpty,
              wholeDigits.allSatisfy(isDigit), fractionDigits.allSatisfy(isDigit) else { throw AmountError(.notDecimal) }
        if ignoringTrailingZeros {
            while fractionDigits.count > scale, fractionDigits.last == UInt8(ascii: "0") { fractionDigits = fractionDigits.dropLast() }
        }
        guard fractionDigits.count <= scale else { throw AmountError(.tooManyDecimals(allowed: scale)) }
        var value: Int64 = 0
        for digit in wholeDigits { value = try appending(digit, to: value) }
        for digit in fractionDigits { value = try appending(digit, to: value) }
        for _ in fractionDigits.count..<scale { value = try appending(UInt8(ascii: "0"), to: value) }
        return value
    }

    /// `value` × 10 + `digit`, or an out-of-range error.
    private static func appending(_ digit: UInt8, to value: Int64) throws(AmountError) -> Int64 {
        let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
        let (sum, carry) = shifted.addingReportingOverflow(Int64(digit &- UInt8(ascii: "0")))
        guard !overflow, !carry else { throw AmountError(.outOfRange) }
        return sum
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
