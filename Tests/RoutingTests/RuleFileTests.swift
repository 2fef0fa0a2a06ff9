import PaymentModel
import Testing
@testable import Routing

/// Reading rule files: every kind of error and warning, each at its file:line:column.
struct RuleFileTests {
    /// A file with two channels, a BIN table and the given rules (line 5 is the first rule line).
    static func file(_ rules: String) -> String {
        """
        channels: [a, b]
        bin-tables:
          issuers: bins.csv
        rules:
        \(rules)
        default: {route: b}
        """
    }

    static let bins = "low,high,label\n400000,499999,visa\n510000,559999,mastercard\n"

    static func check(_ yaml: String) -> RuleFileCheck {
        RuleSet.load(yaml: yaml, file: "rules.yaml") { $0 == "bins.csv" ? bins : nil }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let yaml: String
        let kind: RoutingDiagnostic.Kind
        let line: Int
        let column: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "YAML syntax", yaml: "channels: [a, b\nrules: []\n", kind: .syntax, line: 2, column: 6),
        Case(name: "missing default", yaml: "channels: [a]\nrules: []\n", kind: .syntax, line: 1, column: 1),
        Case(name: "unknown field", yaml: file("""
              - id: r1
                when: {colour: red}
                then: {route: a}
            """), kind: .unknownField, line: 6, column: 12),
        Case(name: "unknown channel", yaml: file("""
              - id: r1
                then: {route: [a, zz]}
            """), kind: .unknownChannel, line: 6, column: 23),
        Case(name: "unknown result code", yaml: file("""
              - id: r1
                then: {decline: "1234"}
            """), kind: .unknownCode, line: 6, column: 21),
        Case(name: "unknown currency", yaml: file("""
              - id: r1
                when: {currency: [EUR, XYZ]}
                then: {route: a}
            """), kind: .unknownCode, line: 6, column: 28),
        Case(name: "wrong type for mcc", yaml: file("""
              - id: r1
                when:
                  mcc: [5411, abc]
                then: {route: a}
            """), kind: .wrongType, line: 7, column: 19),
        Case(name: "unknown kind value", yaml: file("""
              - id: r1
                when: {kind: purchase}
                then: {route: a}
            """), kind: .wrongType, line: 6, column: 18),
        Case(name: "comparison on a list field", yaml: file("""
              - id: r1
                when: {currency: {gt: 5}}
                then: {route: a}
            """), kind: .wrongOperator, line: 6, column: 22),
        Case(name: "unknown amount operator", yaml: file("""
              - id: r1
                when: {amount: {currency: EUR, like: "5"}}
                then: {route: a}
            """), kind: .wrongOperator, line: 6, column: 36),
        Case(name: "split weight zero", yaml: file("""
              - id: r1
                then: {split: {a: 0, b: 10}}
            """), kind: .splitWeight, line: 6, column: 23),
        Case(name: "split weight not a number", yaml: file("""
              - id: r1
                then: {split: {a: 70, b: lots}}
            """), kind: .splitWeight, line: 6, column: 30),
        Case(name: "duplicate rule id", yaml: file("""
              - id: r1
                when: {kind: authorization}
                then: {route: a}
              - id: r1
                when: {kind: financial}
                then: {route: a}
            """), kind: .duplicateRule, line: 8, column: 5),
        Case(name: "unknown BIN table", yaml: file("""
              - id: r1
                when: {bin: {table: acquirers}}
                then: {route: a}
            """), kind: .binTable, line: 6, column: 25),
        Case(name: "contradiction on one path", yaml: file("""
              - id: r1
                when:
                  all:
                    - {kind: authorization}
                    - {kind: creditTransfer}
                then: {route: a}
            """), kind: .contradiction, line: 9, column: 18),
        Case(name: "contradiction inside an any branch", yaml: file("""
              - id: r1
                when:
                  currency: EUR
                  any:
                    - {currency: USD}
                    - {mcc: 5411}
                then: {route: a}
            """), kind: .contradiction, line: 9, column: 22),
    ]

    @Test(arguments: cases)
    func errorIsReportedAtItsPosition(_ testCase: Case) {
        let check = Self.check(testCase.yaml)
        #expect(check.ruleSet == nil)
        let error = check.errors.first
        #expect(error?.kind == testCase.kind, "\(check.diagnostics)")
        #expect(error?.position.file == "rules.yaml")
        #expect(error?.position.line == testCase.line, "\(check.diagnostics)")
        #expect(error?.position.column == testCase.column, "\(check.diagnostics)")
        #expect(error?.description.hasPrefix("rules.yaml:\(testCase.line):\(testCase.column): error: ") == true)
    }

    @Test func malformedBINTableRowIsReportedInTheCSV() {
        let check = RuleSet.load(yaml: Self.file("""
              - id: r1
                when: {bin: {table: issuers}}
                then: {route: a}
            """), file: "rules.yaml") { _ in "400000,499999,visa\n510000,5x,mastercard\n" }
        #expect(check.errors.map(\.kind) == [.binTable])
        #expect(check.errors.first?.position == SourcePosition(file: "bins.csv", line: 2, column: 8))
    }

    @Test func shadowedRuleIsAWarning() {
        let check = Self.check(Self.file("""
              - id: all-visa
                when: {bin: "4"}
                then: {route: a}
              - id: visa-grocery
                when: {bin: "476173", mcc: 5411}
                then: {route: b}
              - id: after-catch-all
                then: {route: a}
              - id: never
                then: {route: b}
            """))
        #expect(check.errors.isEmpty)
        #expect(check.ruleSet != nil)
        let warnings = check.warnings
        #expect(warnings.map(\.kind) == [.shadowed, .shadowed])
        #expect(warnings.map(\.position.line) == [8, 13])
        #expect(warnings.first?.message.contains("rule 'all-visa' (line 5)") == true)
        #expect(warnings.last?.message.contains("rule 'after-catch-all'") == true)
    }

    @Test func unionOfEarlierRulesIsNotMistakenForShadowing() {
        // Neither earlier rule alone covers the third, so no warning (shadowing by a union is not claimed).
        let check = Self.check(Self.file("""
              - id: auth
                when: {kind: authorization}
                then: {route: a}
              - id: financial
                when: {kind: financial}
                then: {route: a}
              - id: both
                when: {kind: [authorization, financial], mcc: 5411}
                then: {route: b}
            """))
        #expect(check.diagnostics.isEmpty)
    }

    @Test func fieldNoDecoderFillsIsAWarning() {
        let check = Self.check(Self.file("""
              - id: transfer-grocery
                when:
                  kind: creditTransfer
                  mcc: 5411
                then: {route: a}
              - id: card-agent
                when: {kind: [authorization, creditTransfer], debtor-agent: DEUT}
                then: {route: a}
            """))
        #expect(check.errors.isEmpty)
        #expect(check.warnings.map(\.kind) == [.unfilledField])
        #expect(check.warnings.first?.position == SourcePosition(file: "rules.yaml", line: 8, column: 12))
        #expect(check.warnings.first?.message.contains("mcc") == true)
    }

    @Test func everyRuleWithAnErrorIsReported() {
        let check = Self.check(Self.file("""
              - id: r1
                then: {route: zz}
              - id: r2
                when: {mcc: nope}
                then: {route: a}
            """))
        #expect(check.errors.map(\.kind) == [.unknownChannel, .wrongType])
        #expect(check.errors.map(\.position.line) == [6, 8])
    }

    @Test func validFileReadsEveryFieldAndAction() throws {
        let check = Self.check(Self.file("""
              - id: everything
                description: One test of each field.
                when:
                  kind: [authorization, financial]
                  function: request
                  processing: ["00", "003000"]
                  bin: ["4", "510000-559999", "47617390"]
                  amount: {currency: EUR, gte: "10.00", lt: "1000"}
                  currency: [EUR, "840"]
                  mcc: [5411, 7800-7802]
                  merchant: M1
                  terminal: [T1, T2]
                  acquirer: "123456"
                  country: ["276"]
                  pos-entry-mode: ["05", "07"]
                  time: [{from: "08:00", to: "20:00"}]
                  not: {any: [{bin: {table: issuers, label: mastercard}}, {debtor-agent: deut}]}
                then: {split: {a: 70, b: 30}}
              - id: transfers
                when: {kind: creditTransfer, creditor-agent: [COBADE, DEUTDEFF]}
                then: {decline: Do not honour}
            """))
        #expect(check.diagnostics.isEmpty, "\(check.diagnostics)")
        let ruleSet = try #require(check.ruleSet)
        #expect(ruleSet.rules.count == 2)
        #expect(ruleSet.rules[0].action == .split([SplitArm(channel: 0, weight: 70), SplitArm(channel: 1, weight: 30)]))
        #expect(ruleSet.rules[1].action == .decline(.doNotHonour))
        #expect(ruleSet.contentHash.count == 16)
        guard case .all(let tests) = ruleSet.rules[0].condition else { Issue.record("not a conjunction"); return }
        #expect(tests.count == 14)
        let amount = tests.compactMap { if case .test(.amount(let currency, let range), _) = $0 { (currency, range) } else { nil } }.first
        #expect(amount?.0 == "EUR")
        #expect(amount?.1 == IntervalSet(1000...99_999))
    }

    @Test func contentHashFollowsTheFileAndItsTables() {
        let yaml = Self.file("""
              - id: r1
                when: {bin: {table: issuers}}
                then: {route: a}
            """)
        let first = Self.check(yaml).ruleSet?.contentHash
        #expect(first == Self.check(yaml).ruleSet?.contentHash)
        let otherTable = RuleSet.load(yaml: yaml, file: "rules.yaml") { _ in Self.bins + "600000,600099,other\n" }
        #expect(otherTable.ruleSet?.contentHash != first)
        #expect(Self.check(yaml + "\n# a comment\n").ruleSet?.contentHash != first)
    }
}
