import ISO8583
import PaymentModel

/// Replaces card data in frames we write (captures imported from pcap, recorded answers) with
/// test values of the same shape, so a capture can still be replayed but holds no real card.
enum CardDataScrubber {
    /// A stand-in for a card number: its first six digits (the BIN, which routing needs), zeros,
    /// and a Luhn check digit, at the same length. Nil when `pan` is not 13–19 ASCII digits.
    static func substitute(pan: String) -> String? {
        let digits = Array(pan.utf8)
        guard (13...19).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return PAN.testCard(range: String(decoding: digits.prefix(6), as: UTF8.self), account: String(repeating: "0", count: digits.count - 7))
    }

    /// The field's value with card data replaced, or nil when the field holds none.
    static func scrub(_ number: Int, _ value: String, dialect: Dialect, pan: String?) -> String? {
        guard let spec = dialect[field: number], spec.sensitivity.isSensitive else { return nil }
        switch spec.sensitivity {
        case .none:
            return nil
        case .pan:
            return substitute(pan: value) ?? String(repeating: "0", count: value.count)
        case .track:
            // The card number in the track becomes the same stand-in as DE 2; every other digit a zero.
            var out = ""
            var rest = Substring(value)
            if let pan, let substitute = substitute(pan: pan), value.hasPrefix(pan) {
                out = substitute
                rest = value.dropFirst(pan.count)
            }
            for character in rest { out.append(character.isNumber ? "0" : character) }
            return out
        case .pin, .cvv:
            return String(repeating: "0", count: value.count)
        case .emv:
            // Masked TLV keeps tags and lengths and stars the sensitive values: zeros are valid hexadecimal.
            var message = ISO8583Message(mti: MTI("0100")!)
            if spec.fieldClass == .binary, let bytes = Hex.decode(value) { message.set(number, bytes: bytes) } else { message.set(number, value) }
            return message.maskedString(number, dialect: dialect).map { String($0.map { $0 == "*" ? "0" : $0 }) }
        }
    }

    /// A message's fields as text (hexadecimal for binary ones) with card data replaced, and the
    /// numbers of the fields replaced.
    static func fields(of message: ISO8583Message, dialect: Dialect) -> (fields: [(number: Int, value: String)], masked: [String]) {
        var fields: [(number: Int, value: String)] = []
        var masked: [String] = []
        let pan = message.string(2)
        for number in message.fieldNumbers {
            guard let value = message.string(number) else { continue }
            if let scrubbed = scrub(number, value, dialect: dialect, pan: pan) {
                masked.append(String(number))
                fields.append((number, scrubbed))
            } else {
                fields.append((number, value))
            }
        }
        return (fields, masked)
    }

    /// A frame's payload as a capture file we write may hold it: an ISO 8583 message with its card
    /// data replaced field by field, anything else (XML, frames that do not decode) with its
    /// Luhn-valid digit runs zeroed. What `replay --pcap` and `capture export` write.
    static func scrubbed(_ payload: [UInt8], dialect: Dialect?) -> [UInt8] {
        if let dialect, let message = try? ISO8583Message(decoding: payload, dialect: dialect) {
            let (fields, masked) = fields(of: message, dialect: dialect)
            guard !masked.isEmpty else { return payload }
            if let rebuilt = try? ISO8583Message(mti: message.mti, texts: fields.map { ($0.number, $0.value) }, dialect: dialect).encoded(as: dialect) {
                return rebuilt
            }
        }
        var bytes = payload
        _ = scrubDigitRuns(&bytes)
        return bytes
    }

    /// Whether a value is 13–19 digits that pass the Luhn check: a card number, as far as a value
    /// with no field definition (an ISO 20022 leaf) can tell.
    static func looksLikeCardNumber(_ text: String) -> Bool {
        let digits = Array(text.utf8)
        return (13...19).contains(digits.count) && digits.allSatisfy { (0x30...0x39).contains($0) } && PAN.isLuhnValid(digits)
    }

    /// Bytes with every run of 13–19 ASCII digits that passes the Luhn check replaced by zeros:
    /// the last resort for a frame we cannot decode field by field. Whether anything was replaced.
    static func scrubDigitRuns(_ bytes: inout [UInt8]) -> Bool {
        var replaced = false
        var start = 0
        while start < bytes.count {
            guard (0x30...0x39).contains(bytes[start]) else {
                start += 1
                continue
            }
            var end = start
            while end < bytes.count, (0x30...0x39).contains(bytes[end]) { end += 1 }
            if (13...19).contains(end - start), PAN.isLuhnValid(bytes[start..<end]) {
                for index in start..<end { bytes[index] = UInt8(ascii: "0") }
                replaced = true
            }
            start = end
        }
        return replaced
    }
}
