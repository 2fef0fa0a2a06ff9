internal import CLibCrypto
import Dispatch
import Synchronization

/// A PIN zone as the switch names it: a key of the security module, the PIN block format, and for
/// DUKPT (the key is a base derivation key) the KSN of the terminal's block.
public struct PINZoneReference: Sendable, Hashable {
    public var key: String
    public var format: PINBlock.Format
    public var ksn: [UInt8]?

    public init(key: String, format: PINBlock.Format, ksn: [UInt8]? = nil) {
        self.key = key
        self.format = format
        self.ksn = ksn
    }
}

/// A key as a security module shows it: what it is for, its cipher and length, its check value.
public struct KeyDescription: Sendable, Hashable {
    public var usage: WorkingKey.Usage
    public var cipher: BlockCipher
    public var length: Int
    public var kcv: String
}

/// What the switch asks of a security module, by key name: PIN translation, MACs, and the key
/// changes of key exchange. Clear keys and clear PINs never cross it, so a hardware HSM can stand
/// behind the same calls; ``SoftwareSecurityModule`` is the one over the key store.
public protocol PaymentSecurityModule: Sendable {
    /// What a key is (never its value); fails when there is no such key.
    func describe(_ key: String) throws(SecurityError) -> KeyDescription
    /// A PIN block re-encrypted from one zone to another in one call, for the card `pan` (ASCII digits).
    func translatePIN(_ block: [UInt8], pan: [UInt8], from source: PINZoneReference, to target: PINZoneReference) throws(SecurityError) -> [UInt8]
    /// 8 bytes of MAC over `data` under a MAC key: ISO 9797-1 algorithm 3 (TDES) or AES-CMAC (AES).
    func mac(_ data: ArraySlice<UInt8>, key: String) throws(SecurityError) -> [UInt8]
    /// Whether `mac` is the MAC of `data` under the key, or under the key it replaced less than
    /// `grace` ago (messages sent before a key change still arriving).
    func verifyMAC(_ mac: [UInt8], of data: ArraySlice<UInt8>, key: String, grace: Duration) -> Bool
    /// Puts a key received wrapped under a zone master key (and checked against its KCV) in place
    /// of the key `name`, kept for good.
    func importKey(_ wrapped: [UInt8], kcv: String, under zoneMaster: String, replacing name: String) throws(SecurityError)
    /// A fresh key like `name`, wrapped under a zone master key, with its KCV; `commit` puts it in
    /// place of `name` (once the other side has accepted it).
    func newKey(like name: String, under zoneMaster: String) throws(SecurityError)
        -> (wrapped: [UInt8], kcv: String, commit: @Sendable () throws(SecurityError) -> Void)
}

/// The software security module: the key store's keys, unwrapped once and held in wiped memory.
/// Keys it changes (key exchange) are written back to the key store file when it has one.
public final class SoftwareSecurityModule: PaymentSecurityModule {
    private let store: Mutex<KeyStore>
    private let path: String?
    private let cache = Mutex<[String: WorkingKey]>([:])
    /// Keys replaced by a key change, with when (uptime nanoseconds), for a grace period.
    private let replaced = Mutex<[String: (key: WorkingKey, at: UInt64)]>([:])

    /// - Parameter path: The key store file changed keys are written to (nil: kept in memory only).
    public init(keys: KeyStore, path: String?) {
        store = Mutex(keys)
        self.path = path
    }

    func key(_ name: String) throws(SecurityError) -> WorkingKey {
        if let cached = cache.withLock({ $0[name] }) { return cached }
        let key = try store.withLock { (keys: inout KeyStore) throws(SecurityError) in try keys.key(named: name) }
        cache.withLock { $0[name] = key }
        return key
    }

    public func describe(_ name: String) throws(SecurityError) -> KeyDescription {
        let key = try key(name)
        return KeyDescription(usage: key.usage, cipher: key.cipher, length: key.secret.count, kcv: try key.checkValue())
    }

    func zone(_ reference: PINZoneReference) throws(SecurityError) -> PINBlock.Zone {
        let key = try key(reference.key)
        guard let ksn = reference.ksn else { return try PINBlock.Zone(key: key, format: reference.format) }
        return try PINBlock.Zone(key: try DUKPT.pinKey(bdk: key, ksn: ksn), format: reference.format)
    }

    public func translatePIN(_ block: [UInt8], pan: [UInt8], from source: PINZoneReference, to target: PINZoneReference) throws(SecurityError) -> [UInt8] {
        try PINBlock.translate(block, pan: pan, from: try zone(source), to: try zone(target))
    }

