/// The outcome of a transaction as a canonical four-digit code, in ranges (after jPOS CMF):
/// 0xxx approved, 1xxx-2xxx declined, 4xxx reversal, 8xxx network management, 9xxx system error.
///
/// Each endpoint's own codes (ISO 8583 DE 39 in its dialect's form, ISO 20022 status and reason)
/// map to and from these through the tables in specs/codes.
public struct ResultCode: Sendable, Hashable, CustomStringConvertible {
    /// The canonical code, 0-9999.
    public let value: Int

    public init?(_ value: Int) {
        guard (0...9999).contains(value) else { return nil }
        self.value = value
    }

    /// The range a code belongs to.
    public enum Category: String, Sendable, Hashable {
        case approved, declined, reversal, network, systemError
    }

    public var category: Category {
        switch value {
        case 0..<1000: return .approved
        case 4000..<5000: return .reversal
        case 8000..<9000: return .network
        case 9000...: return .systemError
        default: return .declined
        }
    }

    public var description: String {
        let digits = String(value)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    public static let approved = ResultCode(0)!
    /// The acknowledgement of a reversal (1987 "00", 1993 "400").
    public static let reversalAccepted = ResultCode(4000)!
    public static let doNotHonour = ResultCode(1000)!
    public static let insufficientFunds = ResultCode(1016)!
    public static let invalidCard = ResultCode(1014)!
    public static let issuerUnavailable = ResultCode(9107)!
    public static let issuerTimeout = ResultCode(9111)!
    public static let systemError = ResultCode(9109)!
}
