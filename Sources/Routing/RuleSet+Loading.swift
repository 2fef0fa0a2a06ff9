internal import PaymentModel
internal import SpecFiles

/// The outcome of reading and checking a rule file: the rules when it has no errors, and every
/// error and warning found.
public struct RuleFileCheck: Sendable {
    /// The typed rules, or nil when there are errors.
    public let ruleSet: RuleSet?
    /// Errors and warnings, in file order.
    public let diagnostics: [RoutingDiagnostic]

    public var errors: [RoutingDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [RoutingDiagnostic] { diagnostics.filter { $0.severity == .warning } }
}

extension RuleSet {
    /// Reads a rule file, then validates it; every diagnostic names file:line:column.
    ///
    /// - Parameters:
    ///   - yaml: The rule file's text.
    ///   - file: The name used in diagnostics.
    ///   - readFile: Returns the text of a BIN table the file names (path as written), or nil.
    public static func load(yaml: String, file: String, readFile: (String) -> String? = { _ in nil }) -> RuleFileCheck {
        var reader = RuleFileReader()
        reader.hash.add(yaml)
        let ruleSet = reader.read(yaml: yaml, file: file, readFile: readFile)
        var diagnostics = reader.diagnostics
        if var ruleSet, diagnostics.isEmpty {
            ruleSet.contentHash = reader.hash.hex
            diagnostics = ruleSet.analyze()
            let hasErrors = diagnostics.contains { $0.severity == .error }
            return RuleFileCheck(ruleSet: hasErrors ? nil : ruleSet, diagnostics: diagnostics.sortedByPosition())
        }
        return RuleFileCheck(ruleSet: nil, diagnostics: diagnostics.sortedByPosition())
    }
}

extension [RoutingDiagnostic] {
    func sortedByPosition() -> [RoutingDiagnostic] {
        sorted { ($0.position.line, $0.position.column) < ($1.position.line, $1.position.column) }
    }
}

/// Reads a rule file into typed rules, collecting one error per broken rule so an author sees
/// them all at once.
struct RuleFileReader {
    var diagnostics: [RoutingDiagnostic] = []
    var hash = FNV1a()
    var channels: [String] = []
    var tables: [String: BINTable] = [:]

    static let topKeys: Set<String> = ["description", "channels", "bin-tables", "rules", "default"]
    static let ruleKeys: Set<String> = ["id", "description", "when", "then"]
    static let combinators: Set<String> = ["all", "any", "not"]
    static let conditionKeys = combinators.union(RoutingField.allCases.map(\.rawValue))

    mutating func read(yaml: String, file: String, readFile: (String) -> String?) -> RuleSet? {
        do throws(RoutingDiagnostic) {
            let root = try reading(.syntax) { try SpecNode.parse(yaml: yaml, file: file) }
            let top = try reading(.syntax) { try root.mapping("a rule file", allowed: Self.topKeys) }
            let channelNodes = try reading(.syntax) { try top.required("channels", in: "a rule file").sequence("channels") }
            for node in channelNodes {
                let name = try reading(.syntax) { try node.string("a channel") }
                guard !channels.contains(name) else { throw node.diagnostic(.syntax, "channel '\(name)' is declared twice") }
                channels.append(name)
            }
            if let tablesNode = top["bin-tables"] { try readTables(tablesNode, readFile: readFile) }
            let ruleList = try reading(.syntax) { try top.required("rules", in: "a rule file").sequence("rules") }
            let defaultNode = try reading(.syntax) { try top.required("default", in: "a rule file") }
            var rules: [Rule] = []
            for node in ruleList {
                do throws(RoutingDiagnostic) {
                    rules.append(try rule(node))
                } catch {
                    diagnostics.append(error)
                }
            }
            let defaultAction = try action(defaultNode)
            return RuleSet(channels: channels, rules: rules, defaultAction: defaultAction)
        } catch {
            diagnostics.append(error)
            return nil
        }
    }

    private mutating func readTables(_ node: SpecNode, readFile: (String) -> String?) throws(RoutingDiagnostic) {
        let map = try reading(.syntax) { try node.mapping("bin-tables") }
        for name in map.keys {
            let value = map[name]!
            let path = try reading(.syntax) { try value.string("a BIN table's file") }
            guard let text = readFile(path) else { throw value.diagnostic(.binTable, "cannot read BIN table '\(path)'") }
            hash.add(text)
            tables[name] = try BINTable.parse(csv: text, file: path)
        }
    }

