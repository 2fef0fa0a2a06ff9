/// How messages are framed on a TCP stream: one descriptor for every common wire format.
///
/// On the wire a frame is `[length prefix][reserved bytes][header or TPDU][payload][trailer]`.
/// Instead of a class per channel (jPOS has about two dozen), one value describes them all; the
/// named presets cover the usual ones.
public struct FrameFormat: Sendable, Hashable, CustomStringConvertible {
    /// How the length prefix is written.
    public enum LengthEncoding: String, Sendable, Hashable, CaseIterable {
        /// Big-endian binary.
        case binary
        /// Decimal digits as ASCII characters.
        case ascii
        /// Hexadecimal digits as ASCII characters.
        case hex
        /// Packed BCD, two decimal digits per byte.
        case bcd
        /// Decimal digits as EBCDIC characters.
        case ebcdic
    }

    /// What precedes the payload after the length prefix and reserved bytes.
    public enum Header: Sendable, Hashable {
        /// Nothing.
        case none
        /// A fixed number of opaque bytes, echoed unchanged on replies.
        case fixed(Int)
        /// A 5-byte TPDU (ID, destination, source); a reply swaps destination and source.
        case tpdu

        /// Bytes the header takes.
        public var byteCount: Int {
            switch self {
            case .none: return 0
            case .fixed(let count): return count
            case .tpdu: return 5
            }
        }
    }

    /// What to do with a frame whose payload is empty (a keep-alive).
    public enum KeepAlive: String, Sendable, Hashable, CaseIterable {
        /// Answer with an empty frame.
        case echo
        /// Drop it.
        case ignore
    }

    /// Bytes of the length prefix, 0–4 (0: frames end at the trailer byte).
    public var lengthBytes: Int
    /// How the length prefix is written.
    public var lengthEncoding: LengthEncoding
    /// Whether the length counts the prefix itself.
    public var lengthIncludesPrefix: Bool
    /// Whether the length counts the header (or TPDU).
    public var lengthIncludesHeader: Bool
    /// Whether the length counts the trailer byte.
    public var lengthIncludesTrailer: Bool
    /// Bytes after the length prefix that carry nothing (zero on write), not counted by the length.
    public var reservedBytes: Int
    /// The header before the payload.
    public var header: Header
    /// A byte that ends every frame (for example ETX, 0x03), if any.
    public var trailer: UInt8?
    /// What to do with empty frames.
    public var keepAlive: KeepAlive
    /// The largest frame accepted or sent, prefix to trailer included. Larger is an error that
    /// closes the connection.
    public var maximumFrameSize: Int

    public init(
        lengthBytes: Int, lengthEncoding: LengthEncoding = .binary, lengthIncludesPrefix: Bool = false,
        lengthIncludesHeader: Bool = false, lengthIncludesTrailer: Bool = false, reservedBytes: Int = 0,
        header: Header = .none, trailer: UInt8? = nil, keepAlive: KeepAlive = .echo,
        maximumFrameSize: Int = FrameFormat.defaultMaximumFrameSize
    ) {
        precondition((0...4).contains(lengthBytes), "a length prefix takes 0 to 4 bytes")
        precondition(lengthBytes > 0 || trailer != nil, "a format without a length prefix needs a trailer byte")
        self.lengthBytes = lengthBytes
        self.lengthEncoding = lengthEncoding
        self.lengthIncludesPrefix = lengthIncludesPrefix
        self.lengthIncludesHeader = lengthIncludesHeader
        self.lengthIncludesTrailer = lengthIncludesTrailer
        self.reservedBytes = reservedBytes
        self.header = header
        self.trailer = trailer
        self.keepAlive = keepAlive
        self.maximumFrameSize = maximumFrameSize
    }

    /// 64 KiB.
    public static let defaultMaximumFrameSize = 64 * 1024

    /// Bytes before the payload: prefix, reserved bytes and header.
    public var overheadBeforePayload: Int { lengthBytes + reservedBytes + header.byteCount }

    /// Bytes after the payload: the trailer, if any.
    public var overheadAfterPayload: Int { trailer == nil ? 0 : 1 }

    /// The largest number the length prefix can carry.
    public var largestLengthValue: Int {
        switch lengthEncoding {
        case .binary: return lengthBytes == 0 ? 0 : (1 << (8 * lengthBytes)) - 1
        case .ascii, .ebcdic: return FrameFormat.powerOf(10, lengthBytes) - 1
        case .hex: return FrameFormat.powerOf(16, lengthBytes) - 1
        case .bcd: return FrameFormat.powerOf(10, 2 * lengthBytes) - 1
        }
    }

