internal import CLibCrypto

/// Gives PANs their lookup hash with one keyed HMAC-SHA-256 context kept for reuse: the switch's
/// storage writer hashes a PAN per transaction, and setting up OpenSSL's MAC each time costs more
/// than the hash.
///
/// Not thread-safe: one hasher per thread or serial queue (``DataProtection/lookupHash(ofDigits:)``
/// makes a fresh one per call).
public final class LookupHasher {
    private let context: OpaquePointer
    /// The data key's id (``DataProtection/keyID``).
    public let keyID: String

    init(key: [UInt8], keyID: String) throws(SecurityError) {
        self.keyID = keyID
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw SecurityError.drain("EVP_MAC_fetch HMAC") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { throw SecurityError.drain("EVP_MAC_CTX_new") }
        let keyed = "digest".withCString { name in
            "SHA256".withCString { digest in
                var parameters = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return EVP_MAC_init(context, key, key.count, &parameters) == 1
            }
        }
        guard keyed else {
            EVP_MAC_CTX_free(context)
            throw SecurityError.drain("EVP_MAC_init HMAC-SHA-256")
        }
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// The lookup hash as a journal record keeps it: `<key id>:<hash>`, so that a record names the
    /// key a lookup must use.
    public func recordHash(ofDigits digits: UnsafeBufferPointer<UInt8>) -> String {
        keyID + ":" + hash(ofDigits: digits)
    }

    /// Whether a record's lookup hash is the one `wanted`: the same text, or the same hash where
    /// one of them names no key (records written before hashes named their key).
    public static func matches(_ wanted: String, _ recorded: String) -> Bool {
        if wanted == recorded { return true }
        let wantedParts = wanted.split(separator: ":", maxSplits: 1), recordedParts = recorded.split(separator: ":", maxSplits: 1)
        guard wantedParts.count != recordedParts.count else { return false }
        return wantedParts.last == recordedParts.last
    }

    /// The lookup hash of a PAN's digits: 32 hexadecimal digits (the first 16 bytes of the HMAC).
    public func hash(ofDigits digits: UnsafeBufferPointer<UInt8>) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { mac in
            var length = 0
            // Re-initialised without a key: OpenSSL restarts from the key it holds.
            guard EVP_MAC_init(context, nil, 0, nil) == 1, EVP_MAC_update(context, digits.baseAddress, digits.count) == 1,
                  EVP_MAC_final(context, mac.baseAddress, &length, 64) == 1, length >= 16
            else {
                ERR_clear_error()
                return ""
            }
            return String(unsafeUninitializedCapacity: 32) { text in
                let hexDigits: StaticString = "0123456789abcdef"
                hexDigits.withUTF8Buffer { table in
                    for index in 0..<16 {
                        text[2 * index] = table[Int(mac[index] >> 4)]
                        text[2 * index + 1] = table[Int(mac[index] & 0x0F)]
                    }
                }
                return 32
            }
        }
    }
}
