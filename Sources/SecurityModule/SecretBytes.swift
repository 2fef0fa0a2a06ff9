internal import CLibCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Key material or a clear PIN, in memory of its own that is wiped when the last reference goes:
/// never in a `String`, never printed (its description names only its size).
///
/// Immutable once made, so it is shared freely between threads.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let storage: UnsafeMutableRawBufferPointer
    /// Whether the memory is pages of its own, kept out of core dumps and swap.
    private let isLongLived: Bool

    /// Copies `bytes` in; the caller wipes its own copy (``wipe(_:)``).
    ///
    /// - Parameter longLived: For a key held for the life of the process (the security module's):
    ///   pages of its own, excluded from core dumps and locked in memory when the system allows.
    public init(_ bytes: some Collection<UInt8>, longLived: Bool = false) {
        count = bytes.count
        isLongLived = longLived
        if longLived {
            let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
            let size = (max(bytes.count, 1) + page - 1) / page * page
            storage = .allocate(byteCount: size, alignment: page)
            _ = madvise(storage.baseAddress, size, MADV_DONTDUMP)
            _ = mlock(storage.baseAddress, size)  // best effort: RLIMIT_MEMLOCK may refuse it
        } else {
            storage = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        }
        storage.copyBytes(from: bytes)
    }

    /// `count` random bytes from OpenSSL's generator.
    public static func random(count: Int) throws(SecurityError) -> SecretBytes {
        var bytes = [UInt8](repeating: 0, count: count)
        defer { wipe(&bytes) }
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw SecurityError.drain("RAND_bytes") }
        return SecretBytes(bytes)
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        if isLongLived { _ = munlock(storage.baseAddress, storage.count) }
        storage.deallocate()
    }

    public let count: Int

    /// Calls `body` with the bytes; they must not outlive the call.
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Constant-time comparison.
    public func isEqual(to other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withBytes { mine in other.withBytes { theirs in CRYPTO_memcmp(mine.baseAddress, theirs.baseAddress, count) == 0 } }
    }

    public var description: String { "<secret, \(count) bytes>" }
    public var debugDescription: String { description }

    /// Overwrites an array's bytes with zeros in a way the compiler keeps.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }
}
