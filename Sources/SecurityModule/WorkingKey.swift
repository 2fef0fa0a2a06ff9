/// A symmetric key of the payment networks: its cipher, its use and its secret bytes.
public struct WorkingKey: Sendable {
    /// What a key is for; one key, one use.
    public enum Usage: String, Sendable, CaseIterable, Codable {
        /// Zone PIN key: PIN blocks between the switch and a network or host.
        case zonePIN = "zpk"
        /// Zone master key: wraps working keys sent in key exchange.
        case zoneMaster = "zmk"
        /// Terminal PIN key: PIN blocks from one terminal (or a group).
        case terminalPIN = "tpk"
        /// MAC key for a link.
        case mac = "mak"
        /// DUKPT base derivation key.
        case baseDerivation = "bdk"
    }

    public let cipher: BlockCipher
    public let usage: Usage
    public let secret: SecretBytes

    public init(cipher: BlockCipher, usage: Usage, secret: SecretBytes) throws(SecurityError) {
        guard cipher.keyLengths.contains(secret.count) else {
            throw SecurityError(operation: "making a \(usage.rawValue) key",
                                reason: "a \(cipher.rawValue.uppercased()) key is \(cipher.keyLengths.map(String.init).joined(separator: ", ")) bytes, not \(secret.count)")
        }
        self.cipher = cipher
        self.usage = usage
        self.secret = secret
    }

    /// The key check value, 6 hexadecimal digits: TDES encrypts a block of zeros; AES takes the
    /// AES-CMAC of a block of zeros (ANSI X9.24-1:2017), as payShield and AWS Payment Cryptography do.
    public func checkValue() throws(SecurityError) -> String {
        let zeros = [UInt8](repeating: 0, count: cipher.blockSize)
        let value = cipher == .tdes ? try cipher.encrypt(zeros, key: secret) : try MessageAuthentication.aesCMAC(zeros, key: secret)
        return Hex.encode(value.prefix(3))
    }
}

/// Hexadecimal text of bytes, and back, for key check values and key files. (The codecs have their
/// own in `ISO8583`; this module depends on no codec.)
enum Hex {
    /// Uppercase hexadecimal digits.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of an even number of hexadecimal digits (either case); nil for anything else.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8? = nil
        for character in text.utf8 {
            guard let nibble = nibble(character) else { return nil }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? bytes : nil
    }

    static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
