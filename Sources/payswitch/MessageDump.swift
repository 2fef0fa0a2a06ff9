import ISO8583

/// The readable dump of a message: one line per field, then its subfields indented.
enum MessageDump {
    static func render(_ message: ISO8583Message, dialect: Dialect, unmask: Bool) -> String {
        var lines = ["MTI     \(message.mti)    (\(dialect.name))"]
        for number in message.fieldNumbers {
            let spec = dialect[field: number]
            let value = (unmask ? message.string(number) : message.maskedString(number, dialect: dialect)) ?? ""
            let name = spec?.name ?? ""
            let shape = spec.map(shapeText) ?? ""
            lines.append("DE \(pad(String(number), 3, left: true))  \(pad(name, 44))  \(pad(shape, 8))  \(value)")
            guard let layout = spec?.subfields else { continue }
            if layout == .berTLV, let objects = try? message.tlv(number) {
                appendTLV(objects, depth: 1, unmask: unmask, into: &lines)
            } else if let parts = try? message.subfields(number, dialect: dialect) {
                for part in parts {
                    lines.append("        .\(pad(part.id, 4)) \(pad(part.name, 40))  \(unmask ? part.text : part.maskedValue)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func appendTLV(_ objects: [BERTLV], depth: Int, unmask: Bool, into lines: inout [String]) {
        for object in objects {
            let indent = String(repeating: "  ", count: depth)
            let value = object.isConstructed ? "" : (unmask ? object.hexValue : object.maskedValue)
            lines.append("      \(indent)\(pad(object.tag, 6)) \(pad(object.name, 38)) \(pad(String(object.value.count), 3, left: true))  \(value)")
            if object.isConstructed { appendTLV(object.children, depth: depth + 1, unmask: unmask, into: &lines) }
        }
    }

    /// `n6`, `ans..99`, `b...255`: the ISO notation of a field's class and length.
    static func shapeText(_ spec: FieldSpec) -> String {
        switch spec.length {
        case .fixed: return "\(spec.fieldClass.rawValue)\(spec.maxLength)"
        case .variable(let digits): return "\(spec.fieldClass.rawValue)\(String(repeating: ".", count: digits))\(spec.maxLength)"
        }
    }

    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        guard text.count < width else { return text }
        let fill = String(repeating: " ", count: width - text.count)
        return left ? fill + text : text + fill
    }
}
