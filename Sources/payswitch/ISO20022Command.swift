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
                print(PaymentJSON.render(try ISO20022Codec.map(document), unmask: unmask))
            } catch let error as ISO20022Error {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode the canonical JSON (as printed by decode --unmask) as an ISO 20022 message.")

        @Option(help: "The message to write: \(ISO20022MessageDefinition.allCases.map(\.rawValue).joined(separator: ", ")).") var message: String
        @Argument(help: "The JSON file; standard input when absent.") var file: String?
        @Flag(help: "Write the document even when elements of the source have no place in it (each is listed on standard error).")
        var allowLoss = false

        func run() throws {
            guard let definition = ISO20022MessageDefinition(rawValue: message) else {
                throw ValidationError("unknown message '\(message)'; supported: \(ISO20022MessageDefinition.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let payment = try PaymentJSON.parse(String(decoding: try readInput(file), as: UTF8.self))
            do {
                let encoding = try ISO20022Codec.encodeReportingLoss(payment, as: definition)
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
