import Foundation
import ISO8583
import PaymentModel
import Simulators
import Synchronization

/// The demo's traffic: POS terminals in ISO 8583 and an acquirer host in ISO 20022, open loop, until stopped.
enum DemoTraffic {
    // Published test card numbers only (issued to nobody), never a real card; the demo prints none
    // of them in clear (DemoCommandTests checks its output). Built from a test range and an account
    // number with their Luhn check digit, so no whole card number is written in the sources.
    /// The sample 0200's own card: the Visa test number of the EMV and jPOS sample messages.
    static let visa = SampleMessages.financialRequest.string(2) ?? ""
    /// The Mastercard test number the card networks' and gateways' sandboxes publish (range 555555).
    static let mastercard = PAN.testCard(range: "555555", account: "555555444")
    /// The Discover test number the same sandboxes publish (range 601100).
    static let discover = PAN.testCard(range: "601100", account: "099013942")

    /// The POS mix, each a variant of the sample 0200 (a card, an amount in USD cents, a merchant category).
    static let posMix: [(label: String, pan: String, amount: Int, mcc: String, weight: Int)] = [
        ("Visa purchase (split 80/20 between issuer-a and issuer-b)", visa, 10_000, "5411", 40),
        ("Mastercard purchase (issuer-b, iso93ascii: translated both ways)", mastercard, 4_200, "5411", 30),
        ("Discover purchase (default route: issuer-a over mutual TLS)", discover, 1_250, "5411", 10),
        ("Visa purchase of 750.00 (the issuer declines: insufficient funds)", visa, 75_000, "5411", 10),
        ("Mastercard at a casino, MCC 7995 (the switch declines)", mastercard, 2_000, "7995", 10),
    ]

    /// The POS simulator's requests, in the listener's dialect.
    static func posExchange(dialect: Dialect) throws -> ISO8583Exchange {
        try ISO8583Exchange(dialect: dialect, templates: posMix.map { item in
            (card(item.pan, amount: item.amount, mcc: item.mcc), item.weight)
        })
    }

    /// The sample 0200 for another card, amount and merchant category (track 2 follows the PAN).
    static func card(_ pan: String, amount: Int, mcc: String) -> ISO8583Message {
        var message = SampleMessages.financialRequest
        let track = message.string(35) ?? ""
        let rest = track.firstIndex(of: "=").map { String(track[$0...]) } ?? "=2712201"
        message.set(2, pan)
        message.set(35, pan + rest)
        let digits = String(amount)
        message.set(4, String(repeating: "0", count: 12 - digits.count) + digits)
        message.set(18, mcc)
        return message
    }

    /// The acquirer's ISO 20022 mix: the simulator's sample messages, by weight.
    static let acquirerMix: [(message: String, label: String, weight: Int)] = [
        ("pacs.008", "credit transfers", 80), ("pacs.028", "status requests", 10), ("camt.056", "cancellations", 10),
    ]

    /// The acquirer simulator's requests.
    static func acquirerExchange() throws -> ISO20022Exchange {
        try ISO20022Exchange(templates: acquirerMix.compactMap { item in
            ISO20022Exchange.sample(item.message).map { ISO20022Exchange.Template(message: $0, weight: item.weight) }
        })
    }
}

/// A load generator running on a thread of its own until asked to stop.
final class BackgroundLoad<Exchange: LoadExchange>: Sendable {
    let generator: LoadGenerator<Exchange>
    private let report = Mutex<LoadReport?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ generator: LoadGenerator<Exchange>) {
        self.generator = generator
        Thread.detachNewThread { [self] in
            let result = generator.run()
            report.withLock { $0 = result }
            done.signal()
        }
    }

    /// Stops sending, waits for the answers still due (at most the generator's timeout) and reports.
    func stop() -> LoadReport {
        generator.requestStop()
        done.wait()
        return report.withLock { $0 ?? LoadReport() }
    }
}
