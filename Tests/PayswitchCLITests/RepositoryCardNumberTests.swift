import Foundation
import Testing
import TestSupport

/// No real card number in what the repository ships outside its test data: every Luhn-valid run
/// of 13 to 19 digits in the sources, the fuzz harnesses and seeds, the README and CI files — as
/// text, or as hexadecimal ASCII inside a sample frame — must be a published test card.
@Suite struct RepositoryCardNumberTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Files outside Tests/, conformance/, specs/, Benchmarks/ and tools/ (test data by design),
    /// and outside build products.
    static func shippedFiles() -> [URL] {
        var files: [URL] = []
        let skipped: Set<String> = [".build", ".work", ".git", "Tests", "conformance", "specs", "Benchmarks", "tools"]
        guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) else { return [] }
        for case let url as URL in walk {
            let name = url.lastPathComponent
            if (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
                if skipped.contains(name) || name.hasPrefix(".build") || name.hasPrefix(".venv") || name == "payswitch-data" {
                    walk.skipDescendants()
                }
                continue
            }
            files.append(url)
        }
        return files
    }

    /// The bytes of every run of at least 26 hexadecimal digits that spells ASCII (a frame in a sample).
    static func hexSpelledText(_ bytes: [UInt8]) -> [UInt8] {
        var decoded: [UInt8] = []
        var run: [UInt8] = []
        func flush() {
            if run.count >= 26 {
                for index in stride(from: 0, to: run.count - 1, by: 2) {
                    if let byte = UInt8(String(decoding: run[index...index + 1], as: UTF8.self), radix: 16) { decoded.append(byte) }
                }
                decoded.append(0x20)
            }
            run.removeAll()
        }
        for byte in bytes {
            if (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) { run.append(byte) } else { flush() }
        }
        flush()
        return decoded
    }

    @Test func everyCardNumberShippedIsAPublishedTestCard() throws {
        let files = Self.shippedFiles()
        #expect(files.contains { $0.path.hasSuffix("Sources/Switch/PaymentSwitch.swift") }, "the walk reaches the sources")
        var published = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            let bytes = [UInt8](data)
            for text in [bytes, Self.hexSpelledText(bytes)] {
                #expect(CardNumberScan.unpublishedRuns(in: text).isEmpty,
                        "\(file.path.dropFirst(Self.root.path.count)): \(CardNumberScan.unpublishedRuns(in: text))")
                published += CardNumberScan.luhnValidRuns(in: text).count
            }
        }
        #expect(published > 0, "the scan sees the published test cards the fuzz harnesses use")
    }

    @Test func aCardNumberThatIsNotPublishedIsFound() {
        #expect(CardNumberScan.unpublishedRuns(in: Array("pan 4761739001010119 and 4000001234567899, zeros 000000000000000".utf8)) == ["400000******7899"])
        #expect(CardNumberScan.unpublishedRuns(in: RepositoryCardNumberTests.hexSpelledText(Array("3430303030303132333435363738393920".utf8))) == ["400000******7899"])
    }
}
