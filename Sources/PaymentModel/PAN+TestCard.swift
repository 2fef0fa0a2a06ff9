extension PAN {
    /// A published test card number (issued to nobody): a test range and an account number followed
    /// by their Luhn check digit. Sources build test cards with it, so no whole card number is
    /// written outside test data.
    public static func testCard(range: String, account: String) -> String {
        let digits = Array((range + account).utf8)
        return range + account + String(UnicodeScalar(UInt8(ascii: "0") + luhnCheckDigit(digits)))
    }

    /// The Luhn check digit (0–9) that completes `digits`, ASCII digits without their check digit.
    public static func luhnCheckDigit(_ digits: some BidirectionalCollection<UInt8>) -> UInt8 {
        // From the right, every second digit (starting with the one next to the check digit) is doubled.
        var sum = 0
        for (offset, character) in digits.reversed().enumerated() {
            let digit = Int(character &- UInt8(ascii: "0"))
            let doubled = offset % 2 == 0 ? digit * 2 : digit
            sum += doubled > 9 ? doubled - 9 : doubled
        }
        return UInt8((10 - sum % 10) % 10)
    }

    /// Whether ASCII digits end in their Luhn check digit: true for every card number, and for one
    /// in ten random digit strings.
    public static func isLuhnValid(_ digits: some BidirectionalCollection<UInt8>) -> Bool {
        guard let last = digits.last, digits.count >= 2 else { return false }
        return luhnCheckDigit(digits.dropLast()) == last &- UInt8(ascii: "0")
    }
}
