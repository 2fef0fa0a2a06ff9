extension PAN {
    /// A published test card number (issued to nobody): a test range and an account number followed
    /// by their Luhn check digit. Sources build test cards with it, so no whole card number is
    /// written outside test data.
    public static func testCard(range: String, account: String) -> String {
        let digits = (range + account).utf8.map { Int($0 &- UInt8(ascii: "0")) }
        // From the right, every second digit (starting with the one next to the check digit) is doubled.
        let sum = digits.reversed().enumerated().reduce(0) { sum, item in
            let doubled = item.offset % 2 == 0 ? item.element * 2 : item.element
            return sum + (doubled > 9 ? doubled - 9 : doubled)
        }
        return range + account + String((10 - sum % 10) % 10)
    }
}
