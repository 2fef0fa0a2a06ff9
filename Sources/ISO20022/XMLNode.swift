import PaymentModel

/// An element being written: a leaf has text, a group has children. Names are local names in the
/// document's namespace, or `{namespace}local` for an element of another namespace (the content
/// of `SplmtryData/Envlp`, which the schema leaves open).
struct XMLNode {
    var name: String
    var text: String?
    var attributes: [(name: String, value: String)] = []
    var children: [XMLNode] = []

    init(name: String, text: String? = nil) {
        self.name = name
        self.text = text
    }

    // MARK: Kept leaves

    /// Adds each kept leaf at its indexed path below this element, where nothing was written at
    /// that path; an attribute (`path@name`) where the element has none of that name.
    mutating func merge(_ kept: [UnmappedField]) {
        for field in kept {
            let (path, attribute) = ISO20022Path.split(field.key)
            let steps = ISO20022Path.steps(path)
            guard !steps.isEmpty else { continue }
            insert(field.value, attribute: attribute, at: steps[...])
        }
    }

    private mutating func insert(_ value: String, attribute: String?, at steps: ArraySlice<ISO20022Path.Step>) {
        guard let step = steps.first else {
            if let attribute {
                if !attributes.contains(where: { $0.name == attribute }) { attributes.append((attribute, value)) }
            } else if text == nil, children.isEmpty {
                text = value
            }
            return
        }
        children[slot(for: step)].insert(value, attribute: attribute, at: steps.dropFirst())
    }

    /// The index of the child `step` names, made (with the earlier occurrences it needs) when there
    /// is none yet.
    private mutating func slot(for step: ISO20022Path.Step) -> Int {
        if let index = position(of: step) { return index }
        let seen = children.filter { $0.name == step.name }.count
        for _ in seen..<step.occurrence { children.append(XMLNode(name: step.name)) }
        return children.count - 1
    }

    /// The leaves below this element (a value, or an empty group the mapping wrote) by indexed
    /// path: `GrpHdr/MsgId`, `RmtInf/Ustrd[2]`.
    func leaves() -> [(key: String, leaf: XMLNode)] {
        var found: [(key: String, leaf: XMLNode)] = []
        collectLeaves(prefix: "", into: &found)
        return found
    }

    private func collectLeaves(prefix: String, into found: inout [(key: String, leaf: XMLNode)]) {
        var seen: [String: Int] = [:]
        for child in children {
            let occurrence = (seen[child.name] ?? 0) + 1
            seen[child.name] = occurrence
            let key = prefix + child.name + (occurrence > 1 ? "[\(occurrence)]" : "")
            if child.children.isEmpty {
                found.append((key, child))
            } else {
                child.collectLeaves(prefix: key + "/", into: &found)
            }
        }
    }

    /// Puts a leaf the mapping wrote at the indexed path `key`: its value replaces a kept one; an
    /// empty group leaves kept content where there is some. True when it replaced another value.
    @discardableResult
    mutating func place(_ leaf: XMLNode, at key: String) -> Bool {
        place(leaf, at: ISO20022Path.steps(key[...])[...])
    }

    private mutating func place(_ leaf: XMLNode, at steps: ArraySlice<ISO20022Path.Step>) -> Bool {
        guard let step = steps.first else { return false }
        let index = slot(for: step)
        guard steps.count == 1 else { return children[index].place(leaf, at: steps.dropFirst()) }
        if leaf.text == "", !children[index].children.isEmpty { return false }
        let replaced = children[index].text.map { !$0.isEmpty && $0 != leaf.text } ?? false
        children[index].text = leaf.text
        for attribute in leaf.attributes {
            children[index].attributes.removeAll { $0.name == attribute.name }
            children[index].attributes.append(attribute)
        }
        return replaced
    }

    /// The text of the leaf at the indexed path `key`, or nil.
    func value(at key: String) -> String? {
        node(at: key)?.text
    }

    /// Whether an element is at the indexed path `key`.
    func contains(_ key: String) -> Bool {
        node(at: key) != nil
    }

    private func node(at key: String) -> XMLNode? {
        var node = self
        for step in ISO20022Path.steps(key[...]) {
            guard let index = node.position(of: step) else { return nil }
            node = node.children[index]
        }
        return node
    }

    /// The index of the child `step` names (its occurrence among children of that name).
    private func position(of step: ISO20022Path.Step) -> Int? {
        var seen = 0
        for (index, child) in children.enumerated() where child.name == step.name {
            seen += 1
            if seen == step.occurrence { return index }
        }
        return nil
    }

