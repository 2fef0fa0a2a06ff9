import CanonicalJSON
import ArgumentParser
import Foundation
import ISO8583
import PaymentModel
import Routing

extension RulesCommand {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain how a rule file routes one message: the rules tried, each test, the match and the candidates.",
            discussion: """
                The message is an ISO 8583 frame (--spec with --hex) or canonical JSON (--json FILE, the form \
                `payswitch translate --canonical` prints, card members included). Card data is printed masked.
                """)

        @Argument(help: "The rule file (YAML).") var file: String
        @Option(help: "The ISO 8583 dialect of --hex: a shipped name or a spec file.") var spec: String?
        @Option(help: "An ISO 8583 message as hexadecimal text.") var hex: String?
        @Option(help: "A file holding the canonical message as JSON.") var json: String?
        @Option(help: "The time of day to decide at, HH:MM (default: now, local time).") var time: String?

        func validate() throws {
            guard (hex == nil) != (json == nil) else { throw ValidationError("give exactly one of --hex or --json") }
            if hex != nil && spec == nil { throw ValidationError("--hex needs --spec") }
        }

        func run() throws {
            let snapshot = try RuleFile.snapshot(file)
            let message = try self.message()
            print(snapshot.explainText(message, try context()))
        }

        private func message() throws -> PaymentMessage {
            if let json {
                return try PaymentJSON.parse(String(decoding: try readInput(json), as: UTF8.self), cardData: true)
            }
            var option = DialectOption()
            option.spec = spec!
            let dialect = try option.dialect()
            let frame = try HexText.frame(hex: hex, input: [])
            do {
                return try ISO8583Mapping.shipped(for: dialect).canonical(from: ISO8583Message(decoding: frame, dialect: dialect), dialect: dialect)
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }

        private func context() throws -> RoutingContext {
            guard let time else {
                let parts = Calendar.current.dateComponents([.hour, .minute], from: Date())
                return RoutingContext(hour: parts.hour ?? 0, minute: parts.minute ?? 0)
            }
            let parts = time.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw ValidationError("--time must be HH:MM")
            }
            return RoutingContext(hour: parts[0], minute: parts[1])
        }
    }
}
