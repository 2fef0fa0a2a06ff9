import PaymentModel
import Testing

/// The canonical message never prints card data in clear.
struct PaymentMessageTests {
    @Test func panAndTrackMaskThemselvesEverywhere() {
        var message = PaymentMessage(kind: .financial, function: .request)
        message.pan = PAN("4761739001010119")
        message.track2 = SensitiveText("4761739001010119=2712")
        let printed = ["\(message)", String(describing: message), String(reflecting: message), "\(message.pan!)"]
        for text in printed {
            #expect(!text.contains("4761739001010119"))
        }
        #expect("\(message.pan!)" == "476173******0119")
        #expect(message.pan?.bin() == "476173" && message.pan?.bin(length: 8) == "47617390")
        #expect(message.pan?.revealed == "4761739001010119")
    }

    @Test(arguments: ["12345678901", "4761a39001010119", "47617390010101190123"])
    func invalidPANsAreRefused(text: String) {
        #expect(PAN(text) == nil)
    }

    @Test(arguments: ["4761739001010119", "476173900101011", "4761739001010119123"])
    func panKeepsItsDigits(text: String) throws {
        let pan = try #require(PAN(text))
        #expect(pan.revealed == text && pan == PAN(text) && pan.bin() == String(text.prefix(6)))
    }

    /// Only ASCII digits make a PAN: a digit with a combining mark sorts between "0" and "9" as a
    /// Character, but is not a digit.
    @Test func panOfNonASCIIDigitsIsRefused() {
        #expect(PAN("4761739001010119\u{301}") == nil)
        #expect(PAN("٤٧٦١٧٣٩٠٠١٠١٠١١٩") == nil)
    }

    /// Short ASCII text is held inline, anything else as a string: both read back and compare the same.
    @Test(arguments: ["4761739001010119=27122011143804400000", "", String(repeating: "7", count: 41), "Zürich 4761=2712"])
    func sensitiveTextReadsBackWhateverItHolds(text: String) {
        let value = SensitiveText(text)
        #expect(value.revealed == text && value == SensitiveText(text) && value.description == String(repeating: "*", count: text.count))
        #expect(value != SensitiveText(text + "0"))
    }

    /// A message whose credit transfer values are set back to empty equals one never given any.
    @Test func creditTransferValuesSetBackToEmptyEqualAnAbsentGroup() {
        let card = PaymentMessage(kind: .financial, function: .request)
        var changed = card
        changed.debtorAgent = "BANKDEFFXXX"
        changed.identifiers.uetr = "f0e1d2c3-b4a5-4c6d-8e7f-901234567890"
        changed.remittanceInformation.append("invoice 42")
        #expect(changed != card)
        #expect(changed.debtorAgent == "BANKDEFFXXX" && changed.identifiers.uetr?.hasPrefix("f0e1") == true)
        #expect(changed.remittanceInformation == ["invoice 42"] && card.remittanceInformation.isEmpty)
        changed.debtorAgent = nil
        changed.identifiers = Identifiers()
        changed.remittanceInformation = []
        #expect(changed == card && changed.hashValue == card.hashValue)
    }

    @Test func processingCodeParts() {
        let code = ProcessingCode("003000")
        #expect(code?.transactionType == "00" && code?.fromAccount == "30" && code?.toAccount == "00")
        #expect(code?.description == "003000" && code == ProcessingCode("003000") && code != ProcessingCode("003001"))
        #expect(code?.number == 3000 && ProcessingCode("219876")?.number == 219_876)
        #expect(ProcessingCode("00300") == nil && ProcessingCode("00300a") == nil && ProcessingCode("٠٠٣٠٠٠") == nil)
    }