    public func mac(_ data: ArraySlice<UInt8>, key name: String) throws(SecurityError) -> [UInt8] {
        try SoftwareSecurityModule.mac(data, key: try key(name), name: name)
    }

    private static func mac(_ data: ArraySlice<UInt8>, key: WorkingKey, name: String) throws(SecurityError) -> [UInt8] {
        guard key.usage == .mac else { throw SecurityError(operation: "computing a MAC", reason: "\(name) is not a MAC key") }
        let bytes = Array(data)
        return key.cipher == .tdes
            ? try MessageAuthentication.retailMAC(bytes, key: key.secret)
            : Array(try MessageAuthentication.aesCMAC(bytes, key: key.secret).prefix(8))
    }

    public func verifyMAC(_ mac: [UInt8], of data: ArraySlice<UInt8>, key name: String, grace: Duration) -> Bool {
        func matches(_ key: WorkingKey) -> Bool {
            guard let expected = try? SoftwareSecurityModule.mac(data, key: key, name: name), expected.count == mac.count else { return false }
            var difference: UInt8 = 0
            for index in expected.indices { difference |= expected[index] ^ mac[index] }
            return difference == 0
        }
        if let current = try? key(name), matches(current) { return true }
        guard let previous = replaced.withLock({ $0[name] }) else { return false }
        let (seconds, attoseconds) = grace.components
        let graceNanoseconds = UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
        return DispatchTime.now().uptimeNanoseconds &- previous.at < graceNanoseconds && matches(previous.key)
    }

    public func importKey(_ wrapped: [UInt8], kcv: String, under zoneMaster: String, replacing name: String) throws(SecurityError) {
        let master = try key(zoneMaster), like = try key(name)
        guard master.usage == .zoneMaster else { throw SecurityError(operation: "importing a key", reason: "\(zoneMaster) is not a zone master key") }
        guard wrapped.count == like.secret.count else {
            throw SecurityError(operation: "importing a key", reason: "a wrapped \(wrapped.count)-byte key does not replace a \(like.secret.count)-byte one")
        }
        var clear = try master.cipher.decrypt(wrapped, key: master.secret)
        defer { SecretBytes.wipe(&clear) }
        let key = try WorkingKey(cipher: like.cipher, usage: like.usage, secret: SecretBytes(clear, longLived: true))
        guard try key.checkValue() == kcv.uppercased() else {
            throw SecurityError(operation: "importing a key", reason: "its check value does not match")
        }
        try replace(name, with: key)
    }

    public func newKey(like name: String, under zoneMaster: String) throws(SecurityError)
        -> (wrapped: [UInt8], kcv: String, commit: @Sendable () throws(SecurityError) -> Void) {
        let master = try key(zoneMaster), like = try key(name)
        guard master.usage == .zoneMaster else { throw SecurityError(operation: "making a key", reason: "\(zoneMaster) is not a zone master key") }
        var fresh = [UInt8](repeating: 0, count: like.secret.count)
        defer { SecretBytes.wipe(&fresh) }
        guard RAND_bytes(&fresh, Int32(fresh.count)) == 1 else { throw SecurityError.drain("RAND_bytes") }
        let key = try WorkingKey(cipher: like.cipher, usage: like.usage, secret: SecretBytes(fresh, longLived: true))
        var clear = key.secret.withBytes { Array($0) }
        defer { SecretBytes.wipe(&clear) }
        guard clear.count % master.cipher.blockSize == 0 else {
            throw SecurityError(operation: "wrapping a key", reason: "a \(clear.count)-byte key is not whole \(master.cipher.rawValue.uppercased()) blocks")
        }
        let wrapped = try master.cipher.encrypt(clear, key: master.secret)
        return (wrapped, try key.checkValue(), { [self] () throws(SecurityError) in try replace(name, with: key) })
    }

    /// Keeps a changed key: in the key store file first (a restart must find it), then in use.
    private func replace(_ name: String, with key: WorkingKey) throws(SecurityError) {
        try store.withLock { (keys: inout KeyStore) throws(SecurityError) in
            var changed = keys
            try changed.add(key, name: name, replacing: true)
            if let path { try changed.save(path: path) }
            keys = changed
        }
        if let old = cache.withLock({ cache in cache.updateValue(key, forKey: name) }) {
            replaced.withLock { $0[name] = (old, DispatchTime.now().uptimeNanoseconds) }
        }
    }
}
