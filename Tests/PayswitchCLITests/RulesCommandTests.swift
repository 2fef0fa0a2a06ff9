import Foundation
import Testing

/// End-to-end tests of `payswitch rules …`: the built binary on the shipped example files.
struct RulesCommandTests {
    static let specs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("specs/routing")
    static let example = specs.appendingPathComponent("example.yaml").path

    @Test func checkAcceptsTheShippedExample() throws {
        let result = try PayswitchRunner.run(["rules", "check", Self.example])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("ok: 7 rules, 7 channels, version "))
    }

    @Test func checkReportsErrorsWithPositionsAndFails() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-rules-\(getpid()).yaml")
        try "channels: [a]\nrules:\n  - id: r1\n    when: {mcc: nope}\n    then: {route: b}\ndefault: {route: a}\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try PayswitchRunner.run(["rules", "check", file.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("\(file.path):4:17: error: mcc 'nope' must be four digits"))
        #expect(result.stdout.contains("1 error, 0 warnings"))
    }

    @Test func testRunsTheShippedCaseTable() throws {
        let result = try PayswitchRunner.run(["rules", "test", Self.example, Self.specs.appendingPathComponent("example-cases.yaml").path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("PASS  its reversal follows it"))
        #expect(result.stdout.hasSuffix("9 passed, 0 failed\n"))
    }

    @Test func explainDecodesAnISO8583FrameAndMasksThePAN() throws {
        let result = try PayswitchRunner.run([
            "rules", "explain", Self.example, "--spec", "iso87binary", "--hex", ISO8583CommandTests.binaryHex, "--time", "14:30",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("PAN 476173******0119"))
        #expect(!result.stdout.contains(ISO8583CommandTests.pan))
        #expect(result.stdout.contains("rule visa-split ("))
        #expect(result.stdout.contains("decision: visa-split\n"))
    }
}
