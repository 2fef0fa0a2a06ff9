internal import CLibCrypto

/// ISO 9564-1 PIN blocks: formats 0, 1 and 3 (8 bytes, under TDES) and 4 (16 bytes, under AES),
/// built, opened and translated between keys and formats without the clear PIN leaving this type.
public enum PINBlock {
    public enum Format: Int, Sendable, CaseIterable, Codable {
        /// PIN XOR the account number (ANSI X9.8).
        case iso0 = 0
        /// PIN with random fill, no account number.
        case iso1 = 1
        /// As format 0 with random fill A–F.
        case iso3 = 3
        /// AES: a 16-byte PIN field enciphered twice around the 16-byte account number field.
        case iso4 = 4

        /// The cipher its blocks are encrypted with.
        public var cipher: BlockCipher { self == .iso4 ? .aes : .tdes }
        /// Whether the account number enters the block.
        public var usesPAN: Bool { self != .iso1 }
    }

    /// Where a PIN block is, or is to be: under which key, in which format, for which card.
    public struct Zone: Sendable {
        public let key: WorkingKey
        public let format: Format

        public init(key: WorkingKey, format: Format) throws(SecurityError) {
            guard key.cipher == format.cipher else {
                throw SecurityError(operation: "setting up a PIN zone",
                                    reason: "format \(format.rawValue) PIN blocks are under \(format.cipher.rawValue.uppercased()), not \(key.cipher.rawValue.uppercased())")
            }
            guard key.usage == .zonePIN || key.usage == .terminalPIN else {
                throw SecurityError(operation: "setting up a PIN zone", reason: "a \(key.usage.rawValue) key does not encrypt PINs")
            }
            self.key = key
            self.format = format
        }
    }

    /// The encrypted PIN block of `pin` (4–12 ASCII digits) for the card `pan` (ASCII digits).
    public static func encrypt(pin: some Collection<UInt8>, pan: some Collection<UInt8>, zone: Zone) throws(SecurityError) -> [UInt8] {
        let digits = Array(pin)
        guard (4...12).contains(digits.count), digits.allSatisfy({ $0 &- 0x30 <= 9 }) else {
            throw SecurityError(operation: "building a PIN block", reason: "a PIN is 4 to 12 digits")
        }
        var clear = try ClearPIN(digits: digits.map { $0 - 0x30 })
        defer { clear.wipe() }
        return try seal(clear, pan: Array(pan), zone: zone, operation: "building a PIN block")
    }

    /// The PIN block re-encrypted from one zone's key and format to another's, for the same card:
    /// the clear PIN exists only inside this call, in memory wiped before it returns. Fails (the
    /// switch answers with a security violation) when the block does not open as a well-formed
    /// PIN block of the source format for this card.
    public static func translate(_ block: [UInt8], pan: some Collection<UInt8>, from source: Zone, to target: Zone) throws(SecurityError) -> [UInt8] {
        let account = Array(pan)
        var clear = try open(block, pan: account, zone: source)
        defer { clear.wipe() }
        return try seal(clear, pan: account, zone: target, operation: "translating a PIN block")
    }

    /// Whether `block` holds `pin` for the card: what an issuer simulator checks. The clear PIN
    /// found is compared in constant time and wiped.
    public static func verify(_ block: [UInt8], pin: some Collection<UInt8>, pan: some Collection<UInt8>, zone: Zone) -> Bool {
        guard var clear = try? open(block, pan: Array(pan), zone: zone) else { return false }
        defer { clear.wipe() }
        let expected = Array(pin).map { $0 &- 0x30 }
        guard expected.count == clear.count else { return false }
        return clear.withDigits { digits in
            expected.withUnsafeBufferPointer { CRYPTO_memcmp(digits.baseAddress, $0.baseAddress, digits.count) == 0 }
        }
    }

    // MARK: Inside

    /// PIN digits (values 0–9) in a fixed buffer on the stack of the caller, wiped by ``wipe()``.
    struct ClearPIN {
        var digits: (UInt64, UInt64) = (0, 0)
        var count: Int

        init(digits values: [UInt8]) throws(SecurityError) {
            guard (4...12).contains(values.count) else {
                throw SecurityError(operation: "reading a PIN", reason: "a PIN is 4 to 12 digits, not \(values.count)")
            }
            count = values.count
            withUnsafeMutableBytes(of: &digits) { buffer in
                for (index, value) in values.enumerated() { buffer[index] = value }
            }
        }

        init(count: Int) { self.count = count }

        func withDigits<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            withUnsafeBytes(of: digits) { body(UnsafeBufferPointer(rebasing: $0.bindMemory(to: UInt8.self)[0..<count])) }
        }

        mutating func set(_ index: Int, _ value: UInt8) {
            withUnsafeMutableBytes(of: &digits) { $0[index] = value }
        }

