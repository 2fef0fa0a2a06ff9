import PaymentModel
import Testing

/// IBANs are personal data: shown with the country code, check digits and last four only.
struct IBANTests {
    @Test(arguments: [
        ("DE89370400440532013000", "DE89**************3000"),
        ("FR1420041010050500013M02606", "FR14*******************2606"),
        ("NO9386011117947", "NO93*******7947"),
        ("DE891234", "********"),
        ("", ""),
    ])
    func masked(iban: String, shown: String) {
        #expect(IBAN.masked(iban) == shown)
        // Nothing between the first four and the last four survives.
        if iban.count > 8 { #expect(!IBAN.masked(iban).contains(String(Array(iban)[4..<iban.count - 4]))) }
    }

    @Test(arguments: ["DE89370400440532013000", "FR1420041010050500013M02606", "GB82WEST12345698765432", "XX00a"])
    func theSchemaPatternAccepts(iban: String) {
        #expect(IBAN.hasShape(iban))
    }

    @Test(arguments: ["DE89**************3000", "de89370400440532013000", "DE8", "D189370400440532013000", "DE89 3704 0044 0532 0130 00",
                      "DE89" + String(repeating: "1", count: 31)])
    func theSchemaPatternRefuses(iban: String) {
        #expect(!IBAN.hasShape(iban))
    }
}
