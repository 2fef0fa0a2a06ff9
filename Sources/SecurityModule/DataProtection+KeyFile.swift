#if canImport(Glibc)
import Glibc
#endif

extension DataProtection {
    /// Reads the data key from a file of 64 hexadecimal digits, creating the file with a fresh
    /// random key (readable by its owner only) when it does not exist.
    ///
    /// Losing the file makes what was sealed with it unreadable; the switch refuses to start
    /// rather than silently make a new key for an existing store (see the storage's key check).
    public static func loadOrCreateKey(path: String) throws(SecurityError) -> (key: [UInt8], created: Bool) {
        if let text = readSmallFile(path) {
            let trimmed = text.filter { !$0.isWhitespace }
            guard trimmed.count == keyCount * 2, let key = Hex.decode(trimmed) else {
                throw SecurityError(operation: "reading the data key \(path)", reason: "expected \(keyCount * 2) hexadecimal digits")
            }
            return (key, false)
        }
        let key = try randomKey()
        let text = hexadecimal(key) + "\n"
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw SecurityError(operation: "creating the data key \(path)", reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let written = text.utf8CString.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(descriptor) == 0 else {
            throw SecurityError(operation: "writing the data key \(path)", reason: String(cString: strerror(errno)))
        }
        return (key, true)
    }

    private static func readSmallFile(_ path: String) -> String? {
        let descriptor = Glibc.open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = read(descriptor, &bytes, bytes.count)
        guard count >= 0 else { return nil }
        return String(decoding: bytes.prefix(count), as: UTF8.self)
    }
}
