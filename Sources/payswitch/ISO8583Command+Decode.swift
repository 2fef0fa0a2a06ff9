import CanonicalJSON
import ArgumentParser
import ISO8583

extension ISO8583Command {
    /// `payswitch iso8583 decode`: a readable dump or JSON of one message, or of one message per line.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode an ISO 8583 message from hex (or raw bytes) and print its fields.",
            discussion: """
                Input is --hex, a file, or standard input: hexadecimal text (whitespace ignored) or raw \
                bytes. Sensitive fields (PAN, track data, PIN, CVV, EMV card data) are masked unless \
                --unmask is given. With --lines, each input line is one message in hex and each output \
                line is one JSON object (or {"error": ...}).
                """)

        @OptionGroup var dialectOption: DialectOption
        @Option(name: .long, help: "The message as hexadecimal text.") var hex: String?
        @Argument(help: "A file holding the message (hex text or raw bytes); standard input when absent.") var file: String?
        @Flag(name: .long, help: "Print one JSON object instead of a readable dump.") var json = false
        @Flag(name: .long, help: "Print sensitive values in clear.") var unmask = false
        @Flag(name: .long, help: "Decode one hex message per input line; print one JSON object per line.") var lines = false

        func validate() throws {
            if hex != nil && file != nil { throw ValidationError("give either --hex or a file, not both") }
        }

        func run() throws {
            let dialect = try dialectOption.dialect()
            let input: [UInt8] = try hex.map { Array($0.utf8) } ?? readInput(file)
            if lines {
                var failures = 0
                for line in input.split(separator: UInt8(ascii: "\n")) {
                    let text = String(decoding: line, as: UTF8.self)
                    guard !text.allSatisfy(\.isWhitespace) else { continue }
                    do {
                        guard let frame = Hex.decode(text) else { throw ValidationError("not hexadecimal text") }
                        let message = try ISO8583Message(decoding: frame, dialect: dialect)
                        print(MessageJSON.render(message, dialect: dialect, unmask: unmask))
                    } catch {
                        failures += 1
                        print("{\"error\":\(MessageJSON.quote("\(error)"))}")
                    }
                }
                if failures > 0 { throw ExitCode(1) }
                return
            }
            let frame = try HexText.frame(hex: hex, input: input)
            let message: ISO8583Message
            do {
                message = try ISO8583Message(decoding: frame, dialect: dialect)
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            print(json ? MessageJSON.render(message, dialect: dialect, unmask: unmask)
                       : MessageDump.render(message, dialect: dialect, unmask: unmask))
        }
    }
}

/// Hexadecimal text helpers for command input.
enum HexText {
    /// Whether every byte is a hexadecimal digit or whitespace (so the input is hex text, not raw bytes).
    /// The frame a command was given: `--hex` must be hexadecimal text (whitespace aside), never
    /// read as raw bytes; a file or standard input is hex text when it looks like it, else raw bytes.
    static func frame(hex: String?, input: [UInt8]) throws -> [UInt8] {
        if let hex {
            let digits = hex.filter { !$0.isWhitespace }
            if let bad = digits.firstIndex(where: { !($0.isASCII && $0.isHexDigit) }) {
                throw ValidationError("--hex is not hexadecimal text: '\(digits[bad])' at character \(digits.distance(from: digits.startIndex, to: bad) + 1)")
            }
            guard digits.count % 2 == 0, let bytes = Hex.decode(digits) else {
                throw ValidationError("--hex has an odd number of hexadecimal digits (\(digits.count))")
            }
            return bytes
        }
        guard looksLikeHex(input) else { return input }
        guard let bytes = Hex.decode(String(decoding: input, as: UTF8.self).filter { !$0.isWhitespace }) else {
            throw ValidationError("the input is not valid hexadecimal text")
        }
        return bytes
    }

    static func looksLikeHex(_ input: [UInt8]) -> Bool {
        !input.isEmpty && input.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x46, 0x61...0x66, 0x20, 0x0A, 0x0D, 0x09: return true
            default: return false
            }
        }
    }
}
