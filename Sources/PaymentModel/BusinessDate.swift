/// A business (settlement) date: the day a transaction is booked to, which turns at a cutover time
/// rather than at midnight. Held as days since 1970-01-01, so finding one is integer arithmetic.
public struct BusinessDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let day: Int32

    public init(day: Int32) { self.day = day }

    /// The date of a proleptic Gregorian year, month and day, or nil when there is no such day.
    public init?(year: Int, month: Int, day: Int) {
        guard (1970...9999).contains(year), (1...12).contains(month),
              (1...BusinessDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        self.day = Int32(era * 146_097 + dayOfEra - 719_468)
    }

    /// Reads `yyyy-MM-dd`.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = BusinessDate.number(bytes[0..<4]), let month = BusinessDate.number(bytes[5..<7]),
              let day = BusinessDate.number(bytes[8..<10]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Year, month and day (Howard Hinnant's civil_from_days).
    public var components: (year: Int, month: Int, day: Int) {
        let z = Int(day) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, dayOfMonth)
    }

    /// `yyyy-MM-dd`, written into a small string: no allocation (the journal writes one per record).
    public var description: String {
        let (year, month, day) = components
        return String(unsafeUninitializedCapacity: 10) { buffer in
            func put(_ value: Int, at index: Int, width: Int) {
                var value = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[index + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, at: 0, width: 4)
            buffer[4] = UInt8(ascii: "-")
            put(month, at: 5, width: 2)
            buffer[7] = UInt8(ascii: "-")
            put(day, at: 8, width: 2)
            return 10
        }
    }

    /// ISO 8583 DE 15 as the field's length says: `MMDD` (1987, 4 digits) or `YYMMDD` (1993, 6).
    public func settlementDateField(digits: Int) -> String {
        let (year, month, day) = components
        let monthDay = BusinessDate.two(month) + BusinessDate.two(day)
        return digits >= 6 ? BusinessDate.two(year % 100) + monthDay : monthDay
    }

    /// The date a DE 15 of `MMDD` or `YYMMDD` names: a year-less `MMDD` is taken in the year that
    /// puts it nearest `near` (a settlement date is never months away from the day it is sent).
    public static func settlementDate(_ field: String, near: BusinessDate) -> BusinessDate? {
        let bytes = Array(field.utf8)
        switch bytes.count {
        case 6:
            guard let year = number(bytes[0..<2]), let month = number(bytes[2..<4]), let day = number(bytes[4..<6]) else { return nil }
            return BusinessDate(year: 2000 + year, month: month, day: day)
        case 4:
            guard let month = number(bytes[0..<2]), let day = number(bytes[2..<4]) else { return nil }
            let year = near.components.year
            let candidates = [year - 1, year, year + 1].compactMap { BusinessDate(year: $0, month: month, day: day) }
            return candidates.min { abs($0.day - near.day) < abs($1.day - near.day) }
        default:
            return nil
        }
    }

    public static func < (lhs: BusinessDate, rhs: BusinessDate) -> Bool { lhs.day < rhs.day }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// When a business day turns: a cutover time of day in a fixed UTC offset. Transactions at or
/// after the cutover belong to the next calendar day's business date (a 21:00 cutover books
/// 21:30 on 1 December to 2 December); a 00:00 cutover is the calendar date.
public struct BusinessDay: Sendable, Hashable {
    /// Seconds after local midnight, 0 ..< 86400.
    public var cutover: Int
    /// The local time's offset from UTC, in seconds (east positive).
    public var utcOffset: Int

    public init(cutover: Int = 0, utcOffset: Int = 0) {
        self.cutover = cutover
        self.utcOffset = utcOffset
    }

    /// The business date of an instant given in Unix milliseconds.
    public func date(atUnixMilliseconds milliseconds: Int64) -> BusinessDate {
        // Floor division: instants before 1970 do not occur, but a negative one must not trap.
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let shifted = seconds + Int64(utcOffset) + Int64((86_400 - cutover) % 86_400)
        let day = shifted >= 0 ? shifted / 86_400 : (shifted - 86_399) / 86_400
        return BusinessDate(day: Int32(clamping: day))
    }

    /// Unix milliseconds of the cutover that starts `date`.
    public func start(of date: BusinessDate) -> Int64 {
        (Int64(date.day) * 86_400 - Int64((86_400 - cutover) % 86_400) - Int64(utcOffset)) * 1000
    }

    /// Reads `HH:MM` or `HH:MM:SS` (a cutover) into seconds after midnight.
    public static func timeOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
              let hours = Int(parts[0]), let minutes = Int(parts[1]), hours < 24, minutes < 60 else { return nil }
        let seconds = parts.count == 3 ? Int(parts[2]) ?? 60 : 0
        guard seconds < 60 else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }

    /// Reads a UTC offset, `+HH:MM` or `-HH:MM` (or `Z`), into seconds.
    public static func utcOffset(_ text: String) -> Int? {
        if text == "Z" || text == "UTC" { return 0 }
        guard let sign = text.first, sign == "+" || sign == "-", text.count == 6, let time = timeOfDay(String(text.dropFirst())),
              time <= 14 * 3600 else {
            return nil
        }
        return sign == "-" ? -time : time
    }
}