    /// Removes elements with neither text, attributes nor children (a group the mapping opened for
    /// values it did not have).
    mutating func prune() {
        for index in children.indices { children[index].prune() }
        children.removeAll { $0.text == nil && $0.children.isEmpty && $0.attributes.isEmpty }
    }

    // MARK: Schema order and checks

    /// Writes this element of type `type` at `depth`, after checking it against the schema.
    ///
    /// `path` builds the element's path for an error only: no string is made for a valid document,
    /// and the text is appended piece by piece, with no temporary strings.
    func write(type: String, path: () -> String, depth: Int, namespace: String, into text: inout String) throws(ISO20022Error) {
        let indent = XMLNode.indent(depth)
        let schema = ISO20022Schema.shared
        let kind = schema.kinds[type]
        if let simple = kind?.simple {
            guard children.isEmpty, let value = self.text else {
                throw ISO20022Error(.cannotEncode, path: path(), reason: "\(name) is a \(type) value, not a group of elements")
            }
            guard attributes.isEmpty else {
                throw ISO20022Error(.cannotEncode, path: path() + "@" + attributes[0].name, reason: "\(name) has no attribute \(attributes[0].name)")
            }
            if let reason = simple.violation(of: value) { throw ISO20022Error(.cannotEncode, path: path(), reason: reason) }
            XMLNode.appendLeaf(indent, tag: name, value: try XMLWriter.checked(value, path: path), name: name, to: &text)
            return
        }
        guard let content = kind?.complex else {
            throw ISO20022Error(.cannotEncode, path: path(), reason: "the schema table has no type \(type)")
        }
        switch content.form {
        case .simple:
            let base = content.base, declared = content.attributes
            guard children.isEmpty, let value = self.text else {
                throw ISO20022Error(.cannotEncode, path: path(), reason: "\(name) is a \(base) value with attributes, not a group of elements")
            }
            if let reason = schema.simpleTypes[base]?.violation(of: value) { throw ISO20022Error(.cannotEncode, path: path(), reason: reason) }
            var tag = name
            for attribute in declared {
                guard let written = attributes.first(where: { $0.name == attribute.name }) else {
                    if attribute.required {
                        throw ISO20022Error(.cannotEncode, path: path() + "@" + attribute.name, reason: "\(name) requires the attribute \(attribute.name)")
                    }
                    continue
                }
                if let reason = schema.simpleTypes[attribute.type]?.violation(of: written.value) {
                    throw ISO20022Error(.cannotEncode, path: path() + "@" + attribute.name, reason: reason)
                }
                tag += " " + attribute.name + #"=""# + (try XMLWriter.checked(written.value, path: { path() + "@" + attribute.name })) + #"""#
            }
            for attribute in attributes where !declared.contains(where: { $0.name == attribute.name }) {
                throw ISO20022Error(.cannotEncode, path: path() + "@" + attribute.name, reason: "\(name) has no attribute \(attribute.name)")
            }
            XMLNode.appendLeaf(indent, tag: tag, value: try XMLWriter.checked(value, path: path), name: name, to: &text)
        case .any:
            XMLNode.appendLine(indent, "<", name, to: &text)
            for child in children { try child.writeOpen(path: path, depth: depth + 1, namespace: namespace, into: &text) }
            XMLNode.appendLine(indent, "</", name, to: &text)
        case .sequence, .choice:
            // An empty group (`<BrnchId></BrnchId>`, every child optional) is kept as one.
            guard self.text == nil || self.text == "" else {
                throw ISO20022Error(.cannotEncode, path: path(), reason: "\(name) is a group of elements (\(type)), not a value")
            }
            XMLNode.appendLine(indent, "<", name, to: &text)
            try writeChildren(type: type, content: content, path: path, depth: depth + 1, namespace: namespace, into: &text)
            XMLNode.appendLine(indent, "</", name, to: &text)
        }
    }

    /// `indent<tag>value</name>` and a line feed, appended piece by piece.
    private static func appendLeaf(_ indent: String, tag: String, value: String, name: String, to text: inout String) {
        text.append(indent)
        text.append("<")
        text.append(tag)
        text.append(">")
        text.append(value)
        text.append("</")
        text.append(name)
        text.append(">\n")
    }

