import ISO8583
import PaymentModel
import Testing

/// Every type that can hold card data masks itself in `description`, `debugDescription`, string
/// interpolation and `dump`: printing a value by mistake never leaks it.
struct DefaultPrintingMasksTests {
    static let pan = "4761739001010119"
    static let track2 = "4761739001010119D27122011234567890"
    /// EMV data whose tag 5A is the PAN and tag 57 the track 2 equivalent.
    static let emv: [UInt8] = [0x5A, 0x08, 0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19,
                               0x57, 0x0A, 0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19, 0xD2, 0x71,
                               0x9F, 0x27, 0x01, 0x80]
    static let pinBlock: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0]

    /// What each way of printing shows.
    static func printed(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return ["\(value)", String(describing: value), String(reflecting: value), dumped]
    }

    /// Fails when any printing of `value` shows one of `secrets`: as text, as hexadecimal, or as
    /// the decimal byte list Swift prints for an array (`[52, 55, 54, …]`).
    static func expectMasked(_ value: Any, hiding secrets: [String], bytes: [[UInt8]] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        let forms = secrets.flatMap { [$0, Hex.encode(Array($0.utf8)), decimalList(Array($0.utf8))] }
            + bytes.flatMap { [Hex.encode($0), decimalList($0)] }
        for text in printed(value) {
            for secret in forms {
                #expect(!text.uppercased().contains(secret.uppercased()), "\(secret) printed in clear: \(text)", sourceLocation: sourceLocation)
            }
        }
    }

    static func decimalList(_ bytes: [UInt8]) -> String { bytes.map(String.init).joined(separator: ", ") }

    static var secrets: [String] { [pan, "4761739001010119D2712", "4761739001010119=2712"] }
    static var secretBytes: [[UInt8]] { [pinBlock, Array(emv[2..<10]), Array(emv[12..<22])] }

    @Test func iso8583Message() throws {
        let dialect = try Dialect.shipped("iso87binary")
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(2, Self.pan)
        message.set(35, "4761739001010119=27122011234567890")
        message.set(52, bytes: Self.pinBlock)
        message.set(55, bytes: Self.emv)
        Self.expectMasked(message, hiding: Self.secrets, bytes: Self.secretBytes)
        let decoded = try ISO8583Message(decoding: message.encoded(as: dialect), dialect: dialect)
        Self.expectMasked(decoded, hiding: Self.secrets, bytes: Self.secretBytes)
        #expect("\(decoded)".contains("DE 2 [16]"))
        // Its TLV objects mask their sensitive tags, nested or not.
        let objects = try decoded.tlv(55)
        Self.expectMasked(objects, hiding: Self.secrets, bytes: Self.secretBytes)
        #expect("\(objects)".contains("9F270180"))
    }

    @Test func subfieldValues() throws {
        let dialect = try SubfieldTests().dialect()
        var message = ISO8583Message(mti: MTI("0100")!)
        message.set(48, "01" + "03" + "REF" + "CV" + "03" + "987")
        let parts = try ISO8583Message(decoding: message.encoded(as: dialect), dialect: dialect).subfields(48, dialect: dialect)
        Self.expectMasked(parts[1], hiding: ["987"])
        #expect("\(parts[0])".contains("REF"))
    }

    @Test func paymentMessageAndItsParts() {
        var payment = PaymentMessage(kind: .financial, function: .request)
        payment.pan = PAN(Self.pan)
        payment.track2 = SensitiveText(Self.track2)
        payment.expiry = SensitiveText("2712")
        payment.emv = SensitiveBytes(Self.emv)
        payment.unmapped = [UnmappedField(key: "52", value: Hex.encode(Self.pinBlock), isSensitive: true)]
        Self.expectMasked(payment, hiding: Self.secrets + ["2712"], bytes: Self.secretBytes)
        Self.expectMasked(payment.pan!, hiding: [Self.pan])
        Self.expectMasked(payment.track2!, hiding: [Self.track2])
        Self.expectMasked(payment.emv!, hiding: [], bytes: Self.secretBytes)
        Self.expectMasked(payment.unmapped[0], hiding: [Hex.encode(Self.pinBlock)], bytes: [Self.pinBlock])
        #expect("\(payment.pan!)" == "476173******0119")
    }
}
