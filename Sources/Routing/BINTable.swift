/// A BIN table read from CSV: rows of `low,high[,label]`, each bound one to eight digits.
///
/// A bound shorter than eight digits covers every eight-digit key it prefixes, so `400000,499999`
/// is `40000000...49999999`. A header line (one whose first cell is not digits) is skipped.
public struct BINTable: Sendable {
    /// Every row.
    public let all: IntervalSet
    /// The rows of each label.
    public let byLabel: [String: IntervalSet]
    /// How many rows the file had.
    public let rowCount: Int

    /// Parses the CSV text; errors name file:line:column.
    public static func parse(csv: String, file: String) throws(RoutingDiagnostic) -> BINTable {
        var ranges: [ClosedRange<Int64>] = []
        var labelled: [String: [ClosedRange<Int64>]] = [:]
        var lineNumber = 0
        for line in csv.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = line.hasSuffix("\r") ? line.dropLast() : line
            if text.allSatisfy({ $0 == " " }) || text.hasPrefix("#") { continue }
            let cells = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            if lineNumber == 1, let first = cells.first, !first.allSatisfy(\.isASCIIDigit) || first.isEmpty { continue }
            func fail(_ message: String, cell: Int) -> RoutingDiagnostic {
                let column = cells.prefix(cell).reduce(1) { $0 + $1.count + 1 }
                return RoutingDiagnostic(.error, .binTable, at: SourcePosition(file: file, line: lineNumber, column: column), message)
            }
            guard (2...3).contains(cells.count) else { throw fail("a BIN row is low,high or low,high,label", cell: 0) }
            guard let low = BINKey.lowerBound(of: cells[0]) else { throw fail("'\(cells[0])' is not a BIN of 1 to 8 digits", cell: 0) }
            guard let high = BINKey.upperBound(of: cells[1]) else { throw fail("'\(cells[1])' is not a BIN of 1 to 8 digits", cell: 1) }
            guard low <= high else { throw fail("the range \(cells[0])-\(cells[1]) is empty (low above high)", cell: 1) }
            ranges.append(low...high)
            if cells.count == 3, !cells[2].isEmpty { labelled[cells[2], default: []].append(low...high) }
        }
        return BINTable(all: IntervalSet(ranges), byLabel: labelled.mapValues { IntervalSet($0) }, rowCount: ranges.count)
    }
}

/// The BIN key space: the first eight PAN digits as a number, 0...99,999,999.
enum BINKey {
    static let digits = 8
    static let upper: Int64 = 99_999_999

    /// The key of a PAN's first eight digits (PANs have at least 12).
    @inline(__always)
    static func of(_ pan: UnsafeBufferPointer<UInt8>) -> Int64 {
        var key: Int64 = 0
        var count = 0
        for byte in pan {
            key = key * 10 + Int64(byte &- 0x30)
            count += 1
            if count == digits { break }
        }
        return key
    }

    /// The smallest key a prefix of 1 to 8 digits covers.
    static func lowerBound(of prefix: some StringProtocol) -> Int64? {
        guard (1...digits).contains(prefix.count), prefix.allSatisfy(\.isASCIIDigit), let value = Int64(prefix) else { return nil }
        return value * scale(prefix.count)
    }

    /// The largest key a prefix of 1 to 8 digits covers.
    static func upperBound(of prefix: some StringProtocol) -> Int64? {
        guard let low = lowerBound(of: prefix) else { return nil }
        return low + scale(prefix.count) - 1
    }

    private static func scale(_ length: Int) -> Int64 {
        var scale: Int64 = 1
        for _ in length..<digits { scale *= 10 }
        return scale
    }
}

/// The BIC key space: the first eight characters of a BIC in base 37 (0 pads, 1-10 digits, 11-36
/// letters A-Z), so a BIC prefix is an interval, indexed the way BIN prefixes are.
///
/// A character outside A-Z and 0-9 ends the key: a message BIC keys as its valid prefix padded, and a
/// rule prefix covers every key its valid prefix covers. Both only widen the index, never narrow it.
enum BICKey {
    static let length = 8

    @inline(__always)
    static func of(_ text: String) -> Int64 {
        var key: Int64 = 0, count = 0, valid = true
        for byte in text.utf8 {
            if count == length { break }
            let digit = valid ? value(byte) : 0
            if digit == 0 { valid = false }
            key = key &* 37 &+ digit
            count += 1
        }
        while count < length { key = key &* 37; count += 1 }
        return key
    }

    /// The keys of every BIC starting with `prefix`.
    static func interval(_ prefix: String) -> ClosedRange<Int64> {
        var low: Int64 = 0, high: Int64 = 0, count = 0
        for byte in prefix.utf8 {
            guard count < length else { break }
            let digit = value(byte)
            if digit == 0 { break }
            low = low * 37 + digit
            high = high * 37 + digit
            count += 1
        }
        while count < length { low = low * 37; high = high * 37 + 36; count += 1 }
        return low...high
    }

    @inline(__always)
    private static func value(_ byte: UInt8) -> Int64 {
        switch byte {
        case 0x30...0x39: Int64(byte - 0x30) + 1
        case 0x41...0x5A: Int64(byte - 0x41) + 11
        default: 0
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
