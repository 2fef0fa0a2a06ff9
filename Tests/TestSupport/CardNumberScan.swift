/// Finds what could be a clear card number in bytes written by the switch: every run of 13 to 19
/// digits (bounded by non-digits) that passes the Luhn check.
public enum CardNumberScan {
    /// The Luhn-valid runs found, masked (first six and last four) so a failing test does not print them.
    public static func luhnValidRuns(in bytes: [UInt8]) -> [String] {
        runs(in: bytes).map(masked)
    }

    /// Card numbers that card networks and payment providers publish for testing. The repository
    /// carries these and no other card number (`RepositoryCardNumberTests`).
    public static let publicTestCards: Set<String> = [
        "4761739001010119",  // Visa test card (Visa ADVT), the project's sample PAN
        "4111111111111111",  // Visa test card
        "4000056655665556",  // Visa debit test card (Stripe)
        "5500000000000004",  // Mastercard test card
        "5105105105105100",  // Mastercard test card
        "6011000000000004",  // Discover test card
    ]

    /// The Luhn-valid runs that could be a card number (ISO/IEC 7812 issues none starting with 0,
    /// the major industry identifier of no card scheme) and are not published test cards, masked.
    public static func unpublishedRuns(in bytes: [UInt8]) -> [String] {
        runs(in: bytes).filter { !$0.hasPrefix("0") && !publicTestCards.contains($0) }.map(masked)
    }

    /// First six and last four.
    private static func masked(_ text: String) -> String {
        String(text.prefix(6)) + String(repeating: "*", count: text.count - 10) + String(text.suffix(4))
    }

    /// Every run of 13 to 19 digits, bounded by non-digits, that passes the Luhn check.
    private static func runs(in bytes: [UInt8]) -> [String] {
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
                if isLuhnValid(digits) { found.append(String(decoding: bytes[first..<index], as: UTF8.self)) }
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
