import Foundation
public import ISO8583

/// The JSON form of a message: `{"mti":"0200","fields":{"2":"…"},"tlv":{"9F26":"…"}}`.
///
/// Every value is a string: characters for text and numeric fields, uppercase hex for binary
/// fields. Field 55's BER-TLV objects appear under `"tlv"` (constructed tags as nested objects), and
/// composite fields' subfields under `"subfields"`. Sensitive values are masked unless asked.
public enum MessageJSON {
    /// - Parameter withSubfields: Whether composite fields' subfields are given too (they repeat
    ///   what the fields hold, split; the journal leaves them out).
    public static func render(_ message: ISO8583Message, dialect: Dialect, unmask: Bool, withSubfields: Bool = true) -> String {
        var fields: [String] = []
        var subfields: [String] = []
        fields.reserveCapacity(message.fieldCount)
        for number in message.fieldNumbers {
            let value = unmask ? message.string(number) : message.maskedString(number, dialect: dialect)
            fields.append("\"\(number)\":" + quote(value ?? ""))
            if withSubfields, let spec = dialect[field: number], let layout = spec.subfields, layout != .berTLV,
               let parts = try? message.subfields(number, dialect: dialect) {
                let members = parts.map { part in "\(quote(part.id)):\(quote(unmask ? part.text : part.maskedValue))" }
                subfields.append("\(quote(String(number))):{\(members.joined(separator: ","))}")
            }
        }
        var json = "{\"mti\":\(quote(message.mti.description)),\"fields\":{\(fields.joined(separator: ","))}"
        if dialect[field: 55]?.subfields == .berTLV, let objects = try? message.tlv(55), !objects.isEmpty {
            json += ",\"tlv\":" + tlvObject(objects, unmask: unmask)
        }
        if !subfields.isEmpty { json += ",\"subfields\":{\(subfields.joined(separator: ","))}" }
        return json + "}"
    }

    public static func tlvObject(_ objects: [BERTLV], unmask: Bool) -> String {
        let members = objects.map { object -> String in
            let value = object.isConstructed && !object.children.isEmpty
                ? tlvObject(object.children, unmask: unmask)
                : quote(unmask ? object.hexValue : object.maskedValue)
            return "\(quote(object.tag)):\(value)"
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// A JSON string literal.
    public static func quote(_ text: String) -> String {
        // Most values need no escape: one copy, no per-character work.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // DEL too: JSON allows it raw, but YAML (whose double-quoted form this also writes) does not.
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Builds a message from its JSON form; binary fields take uppercase or lowercase hex.
    public static func parse(_ text: String, dialect: Dialect) throws -> ISO8583Message {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw CanonicalJSONError("the input is not a JSON object")
        }
        guard let mtiText = object["mti"] as? String, let mti = MTI(mtiText) else {
            throw CanonicalJSONError("\"mti\" must be four digits as a string, such as \"0200\"")
        }
        var texts: [(Int, String)] = []
        for (key, value) in object["fields"] as? [String: Any] ?? [:] {
            guard let number = Int(key), (2...Dialect.fieldLimit).contains(number) else {
                throw CanonicalJSONError("\"fields\" key \"\(key)\" is not a data element number 2-192")
            }
            guard let text = value as? String else {
                throw CanonicalJSONError("field \(number): the value must be a string")
            }
            texts.append((number, text))
        }
        do {
            return try ISO8583Message(mti: mti, texts: texts.sorted { $0.0 < $1.0 }, dialect: dialect)
        } catch {
            throw CanonicalJSONError("field \(error.field ?? 0) \(error.reason)")
        }
    }
}
