#if canImport(Glibc)
import Glibc
#endif
import ISO8583
import PaymentModel

/// A network management request the switch sends on its links.
enum NetworkRequest: Sendable, Hashable {
    /// `keyChange`: a new working key for the channel, wrapped under its zone master key (1987 only).
    /// `cutover`: the business date turns; DE 15 carries the new one (1987 only).
    case signOn, echo, signOff, keyChange, cutover

    /// 1987 DE 70, the network management information code.
    var informationCode: String {
        switch self {
        case .signOn: "001"
        case .echo: "301"
        case .signOff: "002"
        case .keyChange: KeyExchange.newKeyCode
        case .cutover: "201"
        }
    }

    /// 1993 DE 24, the function code.
    var functionCode: String {
        switch self {
        case .signOn: "801"
        case .echo: "831"
        case .signOff: "802"
        case .keyChange: "811"
        case .cutover: "821"
        }
    }
}

/// Network management messages (0800/0810, 1804/1814) built and read at the ISO 8583 level: they
/// concern one link, so they are never routed or mapped to the canonical message.
enum NetworkManagement {
    /// A sign-on, echo or sign-off in the mapping's ISO 8583 version.
    static func request(_ request: NetworkRequest, stan: UInt32, version: Int, carrying extra: (field: Int, value: String)? = nil) -> ISO8583Message {
        var message = ISO8583Message(mti: MTI(version == 0 ? "0800" : "1804")!)
        message.set(7, transmissionDateTime())
        message.set(11, sixDigits(stan))
        if version == 0 {
            message.set(70, request.informationCode)
        } else {
            message.set(24, request.functionCode)
        }
        if let extra { message.set(extra.field, extra.value) }
        return message
    }

    /// The answer to a network management request received on a listener or from a host:
    /// accepted (1987 DE 39 `00`, 1993 `800`), the request's fields echoed.
    static func answer(to request: ISO8583Message, mapping: ISO8583Mapping, results: ResultCodeTable) -> ISO8583Message {
        var answer = request.answerSkeleton()
        answer.set(39, mapping.responseCode(for: ResultCode(8000)!, results: results) ?? (mapping.usesActionCodes ? "800" : "00"))
        return answer
    }

    /// Whether a network management answer accepts the request.
    static func isAccepted(_ answer: ISO8583Message, mapping: ISO8583Mapping, results: ResultCodeTable) -> Bool {
        guard let code = answer.string(39), let result = mapping.result(forResponseCode: code, results: results) else { return false }
        return result.category == .approved || result.category == .network
    }

    /// DE 7 now (UTC): MMDDhhmmss.
    static func transmissionDateTime() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return twoDigits(parts.tm_mon + 1) + twoDigits(parts.tm_mday) + twoDigits(parts.tm_hour) + twoDigits(parts.tm_min) + twoDigits(parts.tm_sec)
    }

    static func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func sixDigits(_ value: UInt32) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

extension ISO8583Mapping {
    /// The canonical result a DE 39 value means in this mapping's form (a 1987 code or a 1993 action code).
    /// The canonical result of DE 39 in an answer of message class `messageClass` (see ``ResultCodeTable/fromISO87(_:messageClass:)``).
    func result(forResponseCode code: String, messageClass: Int? = nil, results: ResultCodeTable) -> ResultCode? {
        usesActionCodes ? results.fromISO93(code, messageClass: messageClass) : results.fromISO87(code, messageClass: messageClass)
    }
}
