/// 64-bit FNV-1a: a fixed, seedless hash, so the same bytes give the same number in every process
/// (Swift's `Hasher` is seeded per process and would move split traffic on every restart).
struct FNV1a: Sendable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    @inline(__always)
    mutating func add(_ text: String) {
        for byte in text.utf8 { add(byte) }
        add(0x1F)  // a separator, so ("ab", "c") and ("a", "bc") differ
    }

    /// The hash as 16 lowercase hexadecimal digits.
    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
