/// Up to 40 bytes held inside the value itself: a PAN or a track 2 without a heap allocation, and
/// copied or destroyed without reference counting.
struct InlineBytes: Sendable, Hashable {
    /// The most bytes a value holds.
    static let capacity = 40

    /// The bytes, then zeros: the zeros keep `==` and `hash` a plain comparison of the words.
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    private let length: UInt8

    /// The bytes, or nil when there are more than ``capacity``.
    @inline(__always)
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= InlineBytes.capacity else { return nil }
        let count = bytes.count
        length = UInt8(count)
        // Composed in registers: bytes copied into the words and then read as words (when the
        // value is copied) stall on store forwarding.
        let source = UnsafeRawPointer(bytes.baseAddress)
        words = (
            littleEndianWord(source, 0, min(count, 8)).littleEndian, littleEndianWord(source, 8, min(max(count - 8, 0), 8)).littleEndian,
            littleEndianWord(source, 16, min(max(count - 16, 0), 8)).littleEndian, littleEndianWord(source, 24, min(max(count - 24, 0), 8)).littleEndian,
            littleEndianWord(source, 32, max(count - 32, 0)).littleEndian)
    }

    /// The bytes of a string, or nil when its UTF-8 takes more than ``capacity``.
    init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ InlineBytes($0) }) else { return nil }
        self = value
    }

    var count: Int { Int(length) }

    /// Calls `body` with the bytes.
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: words) { raw in
            try body(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: Int(length)))
        }
    }

    /// The bytes as a string (UTF-8; a value of up to 15 ASCII bytes is an inline string).
    var string: String {
        withBytes { bytes in String(unsafeUninitializedCapacity: bytes.count) { $0.initialize(fromContentsOf: bytes) } }
    }

    static func == (lhs: InlineBytes, rhs: InlineBytes) -> Bool {
        lhs.length == rhs.length && lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(length)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
        hasher.combine(words.4)
    }
}

/// `length` (0-8) bytes from `offset` as a little-endian number, never reading past them: a short
/// value moved into inline storage in registers, without a `memcpy` call.
@inlinable @inline(__always)
func littleEndianWord(_ source: UnsafeRawPointer?, _ offset: Int, _ length: Int) -> UInt64 {
    guard length > 0, let base = source.map({ $0 + offset }) else { return 0 }
    func load<Word: FixedWidthInteger>(_: Word.Type, _ at: Int) -> UInt64 {
        UInt64(Word(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Word.self)))
    }
    switch length {
    case 8...:
        return load(UInt64.self, 0)
    case 4...:
        // Two overlapping halves: the bytes they share are the same, so OR joins them.
        return load(UInt32.self, 0) | load(UInt32.self, length - 4) << UInt64(8 * (length - 4))
    default:
        return load(UInt8.self, 0) | load(UInt8.self, length / 2) << UInt64(8 * (length / 2))
            | load(UInt8.self, length - 1) << UInt64(8 * (length - 1))
    }
}