    /// `indent<tag>` or `indent</name>` (`mark` is `<` or `</`) and a line feed.
    private static func appendLine(_ indent: String, _ mark: String, _ tag: String, to text: inout String) {
        text.append(indent)
        text.append(mark)
        text.append(tag)
        text.append(">\n")
    }

    /// Two spaces per level, made once per depth.
    private static let indents = (0..<40).map { String(repeating: "  ", count: $0) }

    private static func indent(_ depth: Int) -> String {
        depth < indents.count ? indents[depth] : String(repeating: "  ", count: depth)
    }

    /// Writes the children of this element of sequence or choice type `type` in schema order,
    /// after checking them against its particles.
    func writeChildren(type: String, content: ISO20022Schema.Content, path: () -> String, depth: Int, namespace: String,
                       into text: inout String) throws(ISO20022Error) {
        let particles = content.particles
        var order: [(particle: Int, child: Int)] = []
        order.reserveCapacity(children.count)
        for (index, child) in children.enumerated() {
            guard let particle = particles.firstIndex(where: { $0.name == child.name }) else {
                throw ISO20022Error(.cannotEncode, path: path() + "/" + ISO20022Path.displayName(child.name),
                                    reason: "\(name) (\(type)) has no element \(ISO20022Path.displayName(child.name))")
            }
            order.append((particle, index))
        }
        order.sort { $0.particle != $1.particle ? $0.particle < $1.particle : $0.child < $1.child }
        if content.form == .choice {
            let chosen = Set(order.map(\.particle))
            // A choice with an optional element may choose nothing.
            guard chosen.count == 1 || (chosen.isEmpty && ISO20022Schema.shared.isOptionalGroup(type)) else {
                let names = chosen.sorted().map { particles[$0].name }
                throw ISO20022Error(.cannotEncode, path: path(),
                                    reason: chosen.isEmpty ? "\(name) (\(type)) needs one of \(particles.map(\.name).joined(separator: ", ")); none is given"
                                        : "\(name) (\(type)) is a choice; \(names.joined(separator: " and ")) cannot both be given")
            }
        } else {
            for (index, particle) in particles.enumerated() where particle.minOccurs > 0 && !order.contains(where: { $0.particle == index }) {
                // A required group whose every part is optional (pain.001 `InitgPty`) is written empty.
                guard ISO20022Schema.shared.isOptionalGroup(particle.type) else {
                    throw ISO20022Error(.cannotEncode, path: path() + "/" + particle.name, reason: "\(name) (\(type)) requires \(particle.name)")
                }
                order.append((index, -1))
                order.sort { $0.particle != $1.particle ? $0.particle < $1.particle : $0.child < $1.child }
            }
        }
        var occurrence = 0
        for (position, entry) in order.enumerated() {
            let particle = particles[entry.particle]
            occurrence = position > 0 && order[position - 1].particle == entry.particle ? occurrence + 1 : 1
            guard occurrence <= particle.maxOccurs else {
                throw ISO20022Error(.cannotEncode, path: path() + "/" + particle.name,
                                    reason: "\(particle.name) occurs \(occurrence) times; the schema allows \(particle.maxOccurs)")
            }
            let child = entry.child >= 0 ? children[entry.child] : XMLNode(name: particle.name, text: "")
            try child.write(type: particle.type, path: { path() + "/" + particle.name + (occurrence > 1 ? "[\(occurrence)]" : "") },
                                            depth: depth, namespace: namespace, into: &text)
        }
    }

    /// Writes an element of open content (`xs:any`) as it was kept: its namespace declared where it
    /// differs from the enclosing one.
    private func writeOpen(path: () -> String, depth: Int, namespace: String, into text: inout String) throws(ISO20022Error) {
        let (elementNamespace, local) = ISO20022Path.qualified(name, default: namespace)
        // Open content is rare: its path is made as it is written.
        let childPath = path() + "/" + local
        var tag = local
        if elementNamespace != namespace { tag += #" xmlns=""# + XMLWriter.escape(elementNamespace) + #"""# }
        for attribute in attributes {
            tag += " " + attribute.name + #"=""# + (try XMLWriter.checked(attribute.value, path: { childPath + "@" + attribute.name })) + #"""#
        }
        let indent = XMLNode.indent(depth)
        if children.isEmpty {
            XMLNode.appendLeaf(indent, tag: tag, value: try XMLWriter.checked(self.text ?? "", path: { childPath }), name: local, to: &text)
            return
        }
        XMLNode.appendLine(indent, "<", tag, to: &text)
        for child in children { try child.writeOpen(path: { childPath }, depth: depth + 1, namespace: elementNamespace, into: &text) }
        XMLNode.appendLine(indent, "</", local, to: &text)
    }
}

/// Indexed element paths, as ``PaymentMessage/unmapped`` keys them: names joined by `/`, a
/// 1-based occurrence after a repeated one (`CdtTrfTxInf[2]/RmtInf/Ustrd[3]`), an attribute after
/// `@`, and `{namespace}local` for an element of another namespace (`%`, `/`, `[`, `]`, `@`, `{`
/// and `}` in the namespace percent-encoded).
enum ISO20022Path {
    struct Step {
        var name: String
        var occurrence: Int
    }

