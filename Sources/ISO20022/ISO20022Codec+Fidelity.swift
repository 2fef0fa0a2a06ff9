public import PaymentModel

/// A document written by ``ISO20022Codec/encodeReportingLoss(_:as:creationDateTime:)`` and what
/// of the source document it could not carry.
public struct ISO20022Encoding: Sendable, Hashable {
    public var document: String
    /// What of an ISO 20022 source the target message has no place for: unmapped leaves
    /// (``PaymentMessage/unmapped``) by key (`CdtTrfTxInf/Purp/Cd`), canonical values by name
    /// (`settlementMethod`). Empty when the message is written as the message it was read from.
    public var lost: [UnmappedField]
}

extension ISO20022Codec {
    /// Where the unmapped leaves of `message` go when it is written as `definition`: into the
    /// document (keys below the message element), into the header (keys below `AppHdr`, made
    /// relative to it), or lost. Only leaves read from an ISO 20022 document of the same kind are
    /// placed, and a message built in code (no source) is taken as one of `definition`; a message
    /// of another source or kind carries no document of its own to keep.
    /// `sources` holds, for each `document` leaf, the field it was in `message` (its key before translation).
    static func placement(of message: PaymentMessage, in definition: ISO20022MessageDefinition)
        -> (document: [UnmappedField], sources: [UnmappedField], header: [UnmappedField], lost: [UnmappedField]) {
        guard let sourceDefinition = message.source == nil ? definition : message.iso20022Source,
              sourceDefinition.kind == definition.kind else { return ([], [], [], []) }
        let schema = ISO20022Schema.shared
        var document: [UnmappedField] = []
        var sources: [UnmappedField] = []
        var header: [UnmappedField] = []
        var lost: [UnmappedField] = []
        let headerRoot = schema.roots[ISO20022MessageDefinition.headerDefinition]
        for field in message.unmapped {
            if field.key.hasPrefix("AppHdr/") {
                var relative = field
                relative.key = String(field.key.dropFirst("AppHdr/".count))
                if message.businessHeader != nil, let headerRoot, schema.places(relative.key, from: headerRoot.type) {
                    header.append(relative)
                } else {
                    lost.append(field)
                }
            } else if let key = ISO20022Codec.translated(field.key, from: sourceDefinition, to: definition)
                        .first(where: { schema.places($0, from: definition.schemaRoot.type, value: sourceDefinition == definition ? nil : field.value) }) {
                var placed = field
                placed.key = key
                document.append(placed)
                sources.append(field)
            } else {
                lost.append(field)
            }
        }
        if sourceDefinition != definition { dropOverlaps(&document, &sources, &lost) }
        return (document, sources, header, lost)
    }

    /// When leaves of two source groups land in one target element (a pain.001 payment type given
    /// at the payment information and at the transaction, both a pacs.008 transaction's
    /// `PmtTpInf`), the more specific group (the longer source path) is carried and the other lost.
    private static func dropOverlaps(_ document: inout [UnmappedField], _ sources: inout [UnmappedField], _ lost: inout [UnmappedField]) {
        func group(_ key: String, depth: Int) -> String {
            ISO20022Path.split(key).path.split(separator: "/").prefix(depth).joined(separator: "/")
        }
        // Each placed leaf's target element (two levels) and the source group it came from.
        let groups = zip(document, sources).map { placed, source in
            (target: group(placed.key, depth: 2),
             origin: group(source.key, depth: source.key.split(separator: "/").count - placed.key.split(separator: "/").count + 2))
        }
        var winner: [String: String] = [:]
        for (target, origin) in groups where (winner[target]?.count ?? -1) < origin.count { winner[target] = origin }
        var kept: [(UnmappedField, UnmappedField)] = []
        for (index, (target, origin)) in groups.enumerated() {
            if winner[target] == origin { kept.append((document[index], sources[index])) } else { lost.append(sources[index]) }
        }
        document = kept.map(\.0)
        sources = kept.map(\.1)
    }
}

extension ISO20022Codec {
    /// Where a leaf of `source` may go in `target`, most likely first: the same path, then for the
    /// customer and interbank pair of a kind the same element one level in or out (a pacs.008
    /// transaction's `CdtTrfTxInf/Purp` is a pain.001 `PmtInf/CdtTrfTxInf/Purp`, its `DbtrAcct` the
    /// payment information's `PmtInf/DbtrAcct`; a pacs.002 `TxInfAndSts` is a pain.002
    /// `OrgnlPmtInfAndSts/TxInfAndSts`).
    static func translated(_ key: String, from source: ISO20022MessageDefinition, to target: ISO20022MessageDefinition) -> [String] {
        let from = source.mapping.transactionSteps, to = target.mapping.transactionSteps
        guard source != target, from != to, !from.isEmpty, !to.isEmpty else { return [key] }
        // From the mapping tables' transaction elements: the source's transaction goes to the
        // target's, then to the levels around it; a level around the source's goes to the target's
        // transaction.
        func levels(_ steps: [String]) -> [String] { (1..<steps.count).reversed().map { steps.prefix($0).joined(separator: "/") } }
        let rules: [(from: String, to: [String])] = [(from.joined(separator: "/"), [to.joined(separator: "/")] + levels(to))]
            + levels(from).map { ($0, [to.joined(separator: "/")]) }
        var keys = [key]
        for rule in rules {
            // The rule's last element keeps its occurrence (`CdtTrfTxInf[2]/…`); a moved payment
            // information level only takes the first (`PmtInf/…`, not `PmtInf[2]/…`).
            guard key.hasPrefix(rule.from) else { continue }
            let after = key.dropFirst(rule.from.count)
            let between = after.prefix { $0 != "/" && $0 != "@" }
            guard between.isEmpty || between.hasPrefix("[") else { continue }
            let rest = after.dropFirst(between.count)
            let element = rule.from.split(separator: "/").last.map(String.init) ?? rule.from
            for target in rule.to {
                if target.hasSuffix(element) {
                    keys.append(target + between + rest)
                } else if between.isEmpty {
                    keys.append(target + rest)
                }
            }
        }
        return keys
    }
}

extension ISO20022Schema {
    /// Whether the schema has a place for the leaf or attribute at `key` (an indexed path below an
    /// element of type `root`): each name an element of its parent's type, open content taking any.
    /// With `value` (a translation), the place's type must also accept it (another version's
    /// longer text or other date form is a loss, not an invalid document).
    func places(_ key: String, from root: String, value: String? = nil) -> Bool {
        let (path, attribute) = ISO20022Path.split(key)
        var type = root
        var open = false
        let resolved = ISO20022Path.forEachStep(path) { name, occurrence in
            guard let content = complexTypes[type] else { return false }
            if content.form == .any { open = true; return false }
            guard let particle = content.particles.first(where: { $0.name == name }), occurrence <= particle.maxOccurs else { return false }
            type = particle.type
            return true
        }
        if open { return true }
        guard resolved else { return false }
        func accepts(_ simple: String) -> Bool { value.map { simpleTypes[simple]?.violation(of: $0) == nil } ?? true }
        switch complexTypes[type]?.form {
        case .simple?:
            let content = complexTypes[type]!
            guard let name = attribute else { return accepts(content.base) }
            return content.attributes.first { $0.name == name }.map { accepts($0.type) } ?? false
        case nil: return attribute == nil && simpleTypes[type] != nil && accepts(type)
        // An empty group: the writer checks that every child is optional.
        case .sequence?: return attribute == nil
        case .choice?: return attribute == nil && isOptionalGroup(type)
        default: return false
        }
    }
}
