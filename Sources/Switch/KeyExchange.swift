import Dispatch
import ISO8583
import SecurityModule
import Synchronization

/// Dynamic key exchange on a channel (ISO 8583:1987 0800, DE 70): the PIN key the switch encrypts
/// PIN blocks under towards the host changes while traffic flows.
///
/// - The host sends `161` with a new key wrapped under the zone master key and its check value in
///   the configured element: the switch unwraps it, checks the KCV, uses it for every PIN block
///   from then on, keeps it in the key store, and answers `00` (a wrong KCV: refused, key kept).
/// - The host sends `162`: the switch answers `00`, makes a new key and sends it with `161`; it uses
///   it once the host accepts it. The switch also does this every `every`, when set.
///
/// A key is wrapped with the zone master key in ECB, block by block, and carried as hexadecimal
/// text followed by its 6-digit KCV. The host keeps accepting the old key for its own grace period:
/// PIN blocks sent before the change reach it under the old one.
final class KeyExchange: Sendable {
    static let newKeyCode = "161"
    static let requestKeyCode = "162"

    let zoneMaster: WorkingKey
    /// The data element the wrapped key and its KCV travel in.
    let field: Int
    let every: Duration?
    private let install: @Sendable (WorkingKey) throws -> Void
    private let current: @Sendable () -> WorkingKey?
    /// Keys sent with 161 and not yet accepted, by the STAN of their 0800.
    private let offered = Mutex<[UInt32: WorkingKey]>([:])
    /// Uptime nanoseconds of the last key change, or of the last offer in flight.
    private let lastChange = Mutex<UInt64>(DispatchTime.now().uptimeNanoseconds)

    /// - Parameters:
    ///   - install: Puts a key in use (and in the key store); it throws when the key cannot be kept.
    ///   - current: The key in use now (its cipher and length are those of new keys).
    init(zoneMaster: WorkingKey, field: Int, every: Duration?, install: @escaping @Sendable (WorkingKey) throws -> Void,
         current: @escaping @Sendable () -> WorkingKey?) throws(SecurityError) {
        guard zoneMaster.usage == .zoneMaster else {
            throw SecurityError(operation: "setting up key exchange", reason: "a \(zoneMaster.usage.rawValue) key is not a zone master key")
        }
        self.zoneMaster = zoneMaster
        self.field = field
        self.every = every
        self.install = install
        self.current = current
    }

    /// The wrapped key and its KCV, as the element carries them.
    func wrap(_ key: WorkingKey) throws(SecurityError) -> String {
        var clear = key.secret.withBytes { Array($0) }
        defer { SecretBytes.wipe(&clear) }
        guard clear.count % zoneMaster.cipher.blockSize == 0 else {
            throw SecurityError(operation: "wrapping a key", reason: "a \(clear.count)-byte key is not whole \(zoneMaster.cipher.rawValue.uppercased()) blocks")
        }
        return Hex.encode(try zoneMaster.cipher.encrypt(clear, key: zoneMaster.secret)) + (try key.checkValue())
    }

    /// The key an element carries, like the key in use; fails on a wrong length or KCV.
    func unwrap(_ text: String) throws(SecurityError) -> WorkingKey {
        guard let like = current() else { throw SecurityError(operation: "unwrapping a key", reason: "the channel has no PIN key") }
        let hexLength = 2 * like.secret.count
        guard text.utf8.count == hexLength + 6, let wrapped = Hex.decode(text.prefix(hexLength)) else {
            throw SecurityError(operation: "unwrapping a key", reason: "DE \(field) is not a wrapped \(like.secret.count)-byte key and its KCV")
        }
        var clear = try zoneMaster.cipher.decrypt(wrapped, key: zoneMaster.secret)
        defer { SecretBytes.wipe(&clear) }
        let key = try WorkingKey(cipher: like.cipher, usage: like.usage, secret: SecretBytes(clear))
        guard try key.checkValue() == text.suffix(6).uppercased() else {
            throw SecurityError(operation: "unwrapping a key", reason: "its check value does not match")
        }
        return key
    }

    /// A host's 161: the key it carries put in use.
    func received(_ message: ISO8583Message) throws {
        guard let text = message.string(field) else {
            throw SecurityError(operation: "changing the PIN key", reason: "the 0800 has no DE \(field)")
        }
        try install(try unwrap(text))
        lastChange.withLock { $0 = DispatchTime.now().uptimeNanoseconds }
    }

    /// A new key to offer with 161 under `stan`: its element value.
    func offer(stan: UInt32) throws -> String {
        guard let like = current() else { throw SecurityError(operation: "making a PIN key", reason: "the channel has no PIN key") }
        let key = try WorkingKey(cipher: like.cipher, usage: like.usage, secret: SecretBytes.random(count: like.secret.count))
        let text = try wrap(key)
        offered.withLock { $0[stan] = key }
        return text
    }

    /// The host answered the 161 sent under `stan`: the key is put in use when it accepted it.
    func answered(stan: UInt32, accepted: Bool) throws {
        guard let key = offered.withLock({ $0.removeValue(forKey: stan) }), accepted else { return }
        try install(key)
    }

    /// Whether a scheduled change is due now; claims it when it is.
    func claimScheduledChange(now: UInt64) -> Bool {
        guard let every else { return false }
        return lastChange.withLock { last in
            guard now &- last >= UInt64(every.nanosecondsClamped) else { return false }
            last = now
            return true
        }
    }
}
