/// Appends the values of the switch's stored formats (journal blocks, claim blocks) to one byte
/// buffer: LEB128 integers, text and bytes with their length first.
struct StoredBytesWriter {
    var bytes: [UInt8] = []

    mutating func unsigned(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Zigzag-encoded, so small negative numbers stay short.
    mutating func integer(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func integer(_ value: Int64?) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        integer(value)
    }

    /// Length plus one first, so that 0 stands for nil.
    mutating func text(_ value: String?) {
        guard var value else { return bytes.append(0) }
        value.withUTF8 { utf8 in
            unsigned(UInt64(utf8.count) + 1)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func data<Bytes: Collection<UInt8>>(_ value: Bytes) {
        unsigned(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}

/// Reads what ``StoredBytesWriter`` wrote; every length and number is checked against the bytes
/// that are there, so a damaged block is an error naming the offset, never a crash.
struct StoredBytesReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// What is read, for errors: `journal block 12`.
    let what: String

    init(_ bytes: [UInt8], what: String, from offset: Int = 0) {
        self.bytes = bytes
        self.what = what
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= bytes.count }

    func failure(_ reason: String) -> StorageError {
        StorageError(operation: "reading \(what)", reason: "\(reason) at byte offset \(offset)")
    }

    mutating func byte() throws(StorageError) -> UInt8 {
        guard offset < bytes.count else { throw failure("it ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func unsigned() throws(StorageError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64, shift < 63 || next & 0x7F <= 1 else { throw failure("a number overflows 64 bits") }
            value |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func integer() throws(StorageError) -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func optionalInteger() throws(StorageError) -> Int64? {
        try byte() == 0 ? nil : try integer()
    }

    mutating func count() throws(StorageError) -> Int {
        let value = try unsigned()
        guard value <= UInt64(bytes.count - offset) else { throw failure("a length of \(value) runs past the end") }
        return Int(value)
    }

    mutating func optionalText() throws(StorageError) -> String? {
        let raw = try unsigned()
        guard raw > 0 else { return nil }
        guard raw - 1 <= UInt64(bytes.count - offset) else { throw failure("a length of \(raw - 1) runs past the end") }
        let count = Int(raw - 1)
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    mutating func text() throws(StorageError) -> String {
        guard let value = try optionalText() else { throw failure("a required text is missing") }
        return value
    }

    mutating func data() throws(StorageError) -> [UInt8] {
        let count = try count()
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
