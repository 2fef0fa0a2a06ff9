/// ANSI X9.24-3:2017 AES DUKPT, as a host uses it: from an AES base derivation key and the 12-byte
/// KSN a terminal sent (an 8-byte initial key ID and a 32-bit counter), the working key that
/// terminal used. Every key is derived by AES-ECB of 16 bytes of derivation data (version, block
/// counter, key usage, algorithm, length, and the key ID and counter) under the key above it.
public enum AESDUKPT {
    /// Key usages of the derivation data (X9.24-3 table 2).
    enum Usage: UInt16 {
        case pinEncryption = 0x1000
        case macGeneration = 0x2000
        case keyDerivation = 0x8000
        case initialKey = 0x8001
    }

    /// The terminal's initial key: the BDK derives it from the initial key ID.
    public static func initialKey(bdk: WorkingKey, initialKeyID: [UInt8]) throws(SecurityError) -> SecretBytes {
        guard bdk.cipher == .aes, bdk.usage == .baseDerivation else {
            throw SecurityError(operation: "deriving an AES DUKPT initial key", reason: "AES DUKPT needs an AES BDK")
        }
        guard initialKeyID.count == 8 else {
            throw SecurityError(operation: "deriving an AES DUKPT initial key", reason: "an initial key ID is 8 bytes, not \(initialKeyID.count)")
        }
        return try derive(bdk.secret, length: bdk.secret.count, data: data(.initialKey, length: bdk.secret.count, tail: initialKeyID))
    }

    /// The derivation key of the KSN's counter: one derivation per bit set, from the highest.
    public static func derivationKey(initialKey: SecretBytes, ksn: [UInt8]) throws(SecurityError) -> SecretBytes {
        let (identifier, counter) = try split(ksn)
        var key = initialKey
        var mask: UInt32 = 1 << 31
        var working: UInt32 = 0
        while mask != 0 {
            if counter & mask != 0 {
                working |= mask
                key = try derive(key, length: key.count, data: data(.keyDerivation, length: key.count, tail: tail(identifier, working)))
            }
            mask >>= 1
        }
        return key
    }

    /// The AES PIN encryption key a terminal used for the KSN (`length` bytes, AES-128 by default).
    public static func pinKey(bdk: WorkingKey, ksn: [UInt8], length: Int = 16) throws(SecurityError) -> WorkingKey {
        let (identifier, counter) = try split(ksn)
        let initial = try initialKey(bdk: bdk, initialKeyID: identifier)
        let derivation = try derivationKey(initialKey: initial, ksn: ksn)
        let key = try derive(derivation, length: length, data: data(.pinEncryption, length: length, tail: tail(identifier, counter)))
        return try WorkingKey(cipher: .aes, usage: .terminalPIN, secret: key)
    }

    /// The initial key ID and the counter of a KSN; a counter a terminal never uses is refused.
    static func split(_ ksn: [UInt8]) throws(SecurityError) -> (identifier: [UInt8], counter: UInt32) {
        guard ksn.count == 12 else {
            throw SecurityError(operation: "reading an AES DUKPT KSN", reason: "a KSN is 12 bytes (24 hexadecimal digits), not \(ksn.count)")
        }
        let counter = ksn[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard counter != 0, counter.nonzeroBitCount <= 16 else {
            throw SecurityError(operation: "reading an AES DUKPT KSN", reason: "counter \(counter) is not one a terminal uses (1 to 16 bits set)")
        }
        return (Array(ksn[0..<8]), counter)
    }

    /// The last 8 bytes of derivation data for a working or derivation key: the key ID's last 4 bytes and the counter.
    static func tail(_ identifier: [UInt8], _ counter: UInt32) -> [UInt8] {
        Array(identifier[4..<8]) + [UInt8(truncatingIfNeeded: counter >> 24), UInt8(truncatingIfNeeded: counter >> 16),
                                    UInt8(truncatingIfNeeded: counter >> 8), UInt8(truncatingIfNeeded: counter)]
    }

    /// Derivation data for a key of `length` bytes (AES).
    static func data(_ usage: Usage, length: Int, tail: [UInt8]) -> [UInt8] {
        let algorithm: UInt8 = length == 16 ? 2 : length == 24 ? 3 : 4
        let bits = UInt16(length * 8)
        return [0x01, 0x01, UInt8(usage.rawValue >> 8), UInt8(usage.rawValue & 0xFF), 0x00, algorithm,
                UInt8(bits >> 8), UInt8(bits & 0xFF)] + tail
    }

    /// `length` bytes of key: AES-ECB of the derivation data under `key`, once per 16 bytes, the
    /// second byte counting the blocks.
    static func derive(_ key: SecretBytes, length: Int, data: [UInt8]) throws(SecurityError) -> SecretBytes {
        var output: [UInt8] = []
        defer { SecretBytes.wipe(&output) }
        var block = data
        for counter in 1...((length + 15) / 16) {
            block[1] = UInt8(counter)
            output += try BlockCipher.aes.encrypt(block, key: key)
        }
        return SecretBytes(output.prefix(length))
    }
}