    /// Short texts live inline up to 23 bytes and out of line beyond: every length reads back as
    /// set, and a message equals (and hashes as) one given the same values by another route.
    @Test(arguments: ["", "1", "123", "1234", "1234567", "12345678", "123456789012345", "1234567890123456",
                      "12345678901234567890123", "123456789012345678901234", "Zürich Bahnhofstrasse 1", String(repeating: "é", count: 40)])
    func shortTextsReadBackWhateverTheirLength(text: String) {
        var message = PaymentMessage(kind: .financial, function: .request)
        message.stan = text
        message.merchant = Merchant(id: "M1", name: text, city: "Basel")
        message.original = OriginalData(mti: "0200", acquirer: text)
        #expect(message.stan == text && message.merchant?.name == text && message.merchant?.city == "Basel")
        #expect(message.merchantID == "M1" && message.original?.acquirer == text && message.original?.stan == nil)

        var other = PaymentMessage(kind: .financial, function: .request)
        other.original = OriginalData(mti: "0200", acquirer: text)
        other.merchant = Merchant(id: "M1", name: "something else entirely, and long", city: "Basel")
        other.merchant?.name = text
        other.stan = "999"
        #expect(other != message)
        other.stan = text
        #expect(other == message && other.hashValue == message.hashValue)

        // A long text set back to a short one, or to none, leaves nothing behind.
        var cleared = message
        cleared.stan = "x"
        cleared.stan = nil
        cleared.merchant = nil
        cleared.original = nil
        #expect(cleared == PaymentMessage(kind: .financial, function: .request))
        #expect(cleared.hashValue == PaymentMessage(kind: .financial, function: .request).hashValue)
        #expect(message.stan == text, "a copy's change does not reach the message it was copied from")
    }

    /// A merchant with no value is still a merchant, as before the texts moved inline.
    @Test func anEmptyMerchantIsStillPresent() {
        var message = PaymentMessage(kind: .financial, function: .request)
        #expect(message.merchant == nil && message.merchantID == nil)
        message.merchant = Merchant()
        #expect(message.merchant == Merchant() && message != PaymentMessage(kind: .financial, function: .request))
        message.merchant?.categoryCode = "5411"
        #expect(message.merchantCategoryCode == "5411" && message.merchant?.categoryCode == "5411")
    }
}

/// Amounts are integers of minor units, in the currency's precision.
struct AmountTests {
    @Test func currencyTableLoadsAndKnowsMinorUnits() throws {
        #expect(Currency("EUR")?.minorUnits == 2 && Currency("978")?.code == "EUR")
        #expect(Currency("JPY")?.minorUnits == 0)
        #expect(Currency("KWD")?.minorUnits == 3)
        #expect(Currency("XXQ") == nil)
        #expect(Currency("JPY")?.numeric == "392" && Currency("036")?.code == "AUD" && Currency("AUD")?.numeric == "036")
        #expect(Currency("EUR") == Currency("978") && Currency("EUR") != Currency("USD"))
    }

    @Test(arguments: [("12.30", "EUR", Int64(1230)), ("12", "EUR", 1200), ("0.5", "EUR", 50), ("1500", "JPY", 1500), ("1.234", "KWD", 1234)])
    func decimalTextParses(text: String, code: String, minor: Int64) {
        let amount = Amount(decimal: text, currency: Currency(code)!)
        #expect(amount?.minorUnits == minor)
    }

    @Test(arguments: [("12.345", "EUR"), ("1.5", "JPY"), ("-1.00", "EUR"), ("1,00", "EUR"), ("", "EUR"), ("99999999999999999999", "EUR")])
    func decimalTextOutsideTheCurrencyIsRefused(text: String, code: String) {
        #expect(Amount(decimal: text, currency: Currency(code)!) == nil)
    }

    @Test func decimalTextRoundTrips() {
        #expect(Amount(minorUnits: 1230, currency: Currency("EUR")!).decimalText == "12.30")
        #expect(Amount(minorUnits: 5, currency: Currency("KWD")!).decimalText == "0.005")
        #expect(Amount(minorUnits: 1500, currency: Currency("JPY")!).decimalText == "1500")
    }

    /// The check a decode makes on every amount agrees with the text it stands for, and refuses
    /// every other way of writing the same value.
    @Test(arguments: [(Int64(1_250_075), "EUR"), (0, "EUR"), (5, "EUR"), (100, "EUR"), (5, "KWD"), (1_000, "KWD"),
                      (0, "JPY"), (1_500, "JPY"), (Int64.max, "EUR"), (Int64.max, "JPY")])
    func decimalTextIsRecognisedWithoutBeingMade(minorUnits: Int64, code: String) {
        let amount = Amount(minorUnits: minorUnits, currency: Currency(code)!)
        let text = amount.decimalText
        #expect(amount.isDecimalText(text))
        for other in ["0" + text, text + "0", String(text.dropLast()), String(text.map { $0 == "." ? "," : $0 }), "", " " + text] where other != text {
            #expect(!amount.isDecimalText(other), "\(other) taken as \(text)")
        }
    }

