internal import Yams

/// A node of a YAML document that remembers where it came from, so every complaint about it can
/// name file:line:column.
///
/// Mappings are read with ``SpecNode/Mapping``, which also reports keys nobody asked for: a typo
/// in a spec is an error, not a silently ignored setting.
public struct SpecNode: Sendable {
    enum Kind: Sendable {
        case scalar(String)
        case sequence([SpecNode])
        case mapping([(key: String, keyLine: Int, keyColumn: Int, value: SpecNode)])
    }

    let kind: Kind
    /// The file the node was read from.
    public let file: String
    /// Line of the node, from 1.
    public let line: Int
    /// Column of the node, from 1.
    public let column: Int

    /// Parses a whole YAML document.
    public static func parse(yaml: String, file: String) throws(SpecError) -> SpecNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecNode.convert(error, file: file)
        } catch {
            throw SpecError(file: file, line: 0, column: 0, message: "\(error)")
        }
        guard let node else { throw SpecError(file: file, line: 1, column: 1, message: "the file is empty") }
        return try SpecNode(node, file: file)
    }

    private static func convert(_ error: YamlError, file: String) -> SpecError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return SpecError(file: file, line: mark.line, column: mark.column, message: "YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams finds these before we see the mapping; its mark is the first repeated key's.
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return SpecError(file: file, line: context.mark.line, column: context.mark.column, message: "key \(names) appears twice in one mapping")
        default:
            return SpecError(file: file, line: 0, column: 0, message: "YAML: \(error)")
        }
    }

    private init(_ node: Node, file: String) throws(SpecError) {
        self.file = file
        self.line = node.mark?.line ?? 0
        self.column = node.mark?.column ?? 0
        switch node {
        case .scalar(let scalar):
            kind = .scalar(scalar.string)
        case .sequence(let sequence):
            var items: [SpecNode] = []
            for item in sequence { items.append(try SpecNode(item, file: file)) }
            kind = .sequence(items)
        case .mapping(let mapping):
            var pairs: [(key: String, keyLine: Int, keyColumn: Int, value: SpecNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw SpecError(file: file, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0,
                                    message: "a mapping key must be plain text")
                }
                if pairs.contains(where: { $0.key == scalar.string }) {
                    throw SpecError(file: file, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0,
                                    message: "key '\(scalar.string)' appears twice")
                }
                pairs.append((scalar.string, key.mark?.line ?? 0, key.mark?.column ?? 0, try SpecNode(value, file: file)))
            }
            kind = .mapping(pairs)
        case .alias:
            throw SpecError(file: file, line: line, column: column, message: "YAML aliases are not supported in spec files")
        }
    }

    /// An error located at this node.
    public func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, message: message)
    }

    /// The node's text, or an error when it is not a scalar.
    public func string(_ what: String) throws(SpecError) -> String {
        guard case .scalar(let text) = kind else { throw error("\(what) must be a single value") }
        return text
    }

    /// The node as an integer, or an error.
    public func integer(_ what: String) throws(SpecError) -> Int {
        let text = try string(what)
        guard let value = Int(text) else { throw error("\(what) must be a whole number, not '\(text)'") }
        return value
    }

    /// The node as a boolean (`true`/`false`, `yes`/`no`), or an error.
    public func boolean(_ what: String) throws(SpecError) -> Bool {
        switch try string(what).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("\(what) must be true or false")
        }
    }

    /// The node as one of an enumeration's raw values, or an error listing the allowed ones.
    public func choice<T: RawRepresentable & CaseIterable>(_ what: String, _ type: T.Type) throws(SpecError) -> T
    where T.RawValue == String {
        let text = try string(what)
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("\(what) '\(text)' is not one of: \(allowed)")
        }
        return value
    }

    /// The node's items, or an error when it is not a sequence.
    public func sequence(_ what: String) throws(SpecError) -> [SpecNode] {
        guard case .sequence(let items) = kind else { throw error("\(what) must be a list") }
        return items
    }

    /// The node as a mapping whose keys are checked against `allowed`.
    public func mapping(_ what: String, allowed: Set<String>) throws(SpecError) -> Mapping {
        guard case .mapping(let pairs) = kind else { throw error("\(what) must be a mapping of keys to values") }
        for pair in pairs where !allowed.contains(pair.key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw SpecError(file: file, line: pair.keyLine, column: pair.keyColumn,
                            message: "unknown key '\(pair.key)' in \(what); known keys: \(known)")
        }
        return Mapping(node: self, pairs: pairs.map { ($0.key, $0.value) })
    }

    /// The node as a mapping whose keys the file chooses (channel or table names): no key is refused.
    public func mapping(_ what: String) throws(SpecError) -> Mapping {
        guard case .mapping(let pairs) = kind else { throw error("\(what) must be a mapping of keys to values") }
        return Mapping(node: self, pairs: pairs.map { ($0.key, $0.value) })
    }

    /// Whether the node is a mapping.
    public var isMapping: Bool {
        if case .mapping = kind { return true }
        return false
    }

    /// Whether the node is a single value.
    public var isScalar: Bool {
        if case .scalar = kind { return true }
        return false
    }

    /// A mapping whose keys have been checked.
    public struct Mapping: Sendable {
        /// The mapping node itself, for errors about missing keys.
        public let node: SpecNode
        let pairs: [(String, SpecNode)]

        /// The value of `key`, if present.
        public subscript(key: String) -> SpecNode? { pairs.first { $0.0 == key }?.1 }

        /// The value of `key`, or an error naming the missing key.
        public func required(_ key: String, in what: String) throws(SpecError) -> SpecNode {
            guard let value = self[key] else { throw node.error("\(what) needs '\(key)'") }
            return value
        }

        /// The keys in file order.
        public var keys: [String] { pairs.map(\.0) }
    }
}