    /// The element path and the attribute name, if the key names an attribute.
    static func split(_ key: String) -> (path: Substring, attribute: String?) {
        guard let at = key.utf8.lastIndex(of: UInt8(ascii: "@")) else { return (key[...], nil) }
        return (key[..<at], String(key[key.utf8.index(after: at)...]))
    }

    static func steps(_ path: Substring) -> [Step] {
        var steps: [Step] = []
        forEachStep(path) { name, occurrence in
            steps.append(Step(name: String(name), occurrence: occurrence))
            return true
        }
        return steps
    }

    /// Calls `body` with each step's name and occurrence, making no strings, until it returns
    /// false; false then. (`Name[2]` is occurrence 2; a malformed index is part of the name.)
    @discardableResult
    static func forEachStep(_ path: Substring, _ body: (Substring, Int) -> Bool) -> Bool {
        let utf8 = path.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            if start < end {
                var nameEnd = end
                var occurrence = 1
                if utf8[utf8.index(before: end)] == UInt8(ascii: "]"), let open = utf8[start..<end].lastIndex(of: UInt8(ascii: "[")) {
                    var value = 0
                    var digits = 0
                    for byte in utf8[utf8.index(after: open)..<utf8.index(before: end)] {
                        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), value <= 100_000 else { digits = -1; break }
                        value = value * 10 + Int(byte - UInt8(ascii: "0"))
                        digits += 1
                    }
                    if digits > 0, value >= 1, value <= 100_000 { (nameEnd, occurrence) = (open, value) }
                }
                guard body(path[start..<nameEnd], occurrence) else { return false }
            }
            start = end < utf8.endIndex ? utf8.index(after: end) : end
        }
        return true
    }

    /// `{namespace}local` for an element of another namespace than the document's.
    static func foreignName(namespace: String, local: String) -> String {
        var escaped = ""
        for scalar in namespace.unicodeScalars {
            switch scalar {
            case "%", "/", "[", "]", "@", "{", "}": escaped += "%" + String(scalar.value, radix: 16, uppercase: true)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "{" + escaped + "}" + local
    }

    /// The namespace and local name of a step name (`default` when it has no `{namespace}`).
    static func qualified(_ name: String, default namespace: String) -> (namespace: String, local: String) {
        guard name.hasPrefix("{"), let close = name.firstIndex(of: "}") else { return (namespace, name) }
        let escaped = name[name.index(after: name.startIndex)..<close]
        let decoded = escaped.removingPercentEncodingSafely
        return (decoded, String(name[name.index(after: close)...]))
    }

    /// The local name, for an error path.
    static func displayName(_ name: String) -> String { qualified(name, default: "").local }
}

private extension Substring {
    /// `%XX` sequences decoded (only ever the ASCII ones ``ISO20022Path/foreignName(namespace:local:)`` writes).
    var removingPercentEncodingSafely: String {
        var bytes: [UInt8] = []
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let first = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), first != utf8.endIndex,
               let second = utf8.index(first, offsetBy: 1, limitedBy: utf8.endIndex), second != utf8.endIndex,
               let value = UInt8(String(decoding: [utf8[first], utf8[second]], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = utf8.index(after: second)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    /// Whether this indexed path is `group` or below it (`A/B[2]/C` is within `A/B[2]`, not `A/B`).
    /// Asked for every leaf of a batch: the UTF-8 bytes compared (element names are compared by
    /// code point), no character counting.
    func isWithin(_ group: Substring) -> Bool {
        var path = self, group = group
        return path.withUTF8 { path in
            group.withUTF8 { group in
                path.starts(with: group) && (path.count == group.count || path[group.count] == UInt8(ascii: "/"))
            }
        }
    }
}