    static func powerOf(_ base: Int, _ exponent: Int) -> Int {
        var result = 1
        for _ in 0..<exponent { result *= base }
        return result
    }

    /// The value of the length prefix for a payload of `payloadCount` bytes.
    func lengthValue(payloadCount: Int) -> Int {
        var value = payloadCount
        if lengthIncludesPrefix { value += lengthBytes }
        if lengthIncludesHeader { value += header.byteCount }
        if lengthIncludesTrailer { value += overheadAfterPayload }
        return value
    }

    /// The payload length a length prefix value announces (negative when the value is too small).
    func payloadCount(lengthValue value: Int) -> Int {
        var count = value
        if lengthIncludesPrefix { count -= lengthBytes }
        if lengthIncludesHeader { count -= header.byteCount }
        if lengthIncludesTrailer { count -= overheadAfterPayload }
        return count
    }

    public var description: String {
        for (name, preset) in FrameFormat.presets where preset == self { return name }
        var text = "\(lengthBytes)-byte \(lengthEncoding.rawValue) length"
        if reservedBytes > 0 { text += ", \(reservedBytes) reserved" }
        if header != .none { text += ", header \(header)" }
        if let trailer { text += ", trailer 0x\(String(trailer, radix: 16))" }
        return text
    }
}

extension FrameFormat {
    /// 2-byte big-endian binary length of the payload (jPOS PostChannel, moov Binary2Bytes).
    public static let bin2 = FrameFormat(lengthBytes: 2)
    /// `bin2` plus a 5-byte TPDU counted by the length, swapped on replies (jPOS NACChannel).
    public static let nac2 = FrameFormat(lengthBytes: 2, lengthIncludesHeader: true, header: .tpdu)
    /// 4 ASCII decimal digits (jPOS ASCIIChannel).
    public static let ascii4 = FrameFormat(lengthBytes: 4, lengthEncoding: .ascii)
    /// 2-byte BCD length (jPOS BCDChannel), never wrapping at 10,000.
    public static let bcd2 = FrameFormat(lengthBytes: 2, lengthEncoding: .bcd)
    /// 4 ASCII hexadecimal digits (jPOS HEXChannel).
    public static let hex4 = FrameFormat(lengthBytes: 4, lengthEncoding: .hex)
    /// 4-byte big-endian binary length (jPOS RawChannel).
    public static let bin4 = FrameFormat(lengthBytes: 4)
    /// 2-byte binary length that counts itself (jPOS AmexChannel).
    public static let amex2 = FrameFormat(lengthBytes: 2, lengthIncludesPrefix: true)
    /// 2-byte binary length plus 2 reserved zero bytes (jPOS CSChannel, VAPChannel).
    public static let cs2 = FrameFormat(lengthBytes: 2, reservedBytes: 2)
    /// 2-byte binary length counting an ETX trailer (jPOS BASE24TCPChannel).
    public static let base24 = FrameFormat(lengthBytes: 2, lengthIncludesTrailer: true, trailer: 0x03)
    /// 3-byte binary length (jPOS CMFChannel).
    public static let bin3 = FrameFormat(lengthBytes: 3)

    /// Every preset by name, as accepted on the command line.
    public static let presets: [(String, FrameFormat)] = [
        ("bin2", .bin2), ("nac2", .nac2), ("ascii4", .ascii4), ("bcd2", .bcd2), ("hex4", .hex4), ("bin4", .bin4),
        ("amex2", .amex2), ("cs2", .cs2), ("base24", .base24), ("bin3", .bin3),
    ]

    /// The preset called `name`, if any.
    public static func preset(named name: String) -> FrameFormat? { presets.first { $0.0 == name }?.1 }
}

/// A framing fault: the connection it happened on is closed with this reason.
public struct FramingError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What kind of fault.
    public enum Kind: String, Sendable, Hashable {
        /// The length prefix is not a number in its encoding.
        case invalidLength
        /// The frame is larger than the format's maximum.
        case frameTooLarge
        /// The length is smaller than the parts it must count.
        case lengthTooSmall
        /// The byte where the trailer should be is something else.
        case missingTrailer
        /// A payload too large for the length prefix to express (on write).
        case payloadTooLarge
    }

    public let kind: Kind
    public let reason: String

    public var description: String { "FramingError.\(kind): \(reason)" }
}
