import ArgumentParser
import Foundation
import ISO8583
import SpecFiles

/// `payswitch iso8583`: decode, encode and list ISO 8583 dialects.
struct ISO8583Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iso8583",
        abstract: "Decode and encode ISO 8583 messages in any dialect described by a spec file.",
        subcommands: [Decode.self, Encode.self, Specs.self]
    )
}

/// Options shared by the subcommands that need a dialect.
struct DialectOption: ParsableArguments {
    @Option(name: .long, help: "A shipped dialect name (see `payswitch iso8583 specs`) or the path of a spec file.")
    var spec: String

    /// The named shipped dialect, or the spec file at that path (whose `extends` may name a shipped
    /// dialect or a file beside it).
    func dialect() throws -> Dialect {
        if Dialect.shippedNames.contains(spec) { return try Dialect.shipped(spec) }
        guard FileManager.default.fileExists(atPath: spec) else {
            throw ValidationError("no shipped dialect or spec file named '\(spec)'; shipped: \(Dialect.shippedNames.joined(separator: ", "))")
        }
        let directory = URL(fileURLWithPath: spec).deletingLastPathComponent()
        return try Dialect.load(yaml: try String(contentsOfFile: spec, encoding: .utf8), file: spec) { name in
            if let shipped = Dialect.shippedSource(name) { return shipped }
            let sibling = directory.appendingPathComponent(name.hasSuffix(".yaml") ? name : name + ".yaml").path
            guard let text = try? String(contentsOfFile: sibling, encoding: .utf8) else { return nil }
            return (text, sibling)
        }
    }
}

/// Reads the input named by a file argument, or standard input.
func readInput(_ path: String?) throws -> [UInt8] {
    if let path {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read '\(path)'") }
        return [UInt8](data)
    }
    return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
