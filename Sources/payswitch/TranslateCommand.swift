import ArgumentParser
import ISO8583
import PaymentModel

/// `payswitch translate`: any-to-any translation through the canonical payment message.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate a message between ISO 8583 dialects through the canonical payment message.",
        discussion: """
            Reads one message in --from (hex; a file or standard input; one per line with --lines) and \
            prints it in --to as hex. With --canonical, prints the canonical message as JSON instead, \
            sensitive values masked unless --unmask.
            """)

    @Option(help: "The source dialect (shipped name or spec file).") var from: String
    @Option(help: "The target dialect (shipped name or spec file).") var to: String?
    @Option(name: .long, help: "The message as hexadecimal text.") var hex: String?
    @Argument(help: "A file holding the message; standard input when absent.") var file: String?
    @Flag(help: "Print the canonical message as JSON instead of translating.") var canonical = false
    @Flag(help: "Print sensitive values in clear (with --canonical).") var unmask = false

    func validate() throws {
        if to == nil && !canonical { throw ValidationError("give --to DIALECT, or --canonical") }
    }

    func run() throws {
        var source = DialectOption()
        source.spec = from
        let sourceDialect = try source.dialect()
        let sourceMapping = try ISO8583Mapping.shipped(for: sourceDialect.name)
        let input = try hex.map { Array($0.utf8) } ?? readInput(file)
        guard let frame = HexText.looksLikeHex(input) ? Hex.decode(String(decoding: input, as: UTF8.self)) : input else {
            throw ValidationError("the input is not valid hexadecimal text")
        }
        do {
            let payment = try sourceMapping.canonical(from: ISO8583Message(decoding: frame, dialect: sourceDialect), dialect: sourceDialect)
            if canonical {
                print(PaymentJSON.render(payment, unmask: unmask))
                return
            }
            var target = DialectOption()
            target.spec = to!
            let targetDialect = try target.dialect()
            let targetMapping = try ISO8583Mapping.shipped(for: targetDialect.name)
            print(Hex.encode(try targetMapping.message(from: payment, dialect: targetDialect).encoded(as: targetDialect)))
        } catch let error as ISO8583Error {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch let error as MappingError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The canonical message as JSON; card data masked unless asked.
enum PaymentJSON {
    static func render(_ payment: PaymentMessage, unmask: Bool) -> String {
        var members: [(String, String)] = [("kind", payment.kind.rawValue), ("function", payment.function.rawValue)]
        func add(_ key: String, _ value: String?) { if let value { members.append((key, value)) } }
        add("pan", payment.pan.map { unmask ? $0.revealed : $0.description })
        add("track2", payment.track2.map { unmask ? $0.revealed : $0.description })
        add("expiry", payment.expiry.map { unmask ? $0.revealed : $0.description })
        add("processing", payment.processing?.description)
        add("amount", payment.amount?.decimalText)
        add("currency", payment.amount?.currency.code)
        add("billingAmount", payment.billingAmount.map { "\($0.decimalText) \($0.currency.code)" })
        add("stan", payment.stan)
        add("rrn", payment.rrn)
        add("transmissionDateTime", payment.transmissionDateTime)
        add("localDateTime", payment.localDateTime)
        add("acquirer", payment.acquirer)
        add("forwarder", payment.forwarder)
        add("terminal", payment.terminal)
        add("merchantId", payment.merchant?.id)
        add("merchantCategory", payment.merchant?.categoryCode)
        add("merchantName", payment.merchant?.name)
        add("merchantCity", payment.merchant?.city)
        add("posEntryMode", payment.posEntryMode)
        add("result", payment.result?.description)
        add("approvalCode", payment.approvalCode)
        add("emv", payment.emv.map { unmask ? Hex.encode($0) : "(\($0.count) bytes)" })
        add("originalStan", payment.original?.stan)
        add("source", payment.source.map { "\($0.format) \($0.version)" })
        var json = "{" + members.map { "\(MessageJSON.quote($0.0)):\(MessageJSON.quote($0.1))" }.joined(separator: ",")
        if !payment.unmapped.isEmpty {
            json += ",\"unmapped\":{" + payment.unmapped.map { "\(MessageJSON.quote($0.key)):\(MessageJSON.quote(unmask ? $0.value : $0.printableValue))" }.joined(separator: ",") + "}"
        }
        return json + "}"
    }
}
