import Dispatch
import ISO8583
import SecurityModule
import Synchronization

/// Dynamic key exchange on a channel (ISO 8583:1987 0800, DE 70): the PIN key the switch encrypts
/// PIN blocks under towards the host, or the link's MAC key, changes while traffic flows.
///
/// - The host sends `161` with a new key wrapped under the zone master key and its check value in
///   the configured element: the switch unwraps it, checks the KCV, uses it for every PIN block
///   from then on, keeps it in the key store, and answers `00` (a wrong KCV: refused, key kept).
/// - The host sends `162`: the switch answers `00`, makes a new key and sends it with `161`; it uses
///   it once the host accepts it. The switch also does this every `every`, when set.
///
/// A key is wrapped with the zone master key in ECB, block by block (inside the security module),
/// and carried as hexadecimal text followed by its 6-digit KCV. The old key stays good for a grace
/// period: the host's for PIN blocks sent before the change; the switch's (`grace`) for answers MAC'd
/// under the old MAC key.
final class KeyExchange: Sendable {
    static let newKeyCode = "161"
    static let requestKeyCode = "162"

    private let module: any PaymentSecurityModule
    /// The zone master key's name.
    let zoneMaster: String
    /// The name of the key that changes (the channel's PIN or MAC key).
    let changing: String
    /// The data element the wrapped key and its KCV travel in.
    let field: Int
    let every: Duration?
    /// A key offered with 161 and not yet accepted: what puts it in place.
    private struct Offer: Sendable {
        let commit: @Sendable () throws(SecurityError) -> Void
    }

    /// Offers by the STAN of their 0800.
    private let offered = Mutex<[UInt32: Offer]>([:])
    /// Uptime nanoseconds of the last key change, or of the last offer in flight.
    private let lastChange = Mutex<UInt64>(DispatchTime.now().uptimeNanoseconds)
    init(module: any PaymentSecurityModule, zoneMaster: String, changing: String, field: Int, every: Duration?) throws(SecurityError) {
        guard try module.describe(zoneMaster).usage == .zoneMaster else {
            throw SecurityError(operation: "setting up key exchange", reason: "\(zoneMaster) is not a zone master key")
        }
        self.module = module
        self.zoneMaster = zoneMaster
        self.changing = changing
        self.field = field
        self.every = every
    }

    /// A host's 161: the wrapped key and KCV it carries put in use.
    func received(_ message: ISO8583Message) throws {
        guard let text = message.string(field) else {
            throw SecurityError(operation: "changing the PIN key", reason: "the 0800 has no DE \(field)")
        }
        guard text.utf8.count > 6, let wrapped = Hex.decode(text.dropLast(6)) else {
            throw SecurityError(operation: "changing the PIN key", reason: "DE \(field) is not a wrapped key and its KCV")
        }
        try module.importKey(wrapped, kcv: String(text.suffix(6)), under: zoneMaster, replacing: changing)
        lastChange.withLock { $0 = DispatchTime.now().uptimeNanoseconds }
    }

    /// A new key to offer with 161 under `stan`: its element value (the wrapped key and its KCV).
    func offer(stan: UInt32) throws -> String {
        let (wrapped, kcv, commit) = try module.newKey(like: changing, under: zoneMaster)
        let offer = Offer(commit: commit)
        offered.withLock { $0[stan] = offer }
        return Hex.encode(wrapped) + kcv
    }

    /// The host answered the 161 sent under `stan`: the key is put in use when it accepted it.
    func answered(stan: UInt32, accepted: Bool) throws {
        guard let offer = offered.withLock({ $0.removeValue(forKey: stan) }), accepted else { return }
        try offer.commit()
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
