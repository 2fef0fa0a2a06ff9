import Foundation
import PaymentModel

/// A simple type of the schema table with its facets: what a leaf's text (or an attribute's
/// value) must be for the XSD to accept it.
struct ISO20022SimpleType: @unchecked Sendable {
    /// The XSD built-in type the restriction starts from.
    enum Base: String, Sendable {
        case string, decimal, date, dateTime, time, boolean, base64Binary, gYear
    }

    let name: String
    let base: Base
    var minLength: Int?
    var maxLength: Int?
    var pattern: String?
    /// Compiled once; XSD patterns match the whole value. A pattern ``XSDPattern`` does not read
    /// falls back to `Regex` (which holds no mutable state once built, hence `@unchecked Sendable`).
    var compiled: XSDPattern?
    var regex: Regex<AnyRegexOutput>?
    var enumeration: Set<String> = []
    var totalDigits: Int?
    var fractionDigits: Int?
    var minInclusive: Decimal?
    var maxInclusive: Decimal?
    var minExclusive: Decimal?
    var maxExclusive: Decimal?

    init(name: String, base: String, facets: [String]) {
        self.name = name
        self.base = Base(rawValue: base) ?? .string
        for facet in facets {
            guard let equals = facet.firstIndex(of: "=") else { continue }
            let value = String(facet[facet.index(after: equals)...])
            switch facet[..<equals] {
            case "minLength": minLength = Int(value)
            case "maxLength": maxLength = Int(value)
            case "length": minLength = Int(value); maxLength = Int(value)
            case "pattern":
                pattern = value
                compiled = XSDPattern(value)
                if compiled == nil { regex = try? Regex(value) }
            case "enumeration": enumeration.insert(value)
            case "totalDigits": totalDigits = Int(value)
            case "fractionDigits": fractionDigits = Int(value)
            case "minInclusive": minInclusive = Decimal(string: value)
            case "maxInclusive": maxInclusive = Decimal(string: value)
            case "minExclusive": minExclusive = Decimal(string: value)
            case "maxExclusive": maxExclusive = Decimal(string: value)
            default: continue
            }
        }
    }

    /// Why `value` is not of this type (naming the facet), or nil when it is.
    func violation(of value: String) -> String? {
        switch base {
        case .string: break
        case .decimal: if let reason = decimalViolation(value) { return reason }
        case .date: if !ISO20022SimpleType.isDate(value) { return "'\(value)' is not an xs:date (YYYY-MM-DD, with an optional time zone)" }
        case .dateTime:
            if !ISO20022SimpleType.isDateTime(value) { return "'\(value)' is not an xs:dateTime (YYYY-MM-DDThh:mm:ss, optional fraction and time zone)" }
        case .time: if !ISO20022SimpleType.isTime(value) { return "'\(value)' is not an xs:time (hh:mm:ss, optional fraction and time zone)" }
        case .boolean: if !["true", "false", "1", "0"].contains(value) { return "'\(value)' is not an xs:boolean" }
        case .gYear: if !ISO20022SimpleType.isYear(value) { return "'\(value)' is not an xs:gYear (YYYY, with an optional time zone)" }
        case .base64Binary:
            // Lengths count the octets the text stands for.
            guard let octets = Data(base64Encoded: value.filter { !$0.isWhitespace }) else { return "the value is not xs:base64Binary" }
            if let minLength, octets.count < minLength { return "\(name) has minLength \(minLength) octets; the value has \(octets.count)" }
            if let maxLength, octets.count > maxLength { return "\(name) has maxLength \(maxLength) octets; the value has \(octets.count)" }
            return nil
        }
        if minLength != nil || maxLength != nil {
            let length = value.unicodeScalars.count
            if let minLength, length < minLength { return "\(name) has minLength \(minLength); the value has \(length) characters" }
            if let maxLength, length > maxLength { return "\(name) has maxLength \(maxLength); the value has \(length) characters" }
        }
        if !enumeration.isEmpty, !enumeration.contains(value) {
            return "'\(value)' is not in the code list of \(name) (\(enumeration.sorted().prefix(12).joined(separator: ", "))\(enumeration.count > 12 ? ", …" : ""))"
        }
        if let pattern {
            let matches = compiled.map { $0.matches(value) } ?? regex.map { (try? $0.wholeMatch(in: value)) != nil } ?? false
            // An IBAN is personal data: named masked, as everywhere else.
            let shown = name.hasPrefix("IBAN") ? IBAN.masked(value) : value
            if !matches { return "'\(shown)' does not match the pattern of \(name), \(pattern)" }
        }
        return nil
    }

