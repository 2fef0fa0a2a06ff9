import CanonicalJSON
import ArgumentParser
import ISO8583

extension ISO8583Command {
    /// `payswitch iso8583 encode`: JSON in, hex out.
    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode a message given as JSON ({\"mti\":\"0200\",\"fields\":{\"2\":\"...\"}}) and print it as hex.",
            discussion: "With --lines, each input line is one JSON message and each output line its hex (or an error).")

        @OptionGroup var dialectOption: DialectOption
        @Argument(help: "A file holding the JSON message; standard input when absent.") var file: String?
        @Flag(name: .long, help: "Encode one JSON message per input line.") var lines = false

        func run() throws {
            let dialect = try dialectOption.dialect()
            let input = String(decoding: try readInput(file), as: UTF8.self)
            guard lines else {
                do {
                    print(Hex.encode(try MessageJSON.parse(input, dialect: dialect).encoded(as: dialect)))
                } catch {
                    printError("error: \(error)")
                    throw ExitCode(1)
                }
                return
            }
            var failures = 0
            for line in input.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
                do {
                    print(Hex.encode(try MessageJSON.parse(String(line), dialect: dialect).encoded(as: dialect)))
                } catch {
                    failures += 1
                    print("error: \(error)")
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
