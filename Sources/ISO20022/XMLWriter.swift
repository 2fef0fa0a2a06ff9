import Foundation
import PaymentModel

/// Builds an ISO 20022 document: the mapping code adds elements in any order, ``finish(keeping:)``
/// adds the leaves kept from the source document, puts every element in schema order and checks
/// it against the schema table (occurrences, choices, facets), then writes the text, escaping
/// every value. A document that would not validate is an error naming the path and the facet.
struct XMLWriter {
    static let declaration = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    /// The open elements, the root (`Document` or `AppHdr`) first.
    private var open: [XMLNode]
    private let namespace: String
    /// Canonical values the mapping writes by path rather than element by element
    /// (``ISO20022TextFields``): placed like the written elements, after them.
    var extraLeaves: [(key: String, value: String)] = []

    /// A document whose root is `root` (`Document`, or `AppHdr` for a business application header).
    init(root: String = "Document", namespace: String) {
        self.namespace = namespace
        open = [XMLNode(name: root)]
    }

    mutating func start(_ name: String) {
        open.append(XMLNode(name: name))
    }

    /// Ends the element; one the mapping opened and left empty is written as an empty group
    /// (`<InitgPty></InitgPty>`: a required party with every part optional).
    mutating func end() {
        var node = open.removeLast()
        if node.children.isEmpty, node.text == nil { node.text = "" }
        open[open.count - 1].children.append(node)
    }

    /// `<name attr="…">value</name>`, or nothing when value is nil.
    mutating func leaf(_ name: String, _ value: String?, attributes: KeyValuePairs<String, String> = [:]) throws(ISO20022Error) {
        guard let value else { return }
        var node = XMLNode(name: name, text: value)
        for (key, attribute) in attributes { node.attributes.append((key, attribute)) }
        open[open.count - 1].children.append(node)
    }

    /// `<outer><FinInstnId><BICFI>…</BICFI></FinInstnId></outer>`, or nothing when bic is nil.
    mutating func agent(_ name: String, _ bic: String?) throws(ISO20022Error) {
        guard let bic else { return }
        start(name)
        start("FinInstnId")
        try leaf("BICFI", bic)
        end()
        end()
    }

    /// `<outer><Id><IBAN>…</IBAN></Id></outer>` or `…<Id><Othr><Id>…</Id></Othr></Id>…`.
    mutating func account(_ name: String, _ party: Party?) throws(ISO20022Error) {
        guard let party, party.iban != nil || party.otherAccount != nil else { return }
        start(name)
        start("Id")
        if let iban = party.iban {
            // The schema's pattern: a masked IBAN (from a dump without --unmask) is refused, not sent.
            guard IBAN.hasShape(iban) else {
                throw ISO20022Error(.cannotEncode, path: path(of: "IBAN"),
                                    reason: "'\(IBAN.masked(iban))' does not match the IBAN pattern [A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}")
            }
            try leaf("IBAN", iban)
        } else {
            start("Othr")
            try leaf("Id", party.otherAccount)
            end()
        }
        end()
        end()
    }

    /// The document as text: the elements written, then each leaf of `kept` (unmapped fields from
    /// the source document, keyed by indexed path below the root: `CdtTrfTxInf[2]/RmtInf/Ustrd`)
    /// at its place where nothing was written there. In schema order, and checked against the schema.
    ///
    /// `positions` (default path → indexed path, ``PaymentMessage/sourcePositions``) puts each leaf
    /// written at a default path where the source document had it.
    mutating func finish(keeping kept: [UnmappedField] = [], positions: [String: String] = [:]) throws(ISO20022Error) -> String {
        try text(of: try tree(keeping: kept, positions: positions).message)
    }

