// Fuzz target: the issuer simulator's behaviour file (IssuerBehaviour.load).
//
// Input: UTF-8 text (other bytes are skipped). A behaviour that loads answers fixed canonical
// requests: card payments in currencies with 0, 2 and 3 minor units (the largest a 12-digit
// ISO 8583 amount), credit transfers (the largest with the 18 digits ISO 20022 amounts allow), and
// a request without amount or PAN, under ISO 8583 and ISO 20022 message names. The answer must be the default or one of the rules' results.
import FuzzMain
import PaymentModel
import Simulators

let requests: [(PaymentMessage, String)] = {
    func card(_ pan: String, _ minor: Int64, _ currency: String) -> PaymentMessage {
        var message = PaymentMessage(kind: .authorization, function: .request)
        message.pan = PAN(pan)
        message.amount = Currency(currency).map { Amount(minorUnits: minor, currency: $0) }
        return message
    }
    func transfer(_ minor: Int64) -> PaymentMessage {
        var message = PaymentMessage(kind: .creditTransfer, function: .request)
        message.amount = Currency("EUR").map { Amount(minorUnits: minor, currency: $0) }
        return message
    }
    // Published test cards, built with their check digit: no card number is written here.
    let visa = PAN.testCard(range: "411111", account: "111111111")
    return [
        (card(visa, 150_000, "EUR"), "0100"),
        (card(PAN.testCard(range: "476173", account: "900101011"), 1_250, "978"), "0200"),
        (card(PAN.testCard(range: "550000", account: "000000000"), 999_999_999_999, "JPY"), "0200"),
        (card(visa, 999_999_999_999, "KWD"), "1100"),
        (card(PAN.testCard(range: "601100", account: "000000000"), 0, "USD"), "0100"),
        (transfer(1_250), "pacs.008.001.08"),
        (transfer(999_999_999_999_999_999), "pacs.008.001.08"),  // 9999999999999999.99 EUR
        (PaymentMessage(kind: .statusRequest, function: .request), "pacs.028.001.03"),
    ]
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = String(validating: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self) else { return 0 }
    let behaviour: IssuerBehaviour
    do {
        behaviour = try IssuerBehaviour.load(yaml: text, file: "issuer.yaml")
    } catch {
        _ = error.description
        return 0
    }
    let possible = Set(behaviour.rules.filter(\.answers).map(\.result.value) + [behaviour.defaultResult.value])
    for (request, name) in requests {
        guard let result = behaviour.result(for: request, messageName: name) else {
            if behaviour.rules.allSatisfy(\.answers) { fatalError("no answer, and no rule says answer: false\n\(text)") }
            continue
        }
        if !possible.contains(result.value) {
            fatalError("result \(result) is neither the default nor a rule's result\n\(text)")
        }
    }
    return 0
}

/// libFuzzer's entry point (see Sources/FuzzMain/FuzzMain.c).
@_cdecl("behaviour_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    payswitch_fuzz_main(argc, argv)
}
