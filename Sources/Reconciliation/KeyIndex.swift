#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing table from key bytes to entry numbers, looked up with a row's bytes as they
/// lie in the read buffer: no string is built per row.
///
/// Keys are stored once, back to back; entries are numbered in insertion order from 0.
struct KeyIndex: Sendable {
    private var bytes: [UInt8] = []
    /// Where entry n's bytes start; entry n ends where n + 1 starts.
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Entry number + 1 per slot; 0 is an empty slot.
    private var slots: [Int32]
    private let mask: Int

    /// A table sized for `capacity` keys at most half full, so probe runs stay short.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { hashes.count }

    /// Adds `key` and returns its new entry number, or returns the entry already holding it.
    mutating func insert(_ key: UnsafeRawBufferPointer) -> (entry: Int, inserted: Bool) {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            let entry = Int(slots[slot]) - 1
            if hashes[entry] == hash && equals(entry, key) { return (entry, false) }
            slot = (slot + 1) & mask
        }
        let entry = hashes.count
        hashes.append(hash)
        bytes.append(contentsOf: key)
        starts.append(bytes.count)
        slots[slot] = Int32(entry + 1)
        return (entry, true)
    }

    /// The entry holding `key`, or nil.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> Int? {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            let entry = Int(slots[slot]) - 1
            if hashes[entry] == hash && equals(entry, key) { return entry }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private func equals(_ entry: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = starts[entry]
        let length = starts[entry + 1] - start
        guard length == key.count else { return false }
        guard length > 0 else { return true }
        return bytes.withUnsafeBytes { stored in memcmp(stored.baseAddress! + start, key.baseAddress!, length) == 0 }
    }

    /// FNV-1a, then a final mix so the low bits (the slot) depend on every byte.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}