    private func rule(_ node: SpecNode) throws(RoutingDiagnostic) -> Rule {
        let map = try reading(.syntax) { try node.mapping("a rule", allowed: Self.ruleKeys) }
        let id = try reading(.syntax) { try map.required("id", in: "a rule").string("id") }
        guard !id.isEmpty else { throw node.diagnostic(.syntax, "a rule id must not be empty") }
        let description = try reading(.syntax) { try map["description"]?.string("description") } ?? ""
        let condition = try map["when"].map { node throws(RoutingDiagnostic) in try self.condition(node) } ?? .all([])
        let action = try self.action(try reading(.syntax) { try map.required("then", in: "a rule") })
        return Rule(id: id, description: description, condition: condition, action: action, position: node.position)
    }

    // MARK: Conditions

    func condition(_ node: SpecNode) throws(RoutingDiagnostic) -> Condition {
        guard node.isMapping else {
            throw node.diagnostic(.syntax, "a condition is a mapping of fields (or all/any/not) to values")
        }
        let map = try reading(.unknownField) { try node.mapping("a condition", allowed: Self.conditionKeys) }
        var parts: [Condition] = []
        for key in map.keys {
            let value = map[key]!
            switch key {
            case "all", "any":
                let items = try reading(.syntax) { try value.sequence(key) }
                var children: [Condition] = []
                for item in items { children.append(try condition(item)) }
                parts.append(key == "all" ? .all(children) : .any(children))
            case "not":
                parts.append(.not(try condition(value)))
            default:
                parts.append(.test(try test(RoutingField(rawValue: key)!, value), at: value.position))
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private func test(_ field: RoutingField, _ node: SpecNode) throws(RoutingDiagnostic) -> FieldTest {
        switch field {
        case .kind:
            return .kind(Set(try values(field, node).map { item throws(RoutingDiagnostic) in
                try reading(.wrongType) { try item.choice("kind", PaymentMessage.Kind.self) }
            }))
        case .function:
            return .function(Set(try values(field, node).map { item throws(RoutingDiagnostic) in
                try reading(.wrongType) { try item.choice("function", PaymentMessage.Function.self) }
            }))
        case .processing:
            return .processing(prefixes: try strings(field, node) { $0.count == 2 || $0.count == 6 ? ($0.allSatisfy(\.isASCIIDigit) ? $0 : nil) : nil })
        case .bin:
            return .bin(try bin(node))
        case .amount:
            return try amount(node)
        case .currency:
            return .currency(Set(try values(field, node).map { item throws(RoutingDiagnostic) in
                let code = try reading(.wrongType) { try item.string("currency") }
                guard let currency = Currency(code) else { throw item.diagnostic(.unknownCode, "unknown currency code '\(code)'") }
                return currency.code
            }))
        case .mcc:
            return .mcc(IntervalSet(try values(field, node).map { item throws(RoutingDiagnostic) in
                let text = try reading(.wrongType) { try item.string("mcc") }
                guard let range = Self.range(text, digits: 4...4) else {
                    throw item.diagnostic(.wrongType, "mcc '\(text)' must be four digits or a range such as 7800-7802")
                }
                return range
            }))
        case .merchant, .terminal, .acquirer, .country:
            let set = Set(try strings(field, node) { $0.isEmpty ? nil : $0 })
            switch field {
            case .merchant: return .merchant(set)
            case .terminal: return .terminal(set)
            case .acquirer: return .acquirer(set)
            default: return .country(set)
            }
        case .serviceLevel, .localInstrument, .categoryPurpose:
            // ISO 20022 codes: up to 35 letters or digits (external code lists grow; any is taken).
            let set = Set(try strings(field, node) { text in
                (1...35).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } ? text : nil
            })
            switch field {
            case .serviceLevel: return .serviceLevel(set)
            case .localInstrument: return .localInstrument(set)
            default: return .categoryPurpose(set)
            }
        case .posEntryMode:
            return .posEntryMode(prefixes: try strings(field, node) { $0.isEmpty || !$0.allSatisfy(\.isASCII) ? nil : $0 })
        case .debtorAgent, .creditorAgent:
            let prefixes = try strings(field, node) { text in
                (1...11).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } ? text.uppercased() : nil
            }
            return field == .debtorAgent ? .debtorAgent(prefixes: prefixes) : .creditorAgent(prefixes: prefixes)
        case .time:
            return .timeOfDay(try timeWindows(node))
        }
    }

    /// The scalar values of a field written as one value or a list; comparisons are refused.
    private func values(_ field: RoutingField, _ node: SpecNode) throws(RoutingDiagnostic) -> [SpecNode] {
        if node.isMapping {
            throw node.diagnostic(.wrongOperator, "\(field.rawValue) takes a value or a list of values, not comparisons (those are for amount)")
        }
        let items = (try? node.sequence(field.rawValue)) ?? [node]
        guard !items.isEmpty else { throw node.diagnostic(.wrongType, "\(field.rawValue) needs at least one value") }
        for item in items where !item.isScalar {
            throw item.diagnostic(.wrongType, "each \(field.rawValue) value must be a single value")
        }
        return items
    }

    /// The values of a field as text, each checked (and normalised) by `accept`.
    private func strings(_ field: RoutingField, _ node: SpecNode, accept: (String) -> String?) throws(RoutingDiagnostic) -> [String] {
        try values(field, node).map { item throws(RoutingDiagnostic) in
            let text = try reading(.wrongType) { try item.string(field.rawValue) }
            guard let value = accept(text) else { throw item.diagnostic(.wrongType, "'\(text)' is not a valid \(field.rawValue) value") }
            return value
        }
    }

    /// `1234` or `1200-1299`, each bound with a digit count in `digits`.
    static func range(_ text: String, digits: ClosedRange<Int>) -> ClosedRange<Int64>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ digits.contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }),
              let low = Int64(parts[0]), let high = Int64(parts[parts.count - 1]), low <= high else { return nil }
        return low...high
    }

    /// BIN prefixes and ranges, and references to BIN tables, alone or in one list.
    private func bin(_ node: SpecNode) throws(RoutingDiagnostic) -> IntervalSet {
        let items = (try? node.sequence("bin")) ?? [node]
        guard !items.isEmpty else { throw node.diagnostic(.wrongType, "bin needs at least one value") }
        var set = IntervalSet.empty
        for item in items {
            set = set.union(item.isMapping ? try binTable(item) : try binRange(item))
        }
        return set
    }

    private func binRange(_ item: SpecNode) throws(RoutingDiagnostic) -> IntervalSet {
        let text = try reading(.wrongType) { try item.string("bin") }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.count == parts[0].count }),
              let low = BINKey.lowerBound(of: parts[0]), let high = BINKey.upperBound(of: parts[parts.count - 1]), low <= high else {
            throw item.diagnostic(.wrongType, "bin '\(text)' must be a prefix of 1 to 8 digits or a range such as 400000-449999")
        }
        return IntervalSet(low...high)
    }

    private func binTable(_ node: SpecNode) throws(RoutingDiagnostic) -> IntervalSet {
        let map = try reading(.wrongOperator) { try node.mapping("a BIN table reference", allowed: ["table", "label"]) }
        let nameNode = try reading(.syntax) { try map.required("table", in: "a BIN table reference") }
        let name = try reading(.wrongType) { try nameNode.string("table") }
        guard let table = tables[name] else {
            throw nameNode.diagnostic(.binTable, "no BIN table named '\(name)'; declared: \(tables.keys.sorted().joined(separator: ", "))")
        }
        guard let labelNode = map["label"] else { return table.all }
        var set = IntervalSet.empty
        for item in try values(.bin, labelNode) {
            let label = try reading(.wrongType) { try item.string("label") }
            guard let rows = table.byLabel[label] else { throw item.diagnostic(.binTable, "BIN table '\(name)' has no rows labelled '\(label)'") }
            set = set.union(rows)
        }
        return set
    }

    private func amount(_ node: SpecNode) throws(RoutingDiagnostic) -> FieldTest {
        guard node.isMapping else {
            throw node.diagnostic(.wrongType, "amount needs a currency and comparisons, such as {currency: EUR, gte: \"10.00\"}")
        }
        let map = try reading(.wrongOperator) { try node.mapping("amount", allowed: ["currency", "eq", "gt", "gte", "lt", "lte"]) }
        let currencyNode = try reading(.syntax) { try map.required("currency", in: "amount") }
        let code = try reading(.wrongType) { try currencyNode.string("currency") }
        guard let currency = Currency(code) else { throw currencyNode.diagnostic(.unknownCode, "unknown currency code '\(code)'") }
        var low: Int64 = 0, high = Int64.max
        for key in map.keys where key != "currency" {
            let valueNode = map[key]!
            let text = try reading(.wrongType) { try valueNode.string(key) }
            let value: Int64
            do {
                value = try Amount(parsing: text, currency: currency).minorUnits
            } catch {
                throw valueNode.diagnostic(.wrongType, "'\(text)' is not an amount in \(currency.code): \(error)")
            }
            switch key {
            case "eq": low = max(low, value); high = min(high, value)
            case "gt": low = max(low, value == .max ? value : value + 1)
            case "gte": low = max(low, value)
            case "lt": high = min(high, value - 1)
            default: high = min(high, value)
            }
        }
        guard low <= high else { throw node.diagnostic(.contradiction, "no amount satisfies these comparisons") }
        return .amount(currency: currency.code, minorUnits: IntervalSet(low...high))
    }

    private func timeWindows(_ node: SpecNode) throws(RoutingDiagnostic) -> IntervalSet {
        let items = (try? node.sequence("time")) ?? [node]
        var ranges: [ClosedRange<Int64>] = []
        for item in items {
            let map = try reading(.wrongType) { try item.mapping("a time window", allowed: ["from", "to"]) }
            func minute(_ key: String) throws(RoutingDiagnostic) -> Int64 {
                let valueNode = try reading(.syntax) { try map.required(key, in: "a time window") }
                let text = try reading(.wrongType) { try valueNode.string(key) }
                let parts = text.split(separator: ":")
                guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
                      let hour = Int64(parts[0]), let minute = Int64(parts[1]), hour < 24, minute < 60 else {
                    throw valueNode.diagnostic(.wrongType, "time '\(text)' must be HH:MM, 00:00 to 23:59")
                }
                return hour * 60 + minute
            }
            let from = try minute("from"), to = try minute("to")
            guard from != to else { throw item.diagnostic(.wrongType, "the window from \(from / 60):\(from % 60) to the same time is empty") }
            // A window that ends before it starts crosses midnight: two intervals.
            if from < to { ranges.append(from...(to - 1)) } else {
                ranges.append(from...1439)
                if to > 0 { ranges.append(0...(to - 1)) }
            }
        }
        return IntervalSet(ranges)
    }

    // MARK: Actions

    func action(_ node: SpecNode) throws(RoutingDiagnostic) -> RouteAction {
        let map = try reading(.syntax) { try node.mapping("an action", allowed: ["route", "split", "decline"]) }
        guard map.keys.count == 1, let key = map.keys.first, let value = map[key] else {
            throw node.diagnostic(.syntax, "an action has exactly one of route, split or decline")
        }
        switch key {
        case "route":
            let items = (try? value.sequence("route")) ?? [value]
            guard !items.isEmpty else { throw value.diagnostic(.syntax, "route needs at least one channel") }
            var indices: [Int] = []
            for item in items {
                let index = try channel(item)
                guard !indices.contains(index) else { throw item.diagnostic(.syntax, "a channel appears twice in one route") }
                indices.append(index)
            }
            return .route(indices)
        case "split":
            guard value.isMapping else { throw value.diagnostic(.syntax, "split is a mapping of channels to weights, such as {visa-a: 70, visa-b: 30}") }
            let map = try reading(.syntax) { try value.mapping("split") }
            var arms: [SplitArm] = []
            for name in map.keys {
                let weightNode = map[name]!
                guard let index = channels.firstIndex(of: name) else { throw unknownChannel(name, at: weightNode) }
                let text = try reading(.splitWeight) { try weightNode.string("a weight") }
                guard let weight = Int(text), weight > 0, weight <= 1_000_000 else {
                    throw weightNode.diagnostic(.splitWeight, "split weight '\(text)' for \(name) must be a positive whole number")
                }
                arms.append(SplitArm(channel: index, weight: weight))
            }
            guard !arms.isEmpty else { throw value.diagnostic(.syntax, "split needs at least one channel") }
            return .split(arms)
        default:
            let text = try reading(.wrongType) { try value.string("decline") }
            let table = ResultCodeTable.shipped
            let row = table.rows.first { $0.canonical.description == text || $0.name.lowercased() == text.lowercased() }
            guard let row else {
                throw value.diagnostic(.unknownCode, "unknown result code '\(text)'; give a canonical code from specs/codes/results.yaml")
            }
            guard row.canonical.category != .approved else {
                throw value.diagnostic(.wrongType, "decline needs a declining result code, not \(row.canonical) (\(row.name))")
            }
            return .decline(row.canonical)
        }
    }

    private func channel(_ node: SpecNode) throws(RoutingDiagnostic) -> Int {
        let name = try reading(.wrongType) { try node.string("a channel") }
        guard let index = channels.firstIndex(of: name) else { throw unknownChannel(name, at: node) }
        return index
    }

    private func unknownChannel(_ name: String, at node: SpecNode) -> RoutingDiagnostic {
        node.diagnostic(.unknownChannel, "unknown channel '\(name)'; declared: \(channels.joined(separator: ", "))")
    }
}
