/// ANSI X9.24-1 TDES DUKPT (derived unique key per transaction), as a host uses it: from the base
/// derivation key and the key serial number a terminal sent, the key that terminal used.
///
/// The KSN is 10 bytes: the key set and device (59 bits) and a 21-bit transaction counter.
public enum DUKPT {
    /// The terminal's initial key (IPEK): the BDK encrypts the KSN's left 8 bytes (counter
    /// cleared), once as it is and once under the BDK XOR C0C0C0C000000000C0C0C0C000000000.
    public static func initialKey(bdk: WorkingKey, ksn: [UInt8]) throws(SecurityError) -> SecretBytes {
        guard bdk.cipher == .tdes, bdk.secret.count == 16, bdk.usage == .baseDerivation else {
            throw SecurityError(operation: "deriving a DUKPT initial key", reason: "TDES DUKPT needs a double-length TDES BDK")
        }
        let serial = try cleared(ksn)
        let left8 = Array(serial[0..<8])
        var variantBytes = bdk.secret.withBytes { Array($0) }
        defer { SecretBytes.wipe(&variantBytes) }
        for index in [0, 1, 2, 3, 8, 9, 10, 11] { variantBytes[index] ^= 0xC0 }
        var left = try BlockCipher.tdes.encrypt(left8, key: bdk.secret)
        var right = try BlockCipher.tdes.encrypt(left8, key: SecretBytes(variantBytes))
        defer {
            SecretBytes.wipe(&left)
            SecretBytes.wipe(&right)
        }
        return SecretBytes(left + right)
    }

    /// The transaction key for the KSN's counter: the non-reversible key generation process run
    /// once for each bit set in the counter, from the highest.
    public static func transactionKey(initialKey: SecretBytes, ksn: [UInt8]) throws(SecurityError) -> SecretBytes {
        guard initialKey.count == 16 else {
            throw SecurityError(operation: "deriving a DUKPT key", reason: "the initial key is 16 bytes, not \(initialKey.count)")
        }
        _ = try cleared(ksn)
        let counter = UInt32(ksn[7] & 0x1F) << 16 | UInt32(ksn[8]) << 8 | UInt32(ksn[9])
        guard counter != 0, counter.nonzeroBitCount <= 10 else {
            throw SecurityError(operation: "deriving a DUKPT key", reason: "KSN counter \(counter) is not one a terminal uses (1 to 10 bits set)")
        }
        var key = initialKey.withBytes { Array($0) }
        defer { SecretBytes.wipe(&key) }
        var register = Array(ksn[2..<10])
        register[5] &= 0xE0
        register[6] = 0
        register[7] = 0
        var bit: UInt32 = 1 << 20
        while bit != 0 {
            if counter & bit != 0 {
                register[5] |= UInt8(truncatingIfNeeded: bit >> 16)
                register[6] |= UInt8(truncatingIfNeeded: bit >> 8)
                register[7] |= UInt8(truncatingIfNeeded: bit)
                key = try nonReversible(key, register)
            }
            bit >>= 1
        }
        return SecretBytes(key)
    }

    /// The PIN encryption key a terminal used for the KSN: under a TDES BDK the transaction key
    /// with the PIN variant (…FF in bytes 7 and 15); under an AES BDK, AES DUKPT's (``AESDUKPT``).
    public static func pinKey(bdk: WorkingKey, ksn: [UInt8]) throws(SecurityError) -> WorkingKey {
        if bdk.cipher == .aes { return try AESDUKPT.pinKey(bdk: bdk, ksn: ksn) }
        return try variant(bdk: bdk, ksn: ksn, bytes: [7, 15], usage: .terminalPIN)
    }

    /// The MAC key for requests a terminal used for the KSN (variant …FF.. in bytes 6 and 14).
    public static func requestMACKey(bdk: WorkingKey, ksn: [UInt8]) throws(SecurityError) -> WorkingKey {
        try variant(bdk: bdk, ksn: ksn, bytes: [6, 14], usage: .mac)
    }

    private static func variant(bdk: WorkingKey, ksn: [UInt8], bytes: [Int], usage: WorkingKey.Usage) throws(SecurityError) -> WorkingKey {
        let initial = try initialKey(bdk: bdk, ksn: ksn)
        var key = try transactionKey(initialKey: initial, ksn: ksn).withBytes { Array($0) }
        defer { SecretBytes.wipe(&key) }
        for index in bytes { key[index] ^= 0xFF }
        return try WorkingKey(cipher: .tdes, usage: usage, secret: SecretBytes(key))
    }

    /// The KSN with its counter cleared; checks its size.
    private static func cleared(_ ksn: [UInt8]) throws(SecurityError) -> [UInt8] {
        guard ksn.count == 10 else {
            throw SecurityError(operation: "reading a DUKPT KSN", reason: "a KSN is 10 bytes (20 hexadecimal digits), not \(ksn.count)")
        }
        var serial = ksn
        serial[7] &= 0xE0
        serial[8] = 0
        serial[9] = 0
        return serial
    }

    /// One step of the non-reversible key generation process (X9.24-1 A.2).
    private static func nonReversible(_ key: [UInt8], _ register: [UInt8]) throws(SecurityError) -> [UInt8] {
        func half(_ key: [UInt8]) throws(SecurityError) -> [UInt8] {
            var block = (0..<8).map { register[$0] ^ key[8 + $0] }
            block = try BlockCipher.singleDES(block, key: key[0..<8], encrypt: true)
            return (0..<8).map { block[$0] ^ key[8 + $0] }
        }
        var varied = key
        defer { SecretBytes.wipe(&varied) }
        for index in [0, 1, 2, 3, 8, 9, 10, 11] { varied[index] ^= 0xC0 }
        let right = try half(key)
        let left = try half(varied)
        return left + right
    }
}