    @Test func resultCodeRanges() {
        #expect(ResultCode.approved.category == .approved)
        #expect(ResultCode.insufficientFunds.category == .declined)
        #expect(ResultCode(4021)?.category == .reversal)
        #expect(ResultCode.issuerTimeout.category == .systemError)
        #expect(ResultCode(10000) == nil)
        #expect(ResultCode.approved.description == "0000")
    }
}

/// The shipped result-code table and the mappings the issue names.
struct ResultCodeTableTests {
    let table = ResultCodeTable.shipped

    @Test(arguments: [("00", "ACSC", nil), ("51", "RJCT", "AM04"), ("14", "RJCT", "AC01"), ("91", "RJCT", "AB08")] as [(String, String, String?)])
    func iso87CodesMapToISO20022(iso87: String, status: String, reason: String?) throws {
        let canonical = try #require(table.fromISO87(iso87))
        let row = try #require(table.row(canonical))
        #expect(row.status == status && row.reason == reason)
        #expect(table.fromISO20022(status: status, reason: reason).flatMap { table.row($0)?.iso87 } == iso87)
    }

    @Test func timeoutIsAB05() {
        #expect(table.row(.issuerTimeout)?.reason == "AB05")
        #expect(table.fromISO20022(status: "RJCT", reason: "AB05") == .issuerTimeout)
    }

    @Test func iso93ActionCodes() {
        #expect(table.fromISO93("000") == .approved)
        #expect(table.fromISO93("116") == .insufficientFunds)
        #expect(table.row(.insufficientFunds)?.iso93 == "116")
    }

    @Test func shippedTablesLoad() throws {
        #expect(try ResultCodeTable.loadShipped().rows.count >= 20)
        #expect(try Currency.loadShipped() >= 50)
    }
}

/// Amount parsing: every step overflow-checked, every refusal with its reason.
struct AmountParsingTests {
    static let eur = Currency("EUR")!, jpy = Currency("JPY")!, kwd = Currency("KWD")!

    @Test(arguments: [
        ("12.30", "EUR", Int64(1230)), ("12.3", "EUR", 1230), ("12", "EUR", 1200), ("0", "JPY", 0),
        ("1.234", "KWD", 1234), ("92233720368547758.07", "EUR", Int64.max), ("9223372036854775807", "JPY", Int64.max),
    ])
    func parses(text: String, currency: String, minor: Int64) throws {
        #expect(try Amount(parsing: text, currency: Currency(currency)!).minorUnits == minor)
    }

    @Test(arguments: [
        ("92233720368547758.08", "EUR", AmountError.Reason.outOfRange), ("92233720368547758.99", "EUR", .outOfRange),
        ("9223372036854775808", "JPY", .outOfRange), ("100000000000000000000", "JPY", .outOfRange),
        ("1.5", "JPY", .tooManyDecimals(allowed: 0)), ("1.2345", "KWD", .tooManyDecimals(allowed: 3)),
        ("", "EUR", .notDecimal), ("-1", "EUR", .notDecimal), ("+1", "EUR", .notDecimal), ("1.", "EUR", .notDecimal),
        (".5", "EUR", .notDecimal), ("1e3", "EUR", .notDecimal), ("1.2.3", "EUR", .notDecimal), ("١٢", "EUR", .notDecimal),
    ])
    func refuses(text: String, currency: String, reason: AmountError.Reason) {
        #expect(throws: AmountError(reason)) { try Amount(parsing: text, currency: Currency(currency)!) }
        #expect(Amount(decimal: text, currency: Currency(currency)!) == nil)
    }

    @Test func scaledIgnoresOnlyTrailingZerosWhenAsked() throws {
        #expect(try Amount.scaled("1.500", scale: 2, ignoringTrailingZeros: true) == 150)
        #expect(throws: AmountError(.tooManyDecimals(allowed: 2))) { try Amount.scaled("1.500", scale: 2) }
        #expect(throws: AmountError(.tooManyDecimals(allowed: 2))) { try Amount.scaled("1.505", scale: 2, ignoringTrailingZeros: true) }
    }
}
