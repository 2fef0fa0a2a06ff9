public import ISO20022
public import ISO8583
import PaymentModel

/// The request an answer is checked against, for `echo` expectations.
public enum SentRequest: Sendable {
    case iso8583(ISO8583Message)
    case iso20022(ISO20022Document)
    case none
}

extension AnswerExpectation {
    /// What differs between `payload` and this expectation; empty when the answer is as expected.
    ///
    /// Values of sensitive fields are masked in the text, as in every other report of ours.
    public func differences(in payload: [UInt8], dialect: Dialect?, request: SentRequest) -> [String] {
        switch form {
        case .bytes(let expected):
            guard expected != payload else { return [] }
            let common = zip(expected, payload).prefix { $0 == $1 }.count
            return ["the answer's bytes differ from byte \(common) (expected \(expected.count) bytes, got \(payload.count))"]
        case let .iso8583(mti, fields, onlyListed):
            guard let dialect else { return ["an ISO 8583 expectation needs the session's dialect"] }
            let answer: ISO8583Message
            do {
                answer = try ISO8583Message(decoding: payload, dialect: dialect)
            } catch {
                return ["the answer does not decode as \(dialect.name): \(error)"]
            }
            var found: [String] = []
            let requestMessage: ISO8583Message? = if case .iso8583(let message) = request { message } else { nil }
            if let mti {
                let sent = requestMessage.map { ISO8583Values(message: $0, dialect: dialect).mti }
                if let problem = mti.mismatch(ISO8583Values(message: answer, dialect: dialect).mti, sent: sent, mask: { $0 }) {
                    found.append("MTI: \(problem)")
                }
            }
            let actual = ISO8583Values(message: answer, dialect: dialect)
            let sent = requestMessage.map { ISO8583Values(message: $0, dialect: dialect) }
            for (key, expectation) in fields {
                guard let fieldKey = FieldKey(key) else { continue }
                let value = actual.value(fieldKey)
                let sensitivity = value?.sensitivity ?? actual.sensitivity(fieldKey)
                if let problem = expectation.mismatch(value?.text, sent: sent?.value(fieldKey)?.text, mask: sensitivity.mask) {
                    found.append("DE \(key): \(problem)")
                }
            }
            if onlyListed {
                let listed = Set(fields.compactMap { FieldKey($0.key) }.filter { $0.part == nil }.map(\.field))
                for number in answer.fieldNumbers where !listed.contains(number) {
                    found.append("DE \(number): present, and the expectation lists only its own fields")
                }
            }
            return found
        case let .iso20022(message, paths):
            let document: ISO20022Document
            do {
                document = try ISO20022Codec().parse(payload)
            } catch {
                return ["the answer is not a document we read: \(error)"]
            }
            var found: [String] = []
            if let message, document.definition.rawValue != message {
                found.append("message: expected \(message), got \(document.definition.rawValue)")
            }
            let actual = ISO20022Values(document)
            let sent: ISO20022Values? = if case .iso20022(let request) = request { ISO20022Values(request) } else { nil }
            for (key, expectation) in paths {
                // An ISO 20022 leaf has no sensitivity of its own: a value that is a card number is masked
                // as one, and an IBAN (personal data) as an IBAN.
                let mask = { (text: String) in
                    CardDataScrubber.looksLikeCardNumber(text) ? Sensitivity.pan.mask(text) : IBAN.isPath(key) ? IBAN.masked(text) : text
                }
                if let problem = expectation.mismatch(actual.values[key], sent: sent?.values[key], mask: mask) {
                    found.append("\(key): \(problem)")
                }
            }
            return found
        }
    }
}

extension ValueExpectation {
    /// Why `value` does not meet the expectation, or nil when it does.
    /// - Parameter mask: How a value is shown: masked by its field's sensitivity.
    func mismatch(_ value: String?, sent: String?, mask: (String) -> String) -> String? {
        let shown = value.map { "\"\(mask($0))\"" }
        switch self {
        case .any:
            return value == nil ? "expected a value, got none" : nil
        case .absent:
            return value.map { _ in "expected none, got \(shown ?? "")" }
        case .equals(let expected):
            guard let value else { return "expected \"\(mask(expected))\", got none" }
            return value == expected ? nil : "expected \"\(mask(expected))\", got \(shown ?? value)"
        case .pattern(let pattern):
            guard let value else { return "expected a value matching /\(pattern)/, got none" }
            guard let regex = try? Regex(pattern), (try? regex.wholeMatch(in: value)) != nil else {
                return "expected a value matching /\(pattern)/, got \(shown ?? "")"
            }
            return nil
        case .echo:
            guard let sent else { return value == nil ? nil : "expected none (the request had none), got \(shown ?? "")" }
            guard let value else { return "expected the request's value, got none" }
            return value == sent ? nil : "expected the request's \"\(mask(sent))\", got \(shown ?? "")"
        }
    }
}

/// The values of an ISO 8583 message as expectations name them.
struct ISO8583Values {
    let message: ISO8583Message
    let dialect: Dialect

    var mti: String { message.mti.description }

    func sensitivity(_ key: FieldKey) -> Sensitivity {
        guard key.part == nil || dialect[field: key.field]?.subfields != .berTLV else {
            return key.part.map { BERTLV.sensitiveTags.contains($0.uppercased()) ? .emv : .none } ?? .none
        }
        return dialect[field: key.field]?.sensitivity ?? .none
    }

    /// The field's text (hexadecimal for binary values), a subfield's, or an EMV tag's value in hexadecimal.
    func value(_ key: FieldKey) -> (text: String, sensitivity: Sensitivity)? {
        guard let part = key.part else {
            return message.string(key.field).map { ($0, dialect[field: key.field]?.sensitivity ?? .none) }
        }
        guard message.contains(key.field) else { return nil }
        if dialect[field: key.field]?.subfields == .berTLV {
            guard let objects = try? message.tlv(key.field), let object = Self.find(part.uppercased(), in: objects) else { return nil }
            return (object.hexValue, BERTLV.sensitiveTags.contains(object.tag) ? .emv : .none)
        }
        guard let parts = try? message.subfields(key.field, dialect: dialect), let found = parts.first(where: { $0.id == part }) else { return nil }
        return (found.isBinary ? Hex.encode(found.value) : String(decoding: found.value, as: UTF8.self), found.sensitivity)
    }

    static func find(_ tag: String, in objects: [BERTLV]) -> BERTLV? {
        for object in objects {
            if object.tag == tag { return object }
            if let inner = find(tag, in: object.children) { return inner }
        }
        return nil
    }
}

/// The leaf values of an ISO 20022 document by the paths expectations use.
struct ISO20022Values {
    /// `GrpHdr/MsgId`, `CdtTrfTxInf[2]/PmtId/TxId` (the first block also without its index),
    /// `AppHdr/BizMsgIdr`, and attributes as `IntrBkSttlmAmt@Ccy`; the first occurrence of a path wins.
    var values: [String: String] = [:]

    init(_ document: ISO20022Document) {
        for element in document.header + document.elements {
            var keys = [element.path]
            if element.block > 0 || !element.path.hasPrefix("AppHdr/") {
                let location = element.location
                let indexed = location.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? location
                if element.block > 0 { keys = [indexed] } else if indexed != element.path { keys.append(indexed) }
            }
            for key in keys {
                if values[key] == nil { values[key] = element.text }
                for (name, value) in element.attributes where values[key + "@" + name] == nil {
                    values[key + "@" + name] = value
                }
            }
        }
    }
}
