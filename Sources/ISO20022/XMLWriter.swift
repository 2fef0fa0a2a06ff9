import Foundation
import PaymentModel

/// Builds an ISO 20022 document as text, escaping every value.
struct XMLWriter {
    static let declaration = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    private(set) var text = XMLWriter.declaration
    private var open: [String] = []

    /// A document whose root is `root` (`Document`, or `AppHdr` for a business application header).
    init(root: String = "Document", namespace: String) {
        text += "<" + root + #" xmlns=""# + XMLWriter.escape(namespace) + #"">"# + "\n"
        open = [root]
    }

    mutating func start(_ name: String) {
        text += indent + "<" + name + ">\n"
        open.append(name)
    }

    mutating func end() {
        let name = open.removeLast()
        text += indent + "</" + name + ">\n"
    }

    /// `<name attr="…">value</name>`, or nothing when value is nil.
    mutating func leaf(_ name: String, _ value: String?, attributes: KeyValuePairs<String, String> = [:]) throws(ISO20022Error) {
        guard let value else { return }
        let path = path(of: name)
        var tag = name
        for (key, attribute) in attributes {
            tag += " " + key + #"=""# + (try XMLWriter.checked(attribute, path: path + "@" + key)) + #"""#
        }
        text += indent + "<" + tag + ">" + (try XMLWriter.checked(value, path: path)) + "</" + name + ">\n"
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

    mutating func finish() -> String {
        while !open.isEmpty { end() }
        return text
    }

    private var indent: String { String(repeating: "  ", count: open.count) }

    /// The path, below the root, of an element `name` written where the writer is now.
    private func path(of name: String) -> String { (open.dropFirst() + [name]).joined(separator: "/") }

    /// The value escaped, or an error when it holds a character XML 1.0 cannot carry.
    static func checked(_ value: String, path: String) throws(ISO20022Error) -> String {
        for scalar in value.unicodeScalars where !isXMLCharacter(scalar) {
            throw ISO20022Error(.cannotEncode, path: path,
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
