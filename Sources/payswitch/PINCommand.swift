import ArgumentParser
import Foundation
import ISO8583
import SecurityModule

/// A PIN zone named on the command line: a key of the store (a BDK with `--ksn`) and a format.
struct ZoneOptions {
    static func reference(key: String, format number: Int, ksn: String?) throws -> PINZoneReference {
        let format = try commandLineFormat(number, "--format")
        guard let ksn else { return PINZoneReference(key: key, format: format) }
        guard let serial = Hex.decode(ksn) else { throw ValidationError("a KSN is hexadecimal digits (20 for TDES DUKPT, 24 for AES)") }
        return PINZoneReference(key: key, format: format, ksn: serial)
    }

    /// The zone, with its key (derived for DUKPT), for the commands that build or check a block.
    static func zone(_ store: KeyStore, key: String, format number: Int, ksn: String?) throws -> PINBlock.Zone {
        let reference = try reference(key: key, format: number, ksn: ksn)
        let stored = try store.key(named: key)
        guard let serial = reference.ksn else { return try PINBlock.Zone(key: stored, format: reference.format) }
        return try PINBlock.Zone(key: try DUKPT.pinKey(bdk: stored, ksn: serial), format: reference.format)
    }

    /// The next line of standard input, digits only (a PIN or a PAN: never on the command line).
    static func digits(_ what: String) throws -> [UInt8] {
        let line = Array((readLine(strippingNewline: true) ?? "").utf8.filter { $0 != UInt8(ascii: " ") })
        guard !line.isEmpty, line.allSatisfy({ $0 &- 0x30 <= 9 }) else { throw ValidationError("expected the \(what) as digits on standard input") }
        return line
    }
}

/// `payswitch pin`: PIN blocks under the key store's keys, as the switch builds and translates them.
struct PINCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin",
        abstract: "Encrypt, translate and verify ISO 9564 PIN blocks (formats 0, 1, 3, 4) under the key store's keys.",
        discussion: "PINs and card numbers are read from standard input, one per line, never from the command line.",
        subcommands: [Encrypt.self, Translate.self, Verify.self])

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a PIN, then a PAN, from standard input; print the PIN block.")
        @OptionGroup var store: KeyStoreOptions
        @Option(help: "PIN key (zpk or tpk), or a bdk with --ksn.") var key: String
        @Option(help: "0, 1, 3 or 4.") var format = 0
        @Option(help: "DUKPT key serial number (20 hexadecimal digits): --key is the BDK.") var ksn: String?

        func run() throws {
            let zone = try ZoneOptions.zone(try store.open(), key: key, format: format, ksn: ksn)
            var pin = try ZoneOptions.digits("PIN")
            defer { SecretBytes.wipe(&pin) }
            print(Hex.encode(try PINBlock.encrypt(pin: pin, pan: try ZoneOptions.digits("PAN"), zone: zone)))
        }
    }

    struct Translate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-encrypt a PIN block from one key and format to another; the PAN from standard input.")
        @OptionGroup var store: KeyStoreOptions
        @Argument(help: "The PIN block, hexadecimal.") var block: String
        @Option(help: "Source key (a bdk with --from-ksn).") var from: String
        @Option(help: "Source format.") var fromFormat = 0
        @Option(help: "Source DUKPT KSN.") var fromKsn: String?
        @Option(help: "Target key.") var to: String
        @Option(help: "Target format.") var toFormat = 0

        func run() throws {
            // The switch's own call: the security module translates by key name.
            let module = SoftwareSecurityModule(keys: try store.open(), path: nil)
            guard let bytes = Hex.decode(block) else { throw ValidationError("the PIN block is hexadecimal digits") }
            let source = try ZoneOptions.reference(key: from, format: fromFormat, ksn: fromKsn)
            let target = try ZoneOptions.reference(key: to, format: toFormat, ksn: nil)
            print(Hex.encode(try module.translatePIN(bytes, pan: try ZoneOptions.digits("PAN"), from: source, to: target)))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that a PIN block holds the PIN read from standard input (then the PAN); exit 1 if not.")
        @OptionGroup var store: KeyStoreOptions
        @Argument(help: "The PIN block, hexadecimal.") var block: String
        @Option(help: "PIN key (a bdk with --ksn).") var key: String
        @Option(help: "0, 1, 3 or 4.") var format = 0
        @Option(help: "DUKPT KSN.") var ksn: String?

        func run() throws {
            let zone = try ZoneOptions.zone(try store.open(), key: key, format: format, ksn: ksn)
            guard let bytes = Hex.decode(block) else { throw ValidationError("the PIN block is hexadecimal digits") }
            var pin = try ZoneOptions.digits("PIN")
            defer { SecretBytes.wipe(&pin) }
            let holds = PINBlock.verify(bytes, pin: pin, pan: try ZoneOptions.digits("PAN"), zone: zone)
            print(holds ? "verified" : "not verified")
            if !holds { throw ExitCode(1) }
        }
    }
}

/// `payswitch mac`: message authentication codes under the key store's MAC keys.
struct MACCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mac",
        abstract: "Compute the MAC of data read from standard input (hexadecimal): ISO 9797-1 algorithm 3 under a TDES key, AES-CMAC under an AES key.")
    @OptionGroup var store: KeyStoreOptions
    @Option(help: "MAC key (mak).") var key: String
    @Option(help: "ISO 9797-1 padding for the retail MAC: zeros (method 1) or bit (method 2).") var padding = "zeros"

    func run() throws {
        let stored = try store.open().key(named: key)
        guard stored.usage == .mac else { throw ValidationError("\(key) is a \(stored.usage.rawValue) key, not a MAC key") }
        let text = (readLine(strippingNewline: true) ?? "").filter { !$0.isWhitespace }
        guard let data = Hex.decode(text) else { throw ValidationError("standard input is not hexadecimal digits") }
        let mac = stored.cipher == .tdes
            ? try MessageAuthentication.retailMAC(data, key: stored.secret, padding: try commandLineValue(padding, "--padding"))
            : try MessageAuthentication.aesCMAC(data, key: stored.secret)
        print(Hex.encode(mac))
    }
}
