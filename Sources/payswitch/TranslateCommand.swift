import CanonicalJSON
import ArgumentParser
import ISO20022
import ISO8583
import PaymentModel

/// `payswitch translate`: any-to-any translation through the canonical payment message.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate a message between ISO 8583 dialects and ISO 20022 messages through the canonical message.",
        discussion: """
            --from and --to take an ISO 8583 dialect (shipped name or spec file; input and output as hex) \
            or an ISO 20022 message identifier such as pacs.008.001.08 (XML). With --canonical, prints the \
            canonical message as JSON instead, card data and IBANs masked unless --unmask. A message whose meaning \
            has no form in the target (a card authorization as a credit transfer) is an error.
            """)

    @Option(help: "The source: an ISO 8583 dialect or an ISO 20022 message identifier.") var from: String
    @Option(help: "The target: an ISO 8583 dialect or an ISO 20022 message identifier.") var to: String?
    @Option(name: .long, help: "An ISO 8583 message as hexadecimal text.") var hex: String?
    @Argument(help: "A file holding the message; standard input when absent.") var file: String?
    @Option(help: "A canonical field the ISO 8583 target has no element for that may be lost (repeatable), such as pos-entry-mode.")
    var mayDrop: [String] = []
    @Flag(help: "Print the canonical message as JSON instead of translating.") var canonical = false
    @Flag(help: "Print card data and IBANs in clear (with --canonical).") var unmask = false

    func validate() throws {
        if to == nil && !canonical { throw ValidationError("give --to, or --canonical") }
    }

    /// One side of a translation.
    enum Format {
        case iso8583(Dialect, ISO8583Mapping)
        case iso20022(ISO20022MessageDefinition)

        init(_ name: String) throws {
            if let definition = ISO20022MessageDefinition(rawValue: name) {
                self = .iso20022(definition)
                return
            }
            var option = DialectOption()
            option.spec = name
            let dialect = try option.dialect()
            self = .iso8583(dialect, try ISO8583Mapping.shipped(for: dialect))
        }
    }

    func run() throws {
        let input = try hex.map { Array($0.utf8) } ?? readInput(file)
        do {
            let payment: PaymentMessage
            switch try Format(from) {
            case .iso8583(let dialect, let mapping):
                let frame = try HexText.frame(hex: hex, input: input)
                payment = try mapping.canonical(from: ISO8583Message(decoding: frame, dialect: dialect), dialect: dialect)
            case .iso20022:
                payment = try ISO20022Codec().decode(input)
            }
            if canonical {
                print(PaymentJSON.render(payment, unmask: unmask))
                return
            }
            switch try Format(to!) {
            case .iso8583(let dialect, let mapping):
                var fields: Set<ISO8583Mapping.Target> = []
                for name in mayDrop {
                    guard let field = ISO8583Mapping.Target(rawValue: name) else {
                        throw ValidationError("--may-drop: unknown canonical field '\(name)'; one of \(ISO8583Mapping.Target.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    fields.insert(field)
                }
                print(Hex.encode(try mapping.message(from: payment, dialect: dialect, mayDrop: fields).encoded(as: dialect)))
            case .iso20022(let definition):
                print(try ISO20022Codec.encode(payment, as: definition), terminator: "")
            }
        } catch let error as ISO8583Error {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch let error as MappingError {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch let error as ISO20022Error {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