        mutating func wipe() {
            withUnsafeMutableBytes(of: &digits) { OPENSSL_cleanse($0.baseAddress, $0.count) }
            count = 0
        }
    }

    /// The account number field of formats 0 and 3: 0000 and the 12 digits left of the check digit.
    static func accountField(_ pan: [UInt8]) throws(SecurityError) -> [UInt8] {
        guard pan.count >= 13, pan.count <= 19, pan.allSatisfy({ $0 &- 0x30 <= 9 }) else {
            throw SecurityError(operation: "reading the account number", reason: "a PAN for a PIN block is 13 to 19 digits")
        }
        let twelve = pan[(pan.count - 13)..<(pan.count - 1)].map { $0 - 0x30 }
        var field = [UInt8](repeating: 0, count: 8)
        for index in 0..<6 { field[2 + index] = twelve[2 * index] << 4 | twelve[2 * index + 1] }
        return field
    }

    /// The account number field of format 4: the PAN's length less 12, then its digits (12 to
    /// 19, padded on the left with zeros when shorter), then zeros.
    static func extendedAccountField(_ pan: [UInt8]) throws(SecurityError) -> [UInt8] {
        guard (1...19).contains(pan.count), pan.allSatisfy({ $0 &- 0x30 <= 9 }) else {
            throw SecurityError(operation: "reading the account number", reason: "a PAN is 1 to 19 digits")
        }
        let digits = [UInt8](repeating: 0, count: max(0, 12 - pan.count)) + pan.map { $0 - 0x30 }
        var nibbles = [UInt8(digits.count - 12)] + digits
        nibbles += [UInt8](repeating: 0, count: 32 - nibbles.count)
        return (0..<16).map { nibbles[2 * $0] << 4 | nibbles[2 * $0 + 1] }
    }

    static func randomBytes(_ count: Int) throws(SecurityError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw SecurityError.drain("RAND_bytes") }
        return bytes
    }

    /// The clear PIN field of `format` for the digits, random fill included.
    static func pinField(_ clear: ClearPIN, format: Format) throws(SecurityError) -> [UInt8] {
        var random = try randomBytes(16)
        defer { SecretBytes.wipe(&random) }
        var nibbles = [UInt8](repeating: 0, count: format == .iso4 ? 32 : 16)
        defer { SecretBytes.wipe(&nibbles) }
        nibbles[0] = UInt8(format.rawValue)
        nibbles[1] = UInt8(clear.count)
        clear.withDigits { digits in for (index, digit) in digits.enumerated() { nibbles[2 + index] = digit } }
        for index in (2 + clear.count)..<16 {
            switch format {
            case .iso0: nibbles[index] = 0xF
            case .iso1: nibbles[index] = random[index] & 0x0F
            case .iso3: nibbles[index] = 0xA + random[index] % 6
            case .iso4: nibbles[index] = 0xA
            }
        }
        if format == .iso4 {
            for index in 16..<32 { nibbles[index] = (index % 2 == 0 ? random[index / 2] >> 4 : random[index / 2]) & 0x0F }
        }
        return (0..<(nibbles.count / 2)).map { nibbles[2 * $0] << 4 | nibbles[2 * $0 + 1] }
    }

    static func seal(_ clear: ClearPIN, pan: [UInt8], zone: Zone, operation: String) throws(SecurityError) -> [UInt8] {
        var field = try pinField(clear, format: zone.format)
        defer { SecretBytes.wipe(&field) }
        switch zone.format {
        case .iso0, .iso3:
            let account = try accountField(pan)
            for index in 0..<8 { field[index] ^= account[index] }
            return try zone.key.cipher.encrypt(field, key: zone.key.secret)
        case .iso1:
            return try zone.key.cipher.encrypt(field, key: zone.key.secret)
        case .iso4:
            let account = try extendedAccountField(pan)
            var first = try zone.key.cipher.encrypt(field, key: zone.key.secret)
            for index in 0..<16 { first[index] ^= account[index] }
            return try zone.key.cipher.encrypt(first, key: zone.key.secret)
        }
    }

    /// The clear PIN of a block: decrypted, the account number removed, and checked against the
    /// format's layout. Errors say what is wrong without any digit of the PIN.
    static func open(_ block: [UInt8], pan: [UInt8], zone: Zone) throws(SecurityError) -> ClearPIN {
        let size = zone.format == .iso4 ? 16 : 8
        guard block.count == size else {
            throw SecurityError(operation: "opening a PIN block", reason: "a format \(zone.format.rawValue) PIN block is \(size) bytes, not \(block.count)")
        }
        var field: [UInt8]
        switch zone.format {
        case .iso0, .iso3:
            field = try zone.key.cipher.decrypt(block, key: zone.key.secret)
            let account = try accountField(pan)
            for index in 0..<8 { field[index] ^= account[index] }
        case .iso1:
            field = try zone.key.cipher.decrypt(block, key: zone.key.secret)
        case .iso4:
            var inner = try zone.key.cipher.decrypt(block, key: zone.key.secret)
            defer { SecretBytes.wipe(&inner) }
            let account = try extendedAccountField(pan)
            for index in 0..<16 { inner[index] ^= account[index] }
            field = try zone.key.cipher.decrypt(inner, key: zone.key.secret)
        }
        defer { SecretBytes.wipe(&field) }
        func nibble(_ index: Int) -> UInt8 { index % 2 == 0 ? field[index / 2] >> 4 : field[index / 2] & 0x0F }
        let malformed = SecurityError(operation: "opening a PIN block",
                                      reason: "not a format \(zone.format.rawValue) PIN block under this key for this card")
        guard nibble(0) == UInt8(zone.format.rawValue) else { throw malformed }
        let count = Int(nibble(1))
        guard (4...12).contains(count) else { throw malformed }
        var clear = ClearPIN(count: count)
        for index in 0..<count {
            let digit = nibble(2 + index)
            guard digit <= 9 else {
                clear.wipe()
                throw malformed
            }
            clear.set(index, digit)
        }
        for index in (2 + count)..<16 {
            let fill = nibble(index)
            let fits: Bool
            switch zone.format {
            case .iso0: fits = fill == 0xF
            case .iso1: fits = true
            case .iso3: fits = fill >= 0xA
            case .iso4: fits = fill == 0xA
            }
            guard fits else {
                clear.wipe()
                throw malformed
            }
        }
        return clear
    }
}
