import ISO8583
import PaymentModel
import SecurityModule
import Synchronization

/// Re-encrypts PIN blocks (DE 52) from the zone of the listener a request came on to the zone of
/// the channel it goes to, inside the security module; built once at start from the key store.
///
/// A request is translated when both its listener and its channel name a PIN zone; otherwise DE 52
/// is carried as it came. A block that does not translate (wrong key, not a PIN block of the
/// source format for this card, no KSN) is never forwarded: the switch answers it with the
/// security-violation result.
struct PINTranslation: Sendable {
    /// Where a listener's PIN blocks come from: one key, or a DUKPT BDK and the KSN's field.
    enum Source: Sendable {
        case zone(PINBlock.Zone)
        case dukpt(bdk: WorkingKey, format: PINBlock.Format, ksnField: Int)
    }

    private let sources: [Int: Source]
    /// Each channel's zone; its key changes with key exchange.
    private let targets: [String: ZoneSlot]

    /// A channel's PIN zone, replaced whole when its key changes.
    final class ZoneSlot: Sendable {
        private let zone: Mutex<PINBlock.Zone>
        init(_ zone: PINBlock.Zone) { self.zone = Mutex(zone) }
        var current: PINBlock.Zone { zone.withLock { $0 } }
        func replaceKey(_ key: WorkingKey) throws(SecurityError) {
            let next = try PINBlock.Zone(key: key, format: current.format)
            zone.withLock { $0 = next }
        }
    }

    /// The zone of a channel's PIN blocks, for key exchange.
    func slot(channel: String) -> ZoneSlot? { targets[channel] }

    /// Nil when no listener and no channel names a PIN zone.
    init?(_ configuration: SwitchConfiguration, keys: KeyStore?) throws {
        let named = configuration.listeners.contains { $0.pin != nil } || configuration.channels.contains { $0.pin != nil }
        guard named else { return nil }
        guard let keys else {
            throw SwitchError("PIN zones are configured but no key store is open (security: key-store)")
        }
        var sources: [Int: Source] = [:]
        for (index, listener) in configuration.listeners.enumerated() {
            guard let pin = listener.pin else { continue }
            let key = try PINTranslation.key(keys, pin.key, "listener \(listener.name)")
            if key.usage == .baseDerivation {
                guard let field = pin.ksnField else {
                    throw SwitchError("listener \(listener.name): key \(pin.key) is a DUKPT BDK, so pin needs ksn-field")
                }
                guard (pin.format == .iso4) == (key.cipher == .aes) else {
                    throw SwitchError("listener \(listener.name): AES DUKPT PIN blocks are format 4, TDES DUKPT ones formats 0, 1 and 3")
                }
                sources[index] = .dukpt(bdk: key, format: pin.format, ksnField: field)
            } else {
                sources[index] = .zone(try PINTranslation.zone(key, pin, "listener \(listener.name)"))
            }
        }
        var targets: [String: ZoneSlot] = [:]
        for channel in configuration.channels {
            guard let pin = channel.pin else { continue }
            targets[channel.name] = ZoneSlot(try PINTranslation.zone(try PINTranslation.key(keys, pin.key, "channel \(channel.name)"), pin,
                                                                      "channel \(channel.name)"))
        }
        self.sources = sources
        self.targets = targets
    }

    private static func key(_ keys: KeyStore, _ name: String, _ owner: String) throws -> WorkingKey {
        do {
            return try keys.key(named: name)
        } catch {
            throw SwitchError("\(owner): PIN key \(name): \(error.reason)")
        }
    }

    private static func zone(_ key: WorkingKey, _ pin: PINZoneConfiguration, _ owner: String) throws -> PINBlock.Zone {
        do {
            return try PINBlock.Zone(key: key, format: pin.format)
        } catch {
            throw SwitchError("\(owner): PIN key \(pin.key): \(error.reason)")
        }
    }

    /// Translates DE 52 of `message` (the request as the channel's host reads it, card number
    /// included) when the listener and the channel both have a zone.
    func translate(_ message: inout ISO8583Message, listener: Int, channel: String) throws(SecurityError) {
        guard let block = message.bytes(52), let source = sources[listener], let target = targets[channel]?.current else { return }
        guard var pan = message.bytes(2) else {
            throw SecurityError(operation: "translating a PIN block", reason: "the request has a PIN block (DE 52) but no PAN (DE 2)")
        }
        defer { SecretBytes.wipe(&pan) }
        let from: PINBlock.Zone
        switch source {
        case .zone(let zone):
            from = zone
        case .dukpt(let bdk, let format, let field):
            guard let raw = message.bytes(field) else {
                throw SecurityError(operation: "translating a PIN block", reason: "no DUKPT KSN in DE \(field)")
            }
            // TDES KSNs are 10 bytes, AES ones 12; either raw or as hexadecimal text.
            let length = bdk.cipher == .aes ? 12 : 10
            guard let ksn = raw.count == length ? raw : Hex.decode(String(decoding: raw, as: UTF8.self)), ksn.count == length else {
                throw SecurityError(operation: "translating a PIN block", reason: "DE \(field) is not a KSN (\(length) bytes or \(2 * length) hexadecimal digits)")
            }
            from = try PINBlock.Zone(key: try DUKPT.pinKey(bdk: bdk, ksn: ksn), format: format)
        }
        let translated = try PINBlock.translate(block, pan: pan, from: from, to: target)
        if !message.overwriteBytes(52, with: translated) { message.set(52, bytes: translated) }
    }
}

extension ResultCode {
    /// A PIN block or MAC that does not check out, or a security module failure.
    static let securityViolation = ResultCode(9120)!
}
