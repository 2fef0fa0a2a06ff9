/// A message type indicator: four decimal digits (version, class, function, origin).
public struct MTI: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The four ASCII digits, most significant first, packed big-endian.
    let packed: UInt32

    /// Creates an MTI from four ASCII digit bytes, or nil when they are not digits.
    init?(asciiDigits d0: UInt8, _ d1: UInt8, _ d2: UInt8, _ d3: UInt8) {
        for digit in [d0, d1, d2, d3] where !(0x30...0x39).contains(digit) { return nil }
        packed = UInt32(d0) << 24 | UInt32(d1) << 16 | UInt32(d2) << 8 | UInt32(d3)
    }

    /// Creates an MTI from text such as `"0200"`, or nil when it is not four digits.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 4 else { return nil }
        self.init(asciiDigits: bytes[0], bytes[1], bytes[2], bytes[3])
    }

    /// The digit at `index` (0–3) as a number.
    public func digit(_ index: Int) -> Int { Int((packed >> UInt32(24 - 8 * index)) & 0xFF) - 0x30 }

    /// The ISO 8583 version digit: 0 for 1987, 1 for 1993, 2 for 2003.
    public var version: Int { digit(0) }
    /// The message class digit: 1 authorization, 2 financial, 4 reversal, 8 network management.
    public var messageClass: Int { digit(1) }
    /// The message function digit: 0 request, 1 response, 2 advice, 3 advice response.
    public var function: Int { digit(2) }
    /// The origin digit: 0 acquirer, 1 acquirer repeat, 2 issuer, 3 issuer repeat.
    public var origin: Int { digit(3) }

    /// Whether this MTI is a request or advice that expects an answer (an even function digit).
    public var expectsResponse: Bool { function % 2 == 0 }

    /// The MTI of the answer to this request: the function digit plus one, origin repeat cleared.
    public var response: MTI {
        let function = UInt32(self.function | 1)
        let origin = UInt32(self.origin & ~1)
        return MTI(packed: packed & 0xFFFF_0000 | (0x30 + function) << 8 | (0x30 + origin))
    }

    private init(packed: UInt32) { self.packed = packed }

    /// The four ASCII digit bytes.
    var asciiBytes: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(packed >> 24), UInt8(packed >> 16 & 0xFF), UInt8(packed >> 8 & 0xFF), UInt8(packed & 0xFF))
    }

    public var description: String {
        let bytes = asciiBytes
        return String(decoding: [bytes.0, bytes.1, bytes.2, bytes.3], as: UTF8.self)
    }

    public static func < (lhs: MTI, rhs: MTI) -> Bool { lhs.packed < rhs.packed }
}
