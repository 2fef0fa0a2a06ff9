public import PaymentModel

/// A document written by ``ISO20022Codec/encodeReportingLoss(_:as:creationDateTime:)`` and what
/// of the source document it could not carry.
public struct ISO20022Encoding: Sendable, Hashable {
    public var document: String
    /// The unmapped leaves (``PaymentMessage/unmapped``) of an ISO 20022 source that the target
    /// message has no place for, by key (`CdtTrfTxInf/Purp/Cd`). Empty when the message is written
    /// as the message it was read from.
    public var lost: [UnmappedField]
}

extension ISO20022Codec {
    /// Where the unmapped leaves of `message` go when it is written as `definition`: into the
    /// document (keys below the message element), into the header (keys below `AppHdr`, made
    /// relative to it), or lost. Only leaves read from an ISO 20022 document of the same kind are
    /// placed; a message of another source or kind carries no document of its own to keep.
    static func placement(of message: PaymentMessage, in definition: ISO20022MessageDefinition)
        -> (document: [UnmappedField], header: [UnmappedField], lost: [UnmappedField]) {
        guard let source = message.source, source.format == "iso20022",
              let sourceDefinition = ISO20022MessageDefinition(rawValue: source.version), sourceDefinition.kind == definition.kind else {
            return ([], [], [])
        }
        let schema = ISO20022Schema.shared
        var document: [UnmappedField] = []
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
            } else if schema.places(field.key, from: definition.schemaRoot.type) {
                document.append(field)
            } else {
                lost.append(field)
            }
        }
        return (document, header, lost)
    }
}

extension ISO20022Schema {
    /// Whether the schema has a place for the leaf or attribute at `key` (an indexed path below an
    /// element of type `root`): each name an element of its parent's type, open content taking any.
    func places(_ key: String, from root: String) -> Bool {
        let (path, attribute) = ISO20022Path.split(key)
        var type = root
        for step in ISO20022Path.steps(path) {
            if case .any? = complexTypes[type] { return true }
            guard let particle = particles(of: type).first(where: { $0.name == step.name }), step.occurrence <= particle.maxOccurs else {
                return false
            }
            type = particle.type
        }
        switch complexTypes[type] {
        case .simple(_, let attributes)?: return attribute.map { name in attributes.contains { $0.name == name } } ?? true
        case nil: return attribute == nil && simpleTypes[type] != nil
        // An empty group: the writer checks that every child is optional.
        case .sequence?: return attribute == nil
        default: return false
        }
    }
}