    /// The message element (or `AppHdr`) as ``finish(keeping:positions:)`` writes it, before the
    /// schema check; `overwritten` names the kept leaves whose place a written value took with
    /// another value (a loss when translating).
    mutating func tree(keeping kept: [UnmappedField] = [], positions: [String: String] = [:])
        throws(ISO20022Error) -> (message: XMLNode, overwritten: [String]) {
        while open.count > 1 { end() }
        let root = open[0]
        let schemaRoot = try self.schemaRoot()
        // AppHdr is the schema's root element; a Document holds the message element.
        let written: XMLNode
        if root.name == schemaRoot.element {
            written = root
        } else {
            guard root.children.count <= 1, root.children.first.map({ $0.name == schemaRoot.element }) ?? true else {
                throw ISO20022Error(.cannotEncode, path: root.name, reason: "\(root.name) must hold exactly one \(schemaRoot.element)")
            }
            written = root.children.first ?? XMLNode(name: schemaRoot.element)
        }
        // The kept leaves at their places first, then what the mapping wrote (the canonical
        // fields, which win), each at the place the source had it.
        var message = XMLNode(name: written.name)
        message.merge(kept)
        var overwritten: [String] = []
        for (key, leaf) in written.leaves() + extraLeaves.map({ ($0.key, XMLNode(name: "", text: $0.value)) }) {
            let place = positions[key] ?? key
            if message.place(leaf, at: place) { overwritten.append(place) }
        }
        message.prune()
        return (message, overwritten)
    }

    /// The document holding `message` (from ``tree(keeping:positions:)``, or several combined),
    /// in schema order, after checking it against the schema.
    func text(of message: XMLNode) throws(ISO20022Error) -> String {
        let root = open[0]
        let schemaRoot = try self.schemaRoot()
        var text = XMLWriter.declaration + "<" + root.name + #" xmlns=""# + XMLWriter.escape(namespace) + #"">"# + "\n"
        if root.name == schemaRoot.element {
            let content = ISO20022Schema.shared.complexTypes[schemaRoot.type] ?? ISO20022Schema.Content(form: .sequence)
            try message.writeChildren(type: schemaRoot.type, content: content, path: { root.name }, depth: 1, namespace: namespace, into: &text)
        } else {
            try message.write(type: schemaRoot.type, path: { schemaRoot.element }, depth: 1, namespace: namespace, into: &text)
        }
        text += "</" + root.name + ">\n"
        return text
    }

    private func schemaRoot() throws(ISO20022Error) -> ISO20022Schema.Root {
        let definition = String(namespace.dropFirst(ISO20022MessageDefinition.namespacePrefix.count))
        guard let schemaRoot = ISO20022Schema.shared.roots[definition] else {
            throw ISO20022Error(.cannotEncode, path: open[0].name, reason: "no schema table for \(definition)")
        }
        return schemaRoot
    }

    /// The path, below the root, of an element `name` written where the writer is now.
    private func path(of name: String) -> String { (open.dropFirst().map(\.name) + [name]).joined(separator: "/") }

    /// The value escaped, or an error when it holds a character XML 1.0 cannot carry.
    static func checked(_ value: String, path: () -> String) throws(ISO20022Error) -> String {
        // Most values are printable ASCII with nothing to escape: returned as they are.
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: "<")
                                   && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }) {
            return value
        }
        for scalar in value.unicodeScalars where !isXMLCharacter(scalar) {
            throw ISO20022Error(.cannotEncode, path: path(),
                                reason: "the value holds U+\(String(scalar.value, radix: 16, uppercase: true)), which XML 1.0 cannot carry")
        }
        return escape(value)
    }

    /// Escapes `& < > " '` (and a carriage return, which a parser would otherwise turn into a line feed).
    static func escape(_ value: String) -> String { XMLText.escaped(value) }

    static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// The current time as an ISO 20022 UTC date-time: `2026-11-21T21:02:11Z`.
    static func nowUTC() -> String {
        Date().ISO8601Format()
    }
}

/// Text for XML element content and attribute values.
public enum XMLText {
    /// `value` with `& < > " '` escaped (and a carriage return, which a parser would otherwise turn
    /// into a line feed); a character XML 1.0 cannot carry becomes `replacement` when one is given.
    public static func escaped(_ value: String, replacingUncarriable replacement: String? = nil) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            default:
                if let replacement, !XMLWriter.isXMLCharacter(scalar) { out += replacement } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
