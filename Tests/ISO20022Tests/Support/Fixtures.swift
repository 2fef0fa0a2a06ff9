import Foundation
import ISO20022
import Testing

/// Sample documents, the repository's XSD copies and xmllint.
enum Fixtures {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A sample from Tests/ISO20022Tests/Samples (copied into the test bundle).
    static func sample(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Samples"),
                               "sample \(name) is missing from the test bundle")
        return Array(try Data(contentsOf: url))
    }

    static func namespace(_ id: String) -> String { "urn:iso:std:iso:20022:tech:xsd:" + id }

    /// Runs `xmllint --noout --schema specs/iso20022/<id>.xsd` on `xml`: the exit status and output.
    /// Fails the test (never skips it) when xmllint is not installed.
    static func xmllint(_ xml: String, schema id: String) throws -> (status: Int32, output: String) {
        try xmllint([xml], schema: id)
    }

    /// Runs xmllint once on several documents of one message definition.
    static func xmllint(_ documents: [String], schema id: String) throws -> (status: Int32, output: String) {
        let tool = try #require(["/usr/bin/xmllint", "/usr/local/bin/xmllint", "/opt/homebrew/bin/xmllint"]
            .first { FileManager.default.isExecutableFile(atPath: $0) },
            "xmllint is not installed (Debian: apt-get install -y libxml2-utils; tools/setup.sh does it in CI)")
        let schema = root.appendingPathComponent("specs/iso20022/\(id).xsd")
        #expect(FileManager.default.fileExists(atPath: schema.path), "missing \(schema.path)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iso20022-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [String] = []
        for (index, document) in documents.enumerated() {
            let file = folder.appendingPathComponent("\(index).xml")
            try Data(document.utf8).write(to: file)
            files.append(file.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--noout", "--nonet", "--schema", schema.path] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Expects `body` to throw an ``ISO20022Error`` and returns it.
    static func error(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ISO20022Error? {
        do {
            try body()
            Issue.record("expected an ISO20022Error", sourceLocation: sourceLocation)
            return nil
        } catch let error as ISO20022Error {
            return error
        } catch {
            Issue.record("expected an ISO20022Error, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
