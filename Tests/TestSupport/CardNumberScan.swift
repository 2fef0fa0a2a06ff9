/// Finds what could be a clear card number in bytes written by the switch: every run of 13 to 19
/// digits (bounded by non-digits) that passes the Luhn check.
public enum CardNumberScan {
    /// The Luhn-valid runs found, masked (first six and last four) so a failing test does not print them.
    public static func luhnValidRuns(in bytes: [UInt8]) -> [String] {
        var found: [String] = []
        var start: Int? = nil
        for index in 0...bytes.count {
            let isDigit = index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39
            if isDigit {
                if start == nil { start = index }
                continue
            }
            if let first = start, (13...19).contains(index - first) {
                let digits = bytes[first..<index].map { Int($0 - 0x30) }
                if isLuhnValid(digits) {
                    let text = String(decoding: bytes[first..<index], as: UTF8.self)
                    found.append(String(text.prefix(6)) + String(repeating: "*", count: text.count - 10) + String(text.suffix(4)))
                }
            }
            start = nil
        }
        return found
    }

    public static func isLuhnValid(_ digits: [Int]) -> Bool {
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            let value = position % 2 == 1 ? digit * 2 : digit
            sum += value > 9 ? value - 9 : value
        }
        return sum % 10 == 0
    }
}

extension Array where Element == UInt8 {
    /// Whether `bytes` occur in these bytes, in order and side by side.
    public func contains(bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= count else { return false }
        return (0...(count - bytes.count)).contains { start in self[start..<start + bytes.count].elementsEqual(bytes) }
    }
}
