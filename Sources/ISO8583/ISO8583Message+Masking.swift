import PaymentModel

extension Sensitivity {
    /// Masks a text value of this sensitivity for printing.
    ///
    /// A PAN keeps its first six and last four digits when it has at least 13 (the PCI DSS display
    /// rule), otherwise nothing; track data, PIN blocks and CVVs keep nothing. The length is kept so
    /// that layout problems stay visible.
    public func mask(_ text: String) -> String {
        switch self {
        case .none:
            return text
        case .pan:
            return PAN.masked(text)
        case .track, .pin, .cvv, .emv:
            return String(repeating: "*", count: text.count)
        }
    }
}

extension ISO8583Message {
    /// The value of `field` as printable text, masked according to the dialect's sensitivity for it.
    ///
    /// EMV data (field 55) keeps its tags and the values of tags that do not identify the card; the
    /// values of ``BERTLV/sensitiveTags`` are replaced by asterisks.
    public func maskedString(_ field: Int, dialect: Dialect) -> String? {
        guard let text = string(field) else { return nil }
        let sensitivity = dialect[field: field]?.sensitivity ?? .none
        guard sensitivity == .emv else { return sensitivity.mask(text) }
        guard let objects = try? tlv(field) else { return Sensitivity.pin.mask(text) }
        return BERTLV.maskedHex(objects)
    }
}

extension BERTLV {
    /// The value as uppercase hexadecimal, or asterisks for a sensitive tag.
    public var maskedValue: String {
        BERTLV.sensitiveTags.contains(tag) ? String(repeating: "*", count: value.count * 2) : Charset.hex(value)
    }

    /// The value as uppercase hexadecimal.
    public var hexValue: String { Charset.hex(value) }

    /// Objects re-written as hexadecimal TLV with sensitive values masked.
    static func maskedHex(_ objects: [BERTLV]) -> String {
        var out = ""
        for object in objects {
            out += object.tag + lengthHex(object.value.count)
            out += object.children.isEmpty || !object.isConstructed ? object.maskedValue : maskedHex(object.children)
        }
        return out
    }

    static func lengthHex(_ length: Int) -> String {
        switch length {
        case ..<0x80: return Charset.hex(UInt8(length))
        case ..<0x100: return "81" + Charset.hex(UInt8(length))
        case ..<0x10000: return "82" + Charset.hex(UInt8(length >> 8)) + Charset.hex(UInt8(length & 0xFF))
        default:
            return "83" + Charset.hex(UInt8(length >> 16)) + Charset.hex(UInt8(length >> 8 & 0xFF))
                + Charset.hex(UInt8(length & 0xFF))
        }
    }

    /// The EMV name of a common tag, for dumps.
    public var name: String { BERTLV.names[tag] ?? "" }

    static let names: [String: String] = [
        "4F": "Application Identifier (AID)", "50": "Application Label", "57": "Track 2 Equivalent Data",
        "5A": "Application PAN", "5F20": "Cardholder Name", "5F24": "Application Expiration Date",
        "5F2A": "Transaction Currency Code", "5F34": "PAN Sequence Number", "82": "Application Interchange Profile",
        "84": "Dedicated File Name", "8A": "Authorisation Response Code", "91": "Issuer Authentication Data",
        "95": "Terminal Verification Results", "9A": "Transaction Date", "9C": "Transaction Type",
        "9F02": "Amount, Authorised", "9F03": "Amount, Other", "9F09": "Application Version Number",
        "9F10": "Issuer Application Data", "9F1A": "Terminal Country Code", "9F1E": "Interface Device Serial Number",
        "9F26": "Application Cryptogram", "9F27": "Cryptogram Information Data", "9F33": "Terminal Capabilities",
        "9F34": "Cardholder Verification Method Results", "9F35": "Terminal Type", "9F36": "Application Transaction Counter",
        "9F37": "Unpredictable Number", "9F41": "Transaction Sequence Counter", "9F53": "Transaction Category Code",
        "71": "Issuer Script Template 1", "72": "Issuer Script Template 2",
    ]
}

// Default printing never shows card data: a message carries no dialect, so its description names
// fields and lengths only; TLV objects and subfields mask by their own sensitivity.

extension ISO8583Message: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The MTI and each field's number and length, never a value (use ``maskedString(_:dialect:)``).
    public var description: String {
        "ISO8583Message(\(mti): " + slots.map { "DE \($0.number) [\($0.units)]" }.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["mti": mti.description, "fields": slots.map { "DE \($0.number) [\($0.units)]" }])
    }
}

extension BERTLV: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Tag, length and value as hexadecimal, with the values of sensitive tags (nested ones too) masked.
    public var description: String { BERTLV.maskedHex([self]) }
    public var debugDescription: String { "BERTLV(\(description))" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}

extension SubfieldValue: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The value as text, unmasked: characters, or uppercase hexadecimal for binary values.
    public var text: String { isBinary ? Charset.hex(value) : String(decoding: value, as: UTF8.self) }

    /// The subfield's value as it may be printed: masked by its sensitivity.
    public var maskedValue: String { sensitivity.mask(text) }

    public var description: String { "\(id)=\(maskedValue)" }
    public var debugDescription: String { "SubfieldValue(\(description))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "name": name, "value": maskedValue, "sensitivity": sensitivity])
    }
}
