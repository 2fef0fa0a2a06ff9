import ArgumentParser
import Foundation
import PaymentModel
import Routing

/// `payswitch rules`: the rule author's tools: check a file, explain a decision, run a case table.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check routing rule files, explain a routing decision, and run a rule author's test cases.",
        discussion: "The rule file format is described in specs/routing/README.md; its JSON Schema is specs/routing/rules.schema.json.",
        subcommands: [Check.self, Explain.self, Test.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a rule file: print its errors and warnings (file:line:column); exit 1 on errors.")

        @Argument(help: "The rule file (YAML).") var file: String

        func run() throws {
            let check = try RuleFile.check(file)
            for diagnostic in check.diagnostics { print(diagnostic) }
            let errors = check.errors.count, warnings = check.warnings.count
            guard let ruleSet = check.ruleSet else {
                print("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
                throw ExitCode(1)
            }
            print("ok: \(ruleSet.rules.count) rules, \(ruleSet.channels.count) channels, version \(ruleSet.contentHash), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a table of messages and expected routes against a rule file; exit 1 when any case fails.")

        @Argument(help: "The rule file (YAML).") var file: String
        @Argument(help: "The cases file (YAML): see specs/routing/README.md.") var cases: String

        func run() throws {
            let snapshot = try RuleFile.snapshot(file)
            let text = try String(decoding: readInput(cases), as: UTF8.self)
            let table: [RoutingCase]
            do {
                table = try RoutingCase.load(yaml: text, file: cases)
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            let width = table.map(\.name.count).max() ?? 4
            var failed = 0
            for routingCase in table {
                let outcome = routingCase.run(snapshot)
                let got = "rule \(outcome.rule) -> " + (outcome.decline.map { "decline \($0)" } ?? outcome.channels.joined(separator: ", "))
                var line = (outcome.passed ? "PASS  " : "FAIL  ") + routingCase.name + String(repeating: " ", count: width - routingCase.name.count) + "  " + got
                if !outcome.passed {
                    failed += 1
                    var wanted: [String] = []
                    if let rule = routingCase.expectedRule { wanted.append("rule \(rule)") }
                    if let channels = routingCase.expectedChannels { wanted.append("channels \(channels.joined(separator: ", "))") }
                    if let decline = routingCase.expectedDecline { wanted.append("decline \(decline)") }
                    line += "  (expected \(wanted.joined(separator: "; ")); \(routingCase.position))"
                }
                print(line)
            }
            print("\(table.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

/// Reading a rule file and the BIN tables it names (paths relative to the rule file).
enum RuleFile {
    static func check(_ path: String) throws -> RuleFileCheck {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read '\(path)'") }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        return RuleSet.load(yaml: String(decoding: data, as: UTF8.self), file: path) { name in
            let url = name.hasPrefix("/") ? URL(fileURLWithPath: name) : directory.appendingPathComponent(name)
            return FileManager.default.contents(atPath: url.path).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The compiled rules, or exit 1 after printing the errors.
    static func snapshot(_ path: String) throws -> RoutingSnapshot {
        let check = try check(path)
        guard let ruleSet = check.ruleSet else {
            for error in check.errors { printError(error.description) }
            throw ExitCode(1)
        }
        return RoutingSnapshot(ruleSet)
    }
}
