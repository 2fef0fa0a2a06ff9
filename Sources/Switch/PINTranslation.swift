import ISO8583
import PaymentModel
import SecurityModule

/// Re-encrypts PIN blocks (DE 52) from the zone of the listener a request came on to the zone of
/// the channel it goes to, in one call of the security module; the zones are checked once at start.
///
/// A request is translated when both its listener and its channel name a PIN zone; otherwise DE 52
/// is carried as it came. A block that does not translate (wrong key, not a PIN block of the
/// source format for this card, no KSN) is never forwarded: the switch answers it with the
/// security-violation result.
struct PINTranslation: Sendable {
    /// Where a listener's PIN blocks come from: a key, or a DUKPT BDK (its cipher gives the KSN's
    /// size) and the element holding the KSN.
    struct Source: Sendable {
        let zone: PINZoneReference
        let ksnField: Int?
        let ksnLength: Int
    }

    private let module: any PaymentSecurityModule
    private let sources: [Int: Source]
    private let targets: [String: PINZoneReference]

    /// Nil when no listener and no channel names a PIN zone.
    init?(_ configuration: SwitchConfiguration, module: (any PaymentSecurityModule)?) throws {
        let named = configuration.listeners.contains { $0.pin != nil } || configuration.channels.contains { $0.pin != nil }
        guard named else { return nil }
        guard let module else {
            throw SwitchError("PIN zones are configured but no key store is open (security: key-store)")
        }
        var sources: [Int: Source] = [:]
        for (index, listener) in configuration.listeners.enumerated() {
            guard let pin = listener.pin else { continue }
            let owner = "listener \(listener.name)"
            let key = try PINTranslation.describe(module, pin.key, owner)
            if key.usage == .baseDerivation {
                guard let field = pin.ksnField else { throw SwitchError("\(owner): key \(pin.key) is a DUKPT BDK, so pin needs ksn-field") }
                guard (pin.format == .iso4) == (key.cipher == .aes) else {
                    throw SwitchError("\(owner): AES DUKPT PIN blocks are format 4, TDES DUKPT ones formats 0, 1 and 3")
                }
                sources[index] = Source(zone: PINZoneReference(key: pin.key, format: pin.format), ksnField: field, ksnLength: key.cipher == .aes ? 12 : 10)
            } else {
                try PINTranslation.check(key, pin, owner)
                sources[index] = Source(zone: PINZoneReference(key: pin.key, format: pin.format), ksnField: nil, ksnLength: 0)
            }
        }
        var targets: [String: PINZoneReference] = [:]
        for channel in configuration.channels {
            guard let pin = channel.pin else { continue }
            try PINTranslation.check(try PINTranslation.describe(module, pin.key, "channel \(channel.name)"), pin, "channel \(channel.name)")
            targets[channel.name] = PINZoneReference(key: pin.key, format: pin.format)
        }
        self.module = module
        self.sources = sources
        self.targets = targets
    }

    private static func describe(_ module: any PaymentSecurityModule, _ name: String, _ owner: String) throws -> KeyDescription {
        do {
            return try module.describe(name)
        } catch {
            throw SwitchError("\(owner): PIN key \(name): \(error.reason)")
        }
    }

    /// A PIN key fits its zone: a PIN key, of the cipher its format is encrypted under.
    private static func check(_ key: KeyDescription, _ pin: PINZoneConfiguration, _ owner: String) throws {
        guard key.usage == .zonePIN || key.usage == .terminalPIN else {
            throw SwitchError("\(owner): PIN key \(pin.key): a \(key.usage.rawValue) key does not encrypt PINs")
        }
        guard key.cipher == pin.format.cipher else {
            throw SwitchError("\(owner): PIN key \(pin.key): format \(pin.format.rawValue) PIN blocks are under \(pin.format.cipher.rawValue.uppercased()), not \(key.cipher.rawValue.uppercased())")
        }
    }

    /// Translates DE 52 of `message` (the request as the channel's host reads it, card number
    /// included) when the listener and the channel both have a zone.
    func translate(_ message: inout ISO8583Message, listener: Int, channel: String) throws(SecurityError) {
        guard let block = message.bytes(52), let source = sources[listener], let target = targets[channel] else { return }
        guard var pan = message.bytes(2) else {
            throw SecurityError(operation: "translating a PIN block", reason: "the request has a PIN block (DE 52) but no PAN (DE 2)")
        }
        defer { SecretBytes.wipe(&pan) }
        var from = source.zone
        if let field = source.ksnField {
            guard let raw = message.bytes(field) else {
                throw SecurityError(operation: "translating a PIN block", reason: "no DUKPT KSN in DE \(field)")
            }
            // TDES KSNs are 10 bytes, AES ones 12; either raw or as hexadecimal text.
            let length = source.ksnLength
            guard let ksn = raw.count == length ? raw : Hex.decode(String(decoding: raw, as: UTF8.self)), ksn.count == length else {
                throw SecurityError(operation: "translating a PIN block", reason: "DE \(field) is not a KSN (\(length) bytes or \(2 * length) hexadecimal digits)")
            }
            from.ksn = ksn
        }
        let translated = try module.translatePIN(block, pan: pan, from: from, to: target)
        if !message.overwriteBytes(52, with: translated) { message.set(52, bytes: translated) }
    }
}

extension ResultCode {
    /// A PIN block or MAC that does not check out, or a security module failure.
    static let securityViolation = ResultCode(9120)!
}
