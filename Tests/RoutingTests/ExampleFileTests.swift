import Foundation
import Testing
@testable import Routing

/// The shipped example rule file, BIN table and case table (specs/routing) stay valid together.
struct ExampleFileTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("specs/routing")

    static func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: directory.appendingPathComponent(name).path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func exampleHasNoErrorsOrWarningsAndItsCasesPass() throws {
        let check = RuleSet.load(yaml: try #require(Self.read("example.yaml")), file: "example.yaml", readFile: Self.read)
        #expect(check.diagnostics.isEmpty, "\(check.diagnostics)")
        let snapshot = RoutingSnapshot(try #require(check.ruleSet))
        let cases = try RoutingCase.load(yaml: try #require(Self.read("example-cases.yaml")), file: "example-cases.yaml")
        #expect(cases.count == 9)
        for routingCase in cases {
            let outcome = routingCase.run(snapshot)
            #expect(outcome.passed, "\(routingCase.name): rule \(outcome.rule) -> \(outcome.channels)")
        }
    }
}
