internal import CLibCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Protects card data the switch keeps at rest: seals stored messages with AES-256-GCM and gives
/// each PAN a keyed lookup hash (HMAC-SHA-256), so a journal can be searched by card without
/// holding the card number.
///
/// Two keys are derived from one 32-byte data key, one per use, so the lookup hash reveals
/// nothing about the sealing key.
public struct DataProtection: Sendable {
    private let sealingKey: [UInt8]
    private let lookupKey: [UInt8]
    /// Names the data key in what it keyed (a record's PAN lookup hash): 8 hexadecimal digits of a
    /// third derived value, so that a journal kept across a key change shows which key hashed each
    /// card, and the name reveals nothing of the key.
    public let keyID: String

    /// Key bytes a data key has.
    public static let keyCount = 32

    /// - Parameter key: The 32-byte data key.
    public init(key: [UInt8]) throws(SecurityError) {
        guard key.count == DataProtection.keyCount else {
            throw SecurityError(operation: "loading the data key", reason: "a data key is \(DataProtection.keyCount) bytes, not \(key.count)")
        }
        sealingKey = try DataProtection.hmac(key: key, Array("payswitch sealing key v1".utf8))
        lookupKey = try DataProtection.hmac(key: key, Array("payswitch PAN lookup key v1".utf8))
        keyID = DataProtection.hexadecimal(try DataProtection.hmac(key: key, Array("payswitch key id v1".utf8)).prefix(4))
    }

    /// Bytes as lowercase hexadecimal digits, two per byte (the key file, the key id).
    static func hexadecimal(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    /// 32 random bytes from OpenSSL's generator.
    public static func randomKey() throws(SecurityError) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: keyCount)
        guard RAND_bytes(&key, Int32(keyCount)) == 1 else { throw SecurityError.drain("RAND_bytes") }
        return key
    }

    /// The PAN's lookup hash: 32 hexadecimal digits (the first 16 bytes of HMAC-SHA-256 over its digits).
    public func lookupHash(ofDigits digits: UnsafeBufferPointer<UInt8>) -> String {
        (try? lookupHasher())?.hash(ofDigits: digits) ?? ""
    }

    /// A hasher giving the same lookup hashes as ``lookupHash(ofDigits:)``, for one thread to reuse.
    public func lookupHasher() throws(SecurityError) -> LookupHasher {
        try LookupHasher(key: lookupKey, keyID: keyID)
    }

    /// The PAN's lookup hash as a journal record keeps it: the key's id, a colon, the hash
    /// (``LookupHasher/recordHash(ofDigits:)``).
    public func recordHash(ofDigits digits: UnsafeBufferPointer<UInt8>) -> String {
        (try? lookupHasher())?.recordHash(ofDigits: digits) ?? ""
    }

    /// `plaintext` sealed: a 12-byte random nonce, the ciphertext, then the 16-byte tag.
    public func seal(_ plaintext: [UInt8]) throws(SecurityError) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        guard RAND_bytes(&nonce, 12) == 1 else { throw SecurityError.drain("RAND_bytes") }
        let context = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, sealingKey, nonce) == 1 else {
            throw SecurityError.drain("EVP_EncryptInit_ex")
        }
        var sealed = nonce + [UInt8](repeating: 0, count: plaintext.count + 16)
        var written: Int32 = 0
        let ok = sealed.withUnsafeMutableBufferPointer { out -> Bool in
            guard EVP_EncryptUpdate(context, out.baseAddress! + 12, &written, plaintext, Int32(plaintext.count)) == 1 else { return false }
            var last: Int32 = 0
            guard EVP_EncryptFinal_ex(context, out.baseAddress! + 12 + Int(written), &last) == 1 else { return false }
            return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, out.baseAddress! + 12 + plaintext.count) == 1
        }
        guard ok else { throw SecurityError.drain("sealing with AES-256-GCM") }
        return sealed
    }

    /// The plaintext of a sealed value; fails when it was not sealed with this key or was changed.
    public func open(_ sealed: [UInt8]) throws(SecurityError) -> [UInt8] {
        guard sealed.count >= 28 else { throw SecurityError(operation: "opening a sealed value", reason: "\(sealed.count) bytes is too short") }
        let context = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(context) }
        let count = sealed.count - 28
        var plaintext = [UInt8](repeating: 0, count: count)
        let ok = sealed.withUnsafeBufferPointer { input -> Bool in
            let base = input.baseAddress!
            guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, sealingKey, base) == 1 else { return false }
            var written: Int32 = 0
            let updated = plaintext.withUnsafeMutableBufferPointer { out in
                EVP_DecryptUpdate(context, out.baseAddress, &written, base + 12, Int32(count)) == 1
            }
            guard updated else { return false }
            var tag = Array(input[(12 + count)...])
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { return false }
            var last: Int32 = 0
            var scratch = [UInt8](repeating: 0, count: 16)
            return EVP_DecryptFinal_ex(context, &scratch, &last) == 1
        }
        guard ok else {
            ERR_clear_error()
            throw SecurityError(operation: "opening a sealed value", reason: "not sealed with this data key, or changed since")
        }
        return plaintext
    }

    private static func hmac(key: [UInt8], _ data: [UInt8]) throws(SecurityError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &out, &length) != nil else {
            throw SecurityError.drain("HMAC-SHA-256")
        }
        return Array(out.prefix(Int(length)))
    }
}

/// A failed cryptographic operation: what was done, why, and OpenSSL's error queue.
public struct SecurityError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What we were doing, such as `HMAC-SHA-256`.
    public let operation: String
    /// Our own words on what failed.
    public let reason: String
    /// OpenSSL's error queue, oldest first.
    public let stack: [String]

    public init(operation: String, reason: String, stack: [String] = []) {
        self.operation = operation
        self.reason = reason
        self.stack = stack
    }

    public var description: String {
        var text = "SecurityError: \(operation) failed"
        if !reason.isEmpty { text += ": \(reason)" }
        if !stack.isEmpty { text += " [" + stack.joined(separator: "; ") + "]" }
        return text
    }

    /// Empties OpenSSL's thread-local error queue into an error.
    static func drain(_ operation: String) -> SecurityError {
        var stack: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            stack.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return SecurityError(operation: operation, reason: "", stack: stack)
    }
}