    /// The decimal checks: lexical form, digits (counted in the value, as the XSD counts them:
    /// leading zeros and trailing fraction zeros do not count) and bounds.
    private func decimalViolation(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        var integer: [UInt8] = []
        var fraction: [UInt8] = []
        var seenPoint = false
        for byte in bytes[index...] {
            if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                if seenPoint { fraction.append(byte) } else { integer.append(byte) }
            } else {
                return "'\(value)' is not an xs:decimal"
            }
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return "'\(value)' is not an xs:decimal" }
        let significantInteger = integer.drop { $0 == UInt8(ascii: "0") }
        let significantFraction = fraction.reversed().drop { $0 == UInt8(ascii: "0") }
        if let fractionDigits, significantFraction.count > fractionDigits {
            return "\(name) has fractionDigits \(fractionDigits); '\(value)' has \(significantFraction.count)"
        }
        if let totalDigits, significantInteger.count + significantFraction.count > totalDigits {
            return "\(name) has totalDigits \(totalDigits); '\(value)' has \(significantInteger.count + significantFraction.count)"
        }
        if minInclusive != nil || maxInclusive != nil || minExclusive != nil || maxExclusive != nil {
            guard let number = Decimal(string: value, locale: Locale(identifier: "en_US_POSIX")) else { return "'\(value)' is not an xs:decimal" }
            if let minInclusive, number < minInclusive { return "\(name) has minInclusive \(minInclusive); '\(value)' is below" }
            if let maxInclusive, number > maxInclusive { return "\(name) has maxInclusive \(maxInclusive); '\(value)' is above" }
            if let minExclusive, number <= minExclusive { return "\(name) has minExclusive \(minExclusive); '\(value)' is not above" }
            if let maxExclusive, number >= maxExclusive { return "\(name) has maxExclusive \(maxExclusive); '\(value)' is not below" }
        }
        return nil
    }

    // MARK: Dates and times (XSD 1.0 lexical forms)

    static func isDate(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let end = datePart(bytes, from: 0) else { return false }
        return isTimeZone(bytes, from: end)
    }

    static func isDateTime(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let dateEnd = datePart(bytes, from: 0), dateEnd < bytes.count, bytes[dateEnd] == UInt8(ascii: "T"),
              let end = timePart(bytes, from: dateEnd + 1) else { return false }
        return isTimeZone(bytes, from: end)
    }

    static func isTime(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let end = timePart(bytes, from: 0) else { return false }
        return isTimeZone(bytes, from: end)
    }

    static func isYear(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        var index = bytes.first == UInt8(ascii: "-") ? 1 : 0
        let start = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        // Four digits, or more without a leading zero.
        guard index - start >= 4, index - start == 4 || bytes[start] != UInt8(ascii: "0") else { return false }
        return isTimeZone(bytes, from: index)
    }

    /// `YYYY-MM-DD` (four or more year digits, an optional leading `-`) with a valid day; where it ends.
    private static func datePart(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let yearStart = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        guard index - yearStart >= 4, index - yearStart <= 9, let year = number(bytes, yearStart, index - yearStart) else { return nil }
        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "-"), bytes[index + 3] == UInt8(ascii: "-"),
              let month = number(bytes, index + 1, 2), let day = number(bytes, index + 4, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return index + 6
    }

    /// `hh:mm:ss` with an optional fraction (`24:00:00` allowed); where it ends.
    private static func timePart(_ bytes: [UInt8], from start: Int) -> Int? {
        guard start + 8 <= bytes.count, bytes[start + 2] == UInt8(ascii: ":"), bytes[start + 5] == UInt8(ascii: ":"),
              let hour = number(bytes, start, 2), let minute = number(bytes, start + 3, 2), let second = number(bytes, start + 6, 2),
              minute <= 59, second <= 59, hour <= 23 || (hour == 24 && minute == 0 && second == 0) else { return nil }
        var index = start + 8
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let digits = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > digits else { return nil }
        }
        return index
    }

    /// Nothing, `Z`, or `±hh:mm` (up to 14:00) from `start` to the end.
    private static func isTimeZone(_ bytes: [UInt8], from start: Int) -> Bool {
        let rest = bytes.count - start
        if rest == 0 { return true }
        if rest == 1 { return bytes[start] == UInt8(ascii: "Z") }
        guard rest == 6, bytes[start] == UInt8(ascii: "+") || bytes[start] == UInt8(ascii: "-"), bytes[start + 3] == UInt8(ascii: ":"),
              let hour = number(bytes, start + 1, 2), let minute = number(bytes, start + 4, 2), minute <= 59,
              hour < 14 || (hour == 14 && minute == 0) else { return false }
        return true
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The decimal number in `count` digits at `start`; nil when one is not a digit.
    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for byte in bytes[start..<start + count] {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
