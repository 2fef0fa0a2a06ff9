/// A value that must never be printed in clear: its description, debug description and string
/// interpolation all show it masked. Use ``revealed`` only where the clear value must go on the wire.
public struct SensitiveText: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// ASCII of up to 40 bytes (a track 2, an expiry date) is held inline: no allocation, no
    /// reference counting. Anything else is a string. A given text always takes the same form,
    /// so `==` and `hash` compare like for like.
    private enum Storage: Sendable, Hashable {
        case inline(InlineBytes)
        case text(String)
    }

    private let storage: Storage

    /// The clear value. Reading it is a deliberate act: search the code base for `revealed`.
    public var revealed: String {
        switch storage {
        case .inline(let bytes): bytes.string
        case .text(let text): text
        }
    }

    public init(_ value: String) {
        var value = value
        let inline = value.withUTF8 { isASCII($0) ? InlineBytes($0) : nil }
        self.init(storage: inline.map(Storage.inline) ?? .text(value))
    }

    /// The text of UTF-8 bytes, without building a string when they are ASCII and short.
    package init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        if isASCII(bytes), let inline = InlineBytes(bytes) {
            self.init(storage: .inline(inline))
        } else {
            self.init(String(unsafeUninitializedCapacity: bytes.count) { $0.initialize(fromContentsOf: bytes) })
        }
    }

    private init(storage: Storage) {
        self.storage = storage
    }

    /// Calls `body` with the clear value's UTF-8: for writing it on the wire without a string.
    /// Not generic, so that a call from another module needs no generic metadata.
    package func withRevealedUTF8(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch storage {
        case .inline(let bytes): bytes.withBytes(body)
        case .text(var text): text.withUTF8(body)
        }
    }

    public var description: String {
        switch storage {
        case .inline(let bytes): String(repeating: "*", count: bytes.count)
        case .text(let text): String(repeating: "*", count: text.count)
        }
    }
    public var debugDescription: String { "SensitiveText(\(description))" }
    /// `dump` and debuggers see only the mask.
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}

/// Whether every byte of `bytes` passes: eight bytes at a time through `word` (the last word
/// overlapping the one before it, so a byte may be tested twice), or, for fewer than eight bytes,
/// one at a time through `byte`. The one word loop of the byte checks of this package and its codecs.
@inlinable @inline(__always)
package func everyWord(of bytes: UnsafeBufferPointer<UInt8>, passes word: (UInt64) -> Bool, orEveryByte byte: (UInt8) -> Bool) -> Bool {
    guard let base = bytes.baseAddress, bytes.count >= 8 else {
        var passes = true
        for value in bytes { passes = passes && byte(value) }
        return passes
    }
    let raw = UnsafeRawPointer(base)
    var offset = 0
    while offset + 8 <= bytes.count {
        guard word(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) else { return false }
        offset += 8
    }
    return offset == bytes.count || word(raw.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
}

/// Whether every byte is an ASCII digit; shared with the codecs of this package.
@inline(__always)
package func isASCIIDigits(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    everyWord(of: bytes, passes: areEightASCIIDigits, orEveryByte: isASCIIDigit)
}

/// Whether the eight bytes of `word` are all ASCII digits; shared with the codecs of this package.
@inlinable @inline(__always)
package func areEightASCIIDigits(_ word: UInt64) -> Bool {
    let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0, threes: UInt64 = 0x3030_3030_3030_3030
    return word & high == threes && (word &+ 0x0606_0606_0606_0606) & high == threes
}

/// Whether every byte is ASCII (below 0x80); shared with the codecs of this package.
@inline(__always)
package func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    everyWord(of: bytes, passes: { $0 & 0x8080_8080_8080_8080 == 0 }, orEveryByte: { $0 < 0x80 })
}

/// Bytes that must never be printed in clear (EMV chip data, whose tags 5A and 57 carry the PAN
/// and track 2): description, debug description, interpolation and `dump` show only the length.
public struct SensitiveBytes: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The bytes; decoded from a frame, a slice of it (no copy).
    private let bytes: ArraySlice<UInt8>

    /// The clear bytes. Reading them is a deliberate act: search the code base for `revealed`.
    public var revealed: [UInt8] { Array(bytes) }

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// Bytes that stay in the array they are a slice of (a decoded frame), which they keep alive.
    package init(slice: ArraySlice<UInt8>) { bytes = slice }

    /// The clear bytes without a copy, for writing them on the wire.
    package var revealedSlice: ArraySlice<UInt8> { bytes }

    public var count: Int { bytes.count }
    public var description: String { "(\(bytes.count) bytes)" }
    public var debugDescription: String { "SensitiveBytes\(description)" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}

/// A primary account number: printed with only its first six and last four digits.
public struct PAN: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The 12 to 19 ASCII digits, inline: no allocation, no reference counting.
    private let digits: InlineBytes

    /// The clear number. Reading it is a deliberate act: search the code base for `revealed`.
    public var revealed: String { digits.string }

    /// A PAN of 12 to 19 ASCII digits, or nil.
    public init?(_ digits: String) {
        var digits = digits
        guard let value = digits.withUTF8({ PAN.isValid($0) ? InlineBytes($0) : nil }) else { return nil }
        self.digits = value
    }

    /// A PAN of 12 to 19 ASCII digits, or nil.
    package init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard PAN.isValid(bytes), let value = InlineBytes(bytes) else { return nil }
        digits = value
    }

    @inline(__always)
    private static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (12...19).contains(bytes.count) && isASCIIDigits(bytes)
    }

    /// Calls `body` with the clear digits (ASCII), without building a string. Not generic, so
    /// that a call from another module needs no generic metadata.
    package func withRevealedDigits(_ body: (UnsafeBufferPointer<UInt8>) -> Void) { digits.withBytes(body) }

    /// The issuer identification number prefix used for routing (first six or eight digits).
    public func bin(length: Int = 6) -> String {
        digits.withBytes { bytes in
            let prefix = UnsafeBufferPointer(rebasing: bytes.prefix(max(length, 0)))
            return String(unsafeUninitializedCapacity: prefix.count) { $0.initialize(fromContentsOf: prefix) }
        }
    }

    /// First six and last four digits (at least 13 digits), else all masked: the PCI DSS display rule.
    public var description: String { digits.withBytes { PAN.masked(ascii: $0) } }

    /// The PCI DSS display rule for any PAN-like text: first six and last four characters when it
    /// has at least 13, else nothing. The one place this rule is written.
    public static func masked(_ text: String) -> String {
        var text = text
        if let masked = text.withUTF8({ isASCII($0) ? PAN.masked(ascii: $0) : nil }) { return masked }
        let characters = Array(text)
        guard characters.count >= 13 else { return String(repeating: "*", count: characters.count) }
        return String(characters[..<6]) + String(repeating: "*", count: characters.count - 10)
            + String(characters[(characters.count - 4)...])
    }

    /// ``masked(_:)`` for ASCII bytes, without going through characters (the journal masks every PAN).
    static func masked(ascii bytes: UnsafeBufferPointer<UInt8>) -> String {
        let count = bytes.count
        return String(unsafeUninitializedCapacity: count) { out in
            for index in 0..<count {
                out[index] = count >= 13 && (index < 6 || index >= count - 4) ? bytes[index] : UInt8(ascii: "*")
            }
            return count
        }
    }

    public var debugDescription: String { "PAN(\(description))" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}
