internal import CLibCrypto

/// Message authentication codes of payment links: ISO 9797-1 algorithm 3 (the retail MAC, ANSI
/// X9.19) over DES, and AES-CMAC (NIST SP 800-38B, RFC 4493).
public enum MessageAuthentication {
    /// How a message is padded to whole blocks (ISO 9797-1).
    public enum Padding: String, Sendable, Codable {
        /// Method 1: zeros, none when the message fills its last block.
        case zeros
        /// Method 2: a one bit (0x80), then zeros.
        case bit
    }

    /// ISO 9797-1 algorithm 3 under a double-length key (K1 K2): single-DES CBC under K1 over
    /// every block, the last result decrypted under K2 and encrypted under K1 again. 8 bytes.
    public static func retailMAC(_ message: [UInt8], key: SecretBytes, padding: Padding = .zeros) throws(SecurityError) -> [UInt8] {
        guard key.count == 16 else {
            throw SecurityError(operation: "ISO 9797-1 algorithm 3", reason: "the key is 16 bytes (K1 K2), not \(key.count)")
        }
        var data = message
        if padding == .bit { data.append(0x80) }
        if data.isEmpty || data.count % 8 != 0 { data += [UInt8](repeating: 0, count: 8 - data.count % 8) }
        return try key.withBytes { (bytes) throws(SecurityError) -> [UInt8] in
            var keys = Array(bytes)
            defer { SecretBytes.wipe(&keys) }
            var chain = try BlockCipher.singleDESCBCLastBlock(data, key: keys[0..<8])
            chain = try BlockCipher.singleDES(chain, key: keys[8..<16], encrypt: false)
            return try BlockCipher.singleDES(chain, key: keys[0..<8], encrypt: true)
        }
    }

    /// AES-CMAC of `message`: 16 bytes (callers truncate to what their field carries).
    public static func aesCMAC(_ message: [UInt8], key: SecretBytes) throws(SecurityError) -> [UInt8] {
        let cipherName: String
        switch key.count {
        case 16: cipherName = "AES-128-CBC"
        case 24: cipherName = "AES-192-CBC"
        case 32: cipherName = "AES-256-CBC"
        default: throw SecurityError(operation: "AES-CMAC", reason: "an AES key is 16, 24 or 32 bytes, not \(key.count)")
        }
        guard let mac = EVP_MAC_fetch(nil, "CMAC", nil) else { throw SecurityError.drain("EVP_MAC_fetch CMAC") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { throw SecurityError.drain("EVP_MAC_CTX_new") }
        defer { EVP_MAC_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: 16)
        var length = 0
        let done = "cipher".withCString { name in
            cipherName.withCString { value in
                var parameters = [OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: value), 0), OSSL_PARAM_construct_end()]
                return key.withBytes { keyBytes in
                    EVP_MAC_init(context, keyBytes.baseAddress, keyBytes.count, &parameters) == 1
                        && EVP_MAC_update(context, message, message.count) == 1
                        && EVP_MAC_final(context, &output, &length, 16) == 1
                }
            }
        }
        guard done, length == 16 else { throw SecurityError.drain("AES-CMAC") }
        return output
    }
}
