/// A value that must never be printed in clear: its description, debug description and string
/// interpolation all show it masked. Use ``revealed`` only where the clear value must go on the wire.
public struct SensitiveText: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The clear value. Reading it is a deliberate act: search the code base for `revealed`.
    public let revealed: String

    public init(_ value: String) { revealed = value }

    public var description: String { String(repeating: "*", count: revealed.count) }
    public var debugDescription: String { "SensitiveText(\(description))" }
    /// `dump` and debuggers see only the mask.
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}

/// Bytes that must never be printed in clear (EMV chip data, whose tags 5A and 57 carry the PAN
/// and track 2): description, debug description, interpolation and `dump` show only the length.
public struct SensitiveBytes: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The clear bytes. Reading them is a deliberate act: search the code base for `revealed`.
    public let revealed: [UInt8]

    public init(_ bytes: [UInt8]) { revealed = bytes }

    public var count: Int { revealed.count }
    public var description: String { "(\(revealed.count) bytes)" }
    public var debugDescription: String { "SensitiveBytes\(description)" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}

/// A primary account number: printed with only its first six and last four digits.
public struct PAN: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The clear number. Reading it is a deliberate act: search the code base for `revealed`.
    public let revealed: String

    /// A PAN of 12 to 19 digits, or nil.
    public init?(_ digits: String) {
        // ASCII digits are one byte and one character each: count and test the bytes. Anything
        // else takes the character path, which decides the same way.
        if digits.utf8.allSatisfy(PaymentModel.isASCIIDigit) {
            guard (12...19).contains(digits.utf8.count) else { return nil }
        } else {
            guard (12...19).contains(digits.count), digits.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        }
        revealed = digits
    }

    /// A PAN of digits the caller has already checked: 12 to 19 ASCII digits.
    package init(checkedDigits digits: String) {
        revealed = digits
    }

    /// The issuer identification number prefix used for routing (first six or eight digits).
    public func bin(length: Int = 6) -> String { String(revealed.prefix(length)) }

    /// First six and last four digits (at least 13 digits), else all masked: the PCI DSS display rule.
    public var description: String { PAN.masked(revealed) }

    /// The PCI DSS display rule for any PAN-like text: first six and last four characters when it
    /// has at least 13, else nothing. The one place this rule is written.
    public static func masked(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count >= 13 else { return String(repeating: "*", count: characters.count) }
        return String(characters[..<6]) + String(repeating: "*", count: characters.count - 10)
            + String(characters[(characters.count - 4)...])
    }

    public var debugDescription: String { "PAN(\(description))" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}
