import Foundation
import PaymentModel

/// Builds an ISO 20022 document: the mapping gives canonical values by path
/// (``ISO20022MessageMapping``), ``finish(keeping:positions:)`` adds the leaves kept from the
/// source document, places the values and defaults, puts every element in schema order and checks
/// it against the schema table (occurrences, choices, facets), then writes the text, escaping
/// every value. A document that would not validate is an error naming the path and the facet.
struct XMLWriter {
    /// A canonical value and its places, most preferred first (see ``tree(keeping:positions:)``).
    struct Value {
        var places: [String]
        var leaf: XMLNode
    }

    static let declaration = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    /// `Document`, or `AppHdr` for a business application header.
    private let root: String
    private let namespace: String
    /// The canonical values to write.
    var values: [Value] = []
    /// Values for required elements the message has none for, each written when nothing else is
    /// at its path and its parent element is written.
    var defaults: [(path: String, text: String)] = []

    /// A document whose root is `root` (`Document`, or `AppHdr` for a business application header).
    init(root: String = "Document", namespace: String) {
        self.root = root
        self.namespace = namespace
    }

    /// The document as text: the elements written, then each leaf of `kept` (unmapped fields from
    /// the source document, keyed by indexed path below the root: `CdtTrfTxInf[2]/RmtInf/Ustrd`)
    /// at its place where nothing was written there. In schema order, and checked against the schema.
    ///
    /// `positions` (default path → indexed path, ``PaymentMessage/sourcePositions``) puts each leaf
    /// written at a default path where the source document had it.
    func finish(keeping kept: [UnmappedField] = [], positions: [String: String] = [:]) throws(ISO20022Error) -> String {
        try text(of: try tree(keeping: kept, positions: positions).message)
    }

    /// The message element (or `AppHdr`) as ``finish(keeping:positions:)`` writes it, before the
    /// schema check; `overwritten` names the kept leaves whose place a written value took with
    /// another value (a loss when translating).
    func tree(keeping kept: [UnmappedField] = [], positions: [String: String] = [:])
        throws(ISO20022Error) -> (message: XMLNode, overwritten: [String]) {
        let schemaRoot = try self.schemaRoot()
        // The kept leaves at their places first, then the canonical values, which win: each at the
        // place the source had it; a value of one place there; a value of several places at the
        // first whose top-level element is written (a transaction's status where the report has a
        // transaction, else the group's), else at the first.
        var message = XMLNode(name: schemaRoot.element)
        message.merge(kept)
        var overwritten: [String] = []
        for value in values where value.places.count == 1 {
            let place = positions[value.places[0]] ?? value.places[0]
            if message.place(value.leaf, at: place) { overwritten.append(place) }
        }
        for value in values where value.places.count > 1 {
            let place = positions[value.places[0]]
                ?? value.places.first { message.contains(String($0.prefix { $0 != "/" })) } ?? value.places[0]
            if message.place(value.leaf, at: place) { overwritten.append(place) }
        }
        for (path, text) in defaults where message.value(at: path) == nil {
            let parent = path.lastIndex(of: "/").map { String(path[..<$0]) }
            guard parent.map(message.contains) ?? true else { continue }
            message.place(XMLNode(name: "", text: text), at: path)
        }
        message.prune()
        return (message, overwritten)
    }

    /// The document holding `message` (from ``tree(keeping:positions:)``, or several combined),
    /// in schema order, after checking it against the schema.
    func text(of message: XMLNode) throws(ISO20022Error) -> String {
        let schemaRoot = try self.schemaRoot()
        var text = XMLWriter.declaration + "<" + root + #" xmlns=""# + XMLWriter.escape(namespace) + #"">"# + "\n"
        if root == schemaRoot.element {
            let content = ISO20022Schema.shared.complexTypes[schemaRoot.type] ?? ISO20022Schema.Content(form: .sequence)
            try message.writeChildren(type: schemaRoot.type, content: content, path: { root }, depth: 1, namespace: namespace, into: &text)
        } else {
            try message.write(type: schemaRoot.type, path: { schemaRoot.element }, depth: 1, namespace: namespace, into: &text)
        }
        text += "</" + root + ">\n"
        return text
    }

    private func schemaRoot() throws(ISO20022Error) -> ISO20022Schema.Root {
        let definition = String(namespace.dropFirst(ISO20022MessageDefinition.namespacePrefix.count))
        guard let schemaRoot = ISO20022Schema.shared.roots[definition] else {
            throw ISO20022Error(.cannotEncode, path: root, reason: "no schema table for \(definition)")
        }
        return schemaRoot
    }

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
