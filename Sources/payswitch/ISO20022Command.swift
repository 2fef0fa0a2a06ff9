import CanonicalJSON
import ArgumentParser
import Foundation
import ISO20022
import PaymentModel

/// `payswitch iso20022`: ISO 20022 XML to and from the canonical message.
struct ISO20022Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iso20022",
        abstract: "Decode ISO 20022 XML to the canonical message (JSON), and encode it back.",
        subcommands: [Decode.self, Encode.self])

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode an ISO 20022 document (the namespace decides the message) and print the canonical JSON.")

        @Argument(help: "The XML file; standard input when absent.") var file: String?
        @Flag(help: "Also run the business checks the XSD cannot make (IBAN, BIC, NbOfTxs/CtrlSum, UTC).") var check = false
        @Flag(help: "Print card data and IBANs in clear (needed to encode the output again).") var unmask = false
        @Flag(help: "One canonical message per transaction of the document, a JSON line each (encode writes them back as one document).")
        var batch = false

        func run() throws {
            let bytes = try readInput(file)
            let codec = ISO20022Codec()
            do {
                let document = try codec.parse(bytes)
                if check {
                    let problems = ISO20022BusinessRules.check(document)
                    for problem in problems { printError("\(problem)") }
                    if !problems.isEmpty { throw ExitCode(1) }
                }
                let messages = batch ? try ISO20022Codec.mapBatch(document, checkingTotals: false) : [try ISO20022Codec.map(document)]
                for message in messages { print(PaymentJSON.render(message, unmask: unmask)) }
            } catch let error as ISO20022Error {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode the canonical JSON (as printed by decode --unmask) as an ISO 20022 message; several JSON lines (decode --batch) as one document.")

        @Option(help: "The message to write: \(ISO20022MessageDefinition.allCases.map(\.rawValue).joined(separator: ", ")).") var message: String
        @Argument(help: "The JSON file; standard input when absent.") var file: String?
        @Flag(help: "Write the document even when elements of the source have no place in it (each is listed on standard error).")
        var allowLoss = false

        func run() throws {
            guard let definition = ISO20022MessageDefinition(rawValue: message) else {
                throw ValidationError("unknown message '\(message)'; supported: \(ISO20022MessageDefinition.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let text = String(decoding: try readInput(file), as: UTF8.self)
            // One JSON object, or one per line: the transactions of a batch.
            let lines = text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
            let payments = try lines.count > 1 && lines.allSatisfy({ $0.hasPrefix("{") && $0.hasSuffix("}") })
                ? lines.map { try PaymentJSON.parse(String($0)) } : [try PaymentJSON.parse(text)]
            do {
                let encoding = payments.count > 1 ? try ISO20022Codec.encodeBatch(payments, as: definition)
                    : try ISO20022Codec.encodeReportingLoss(payments[0], as: definition)
                if !encoding.lost.isEmpty {
                    // Keys only: a value may be personal data.
                    printError("\(allowLoss ? "warning" : "error"): \(encoding.lost.count) element(s) of the source have no place in \(definition.rawValue): "
                               + encoding.lost.map(\.key).joined(separator: ", ") + (allowLoss ? "" : " (--allow-loss writes the document without them)"))
                    if !allowLoss { throw ExitCode(1) }
                }
                print(encoding.document)
            } catch let exit as ExitCode {
                throw exit
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
