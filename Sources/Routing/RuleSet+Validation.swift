internal import PaymentModel

extension RuleSet {
    /// Checks the meaning of typed rules: duplicate ids and contradictory paths (errors), shadowed
    /// rules and fields no decoder fills for the kinds a rule can see (warnings).
    public func analyze() -> [RoutingDiagnostic] {
        var diagnostics: [RoutingDiagnostic] = []
        var seen: [String: Rule] = [:]
        var boxes: [(rule: Rule, box: Constraint)] = []
        for rule in rules {
            if let first = seen[rule.id] {
                diagnostics.append(RoutingDiagnostic(.error, .duplicateRule, at: rule.position,
                                                     "rule id '\(rule.id)' is already used at line \(first.position.line)"))
            } else {
                seen[rule.id] = rule
            }
            var walker = PathWalker()
            walker.walk(rule.condition, .anything)
            diagnostics += walker.diagnostics
            guard walker.diagnostics.allSatisfy({ $0.kind != .contradiction }) else { continue }
            if let reach = rule.condition.overApproximation {
                if let earlier = boxes.first(where: { reach.isSubset(of: $0.box) }) {
                    diagnostics.append(RoutingDiagnostic(
                        .warning, .shadowed, at: rule.position,
                        "rule '\(rule.id)' never matches: rule '\(earlier.rule.id)' (line \(earlier.rule.position.line)) matches every message it would"))
                }
            } else {
                diagnostics.append(RoutingDiagnostic(.warning, .shadowed, at: rule.position, "rule '\(rule.id)' can never match"))
            }
            if let box = rule.condition.exactBox { boxes.append((rule, box)) }
        }
        return diagnostics
    }
}

/// Walks each conjunctive path of a condition: a test whose field the path has already narrowed to
/// nothing is a contradiction; a test of a field no decoder fills for every kind the path allows
/// is a warning.
struct PathWalker {
    var diagnostics: [RoutingDiagnostic] = []

    mutating func walk(_ condition: Condition, _ context: Constraint) {
        switch condition {
        case .test, .all: walkConjunction([condition], context)
        case .any(let branches): for branch in branches { walk(branch, context) }
        case .not: break  // a contradiction under `not` is a tautology, not an error
        }
    }

    private mutating func walkConjunction(_ parts: [Condition], _ context: Constraint) {
        var tests: [(FieldTest, SourcePosition)] = []
        var branches: [Condition] = []
        func flatten(_ condition: Condition) {
            switch condition {
            case .test(let test, let position): tests.append((test, position))
            case .all(let parts): parts.forEach(flatten)
            case .any: branches.append(condition)
            case .not: break
            }
        }
        parts.forEach(flatten)
        var box = context
        for (test, position) in tests {
            let narrowed = box.intersection(Constraint(test))
            if narrowed.isEmpty {
                diagnostics.append(RoutingDiagnostic(
                    .error, .contradiction, at: position,
                    "no message can satisfy this \(test.field.rawValue) test together with the other conditions on its path"))
                return
            }
            box = narrowed
        }
        let kinds = PaymentMessage.Kind.allCases.filter { kind in box.kinds.map { $0 & kind.bit != 0 } ?? true }
        for (test, position) in tests where !kinds.contains(where: test.field.isFilled(for:)) {
            diagnostics.append(RoutingDiagnostic(
                .warning, .unfilledField, at: position,
                "no decoder fills \(test.field.rawValue) for \(kinds.map(\.rawValue).joined(separator: ", ")): this test never holds"))
        }
        for branch in branches { walk(branch, box) }
    }
}
