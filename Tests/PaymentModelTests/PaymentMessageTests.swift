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

    @Test func processingCodeParts() {
        let code = ProcessingCode("003000")
        #expect(code?.transactionType == "00" && code?.fromAccount == "30" && code?.toAccount == "00")
        #expect(ProcessingCode("00300") == nil)
    }
}

/// Amounts are integers of minor units, in the currency's precision.
struct AmountTests {
    @Test func currencyTableLoadsAndKnowsMinorUnits() throws {
        #expect(Currency("EUR")?.minorUnits == 2 && Currency("978")?.code == "EUR")
        #expect(Currency("JPY")?.minorUnits == 0)
        #expect(Currency("KWD")?.minorUnits == 3)
        #expect(Currency("XXQ") == nil)
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

    @Test func resultCodeRanges() {
        #expect(ResultCode.approved.category == .approved)
        #expect(ResultCode.insufficientFunds.category == .declined)
        #expect(ResultCode(4021)?.category == .reversal)
        #expect(ResultCode.issuerTimeout.category == .systemError)
        #expect(ResultCode(10000) == nil)
        #expect(ResultCode.approved.description == "0000")
    }
}
