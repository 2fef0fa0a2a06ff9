import Foundation
import ISO8583
import SpecFiles
import SecurityModule
import Switch
import Testing
import TestSupport

/// PIN blocks cross from the terminals' key zone to the issuer's inside the security module; a
/// block that does not translate is answered with a security violation and never forwarded.
@Suite struct SwitchPINTranslationTests {
    static let pin = Array("739215846021".utf8)
    static let pan = Array(SwitchFixtures.pan.utf8)

    static func keys() throws -> KeyStore {
        var keys = KeyStore(master: try MasterKey(key: [UInt8](repeating: 0x21, count: 32)))
        try keys.add(try WorkingKey(cipher: .tdes, usage: .terminalPIN, secret: SecretBytes(Array(repeating: UInt8(0x1F), count: 16).enumerated().map { UInt8($0.offset) ^ $0.element })), name: "terminals")
        try keys.add(try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes(Array(repeating: UInt8(0x2E), count: 24).enumerated().map { UInt8($0.offset * 3) ^ $0.element })), name: "issuer-zpk")
        try keys.add(try WorkingKey(cipher: .tdes, usage: .baseDerivation, secret: SecretBytes([0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10])), name: "bdk")
        return keys
    }

    static func yaml(listenerPIN: String, hostPort: UInt16) -> String {
        """
        name: test
        rules: rules.yaml
        security: {key-store: keys.json}
        listeners:
          - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87ascii, pin: \(listenerPIN)}
        channels:
        \(SwitchHarness.channel("issuer", ports: [hostPort], extra: "pin: {key: issuer-zpk, format: 0}"))
        """
    }

    /// A switch with the listener's PIN zone `listenerPIN`, to a scripted host, and a POS connected to it.
    static func start(listenerPIN: String, keys: KeyStore) throws -> (payments: PaymentSwitch, host: ScriptedHost, pos: PosClient) {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        let (payments, ports) = try SwitchHarness.start(Self.yaml(listenerPIN: listenerPIN, hostPort: host.port),
                                                        rules: SwitchFixtures.rules(["issuer"]), keys: keys)
        #expect(SwitchHarness.wait { payments.isReady })
        return (payments, host, try PosClient(port: ports["pos"]!))
    }

    @Test func aPINFromTheTerminalsZoneReachesTheIssuerUnderItsKey() throws {
        let keys = try Self.keys()
        let (payments, host, pos) = try Self.start(listenerPIN: "{key: terminals, format: 0}", keys: keys)
        defer {
            payments.shutdown(grace: .zero)
            host.stop()
        }
        let terminalZone = try PINBlock.Zone(key: try keys.key(named: "terminals"), format: .iso0)
        let issuerZone = try PINBlock.Zone(key: try keys.key(named: "issuer-zpk"), format: .iso0)
        var request = SwitchFixtures.purchase(stan: 52)
        let block = try PINBlock.encrypt(pin: Self.pin, pan: Self.pan, zone: terminalZone)
        request.set(52, bytes: block)
        let answer = try #require(try pos.exchange(request))
        #expect(answer.string(39) == "00")
        let forwarded = try #require(host.requests.first { $0.string(41) == "TERM0001" })
        let received = try #require(forwarded.bytes(52))
        #expect(received != block, "re-encrypted")
        #expect(PINBlock.verify(received, pin: Self.pin, pan: Self.pan, zone: issuerZone))
        #expect(!PINBlock.verify(block, pin: Self.pin, pan: Self.pan, zone: issuerZone))
    }

    @Test func aBlockThatDoesNotTranslateIsRefusedWithASecurityViolation() throws {
        let keys = try Self.keys()
        let (payments, host, pos) = try Self.start(listenerPIN: "{key: terminals, format: 0}", keys: keys)
        defer {
            payments.shutdown(grace: .zero)
            host.stop()
        }
        // Encrypted under the issuer's key, not the terminals': it does not open as a format 0 block
        // for this card under the terminals' key (the chance it would is about 1 in 10^4).
        var request = SwitchFixtures.purchase(stan: 53)
        request.set(52, bytes: try PINBlock.encrypt(pin: Self.pin, pan: Self.pan, zone: try PINBlock.Zone(key: try keys.key(named: "issuer-zpk"), format: .iso0)))
        let answer = try #require(try pos.exchange(request))
        #expect(answer.string(39) == "63")
        // Then a good one on the same connection: only that one reaches the host.
        var good = SwitchFixtures.purchase(stan: 54)
        good.set(52, bytes: try PINBlock.encrypt(pin: Self.pin, pan: Self.pan, zone: try PINBlock.Zone(key: try keys.key(named: "terminals"), format: .iso0)))
        #expect(try pos.exchange(good)?.string(39) == "00")
        #expect(host.requests.filter { $0.mti.description == "0200" }.count == 1)
    }

    @Test func aDUKPTTerminalsPINIsTranslatedWithTheKeyOfItsKSN() throws {
        let keys = try Self.keys()
        let (payments, host, pos) = try Self.start(listenerPIN: "{key: bdk, format: 0, ksn-field: 62}", keys: keys)
        defer {
            payments.shutdown(grace: .zero)
            host.stop()
        }
        let ksn: [UInt8] = [0xFF, 0xFF, 0x98, 0x76, 0x54, 0x32, 0x10, 0xE0, 0x00, 0x07]
        let terminal = try PINBlock.Zone(key: try DUKPT.pinKey(bdk: try keys.key(named: "bdk"), ksn: ksn), format: .iso0)
        var request = SwitchFixtures.purchase(stan: 55)
        request.set(52, bytes: try PINBlock.encrypt(pin: Self.pin, pan: Self.pan, zone: terminal))
        request.set(62, "FFFF9876543210E00007")
        #expect(try pos.exchange(request)?.string(39) == "00")
        let forwarded = try #require(host.requests.first)
        let issuerZone = try PINBlock.Zone(key: try keys.key(named: "issuer-zpk"), format: .iso0)
        #expect(PINBlock.verify(try #require(forwarded.bytes(52)), pin: Self.pin, pan: Self.pan, zone: issuerZone))
        // Without its KSN the block cannot be opened: refused.
        var missing = SwitchFixtures.purchase(stan: 56)
        missing.set(52, bytes: try PINBlock.encrypt(pin: Self.pin, pan: Self.pan, zone: terminal))
        #expect(try pos.exchange(missing)?.string(39) == "63")
    }

    @Test func aPINZoneNeedsTheKeyStoreAndKeysOfTheRightKind() throws {
        let yaml = Self.yaml(listenerPIN: "{key: terminals, format: 0}", hostPort: 9)
        let noStore = yaml.replacingOccurrences(of: "security: {key-store: keys.json}\n", with: "")
        let error = #expect(throws: SpecError.self) { try SwitchHarness.configuration(noStore, rules: SwitchFixtures.rules(["issuer"])) }
        #expect(error?.description.contains("no security: key-store") == true && error?.description.contains("test.yaml:") == true)
        let configuration = try SwitchHarness.configuration(yaml, rules: SwitchFixtures.rules(["issuer"]))
        #expect(throws: (any Error).self) { try PaymentSwitch(configuration, logger: SwitchHarness.quietLogger) }
        let wrongKind = try SwitchHarness.configuration(Self.yaml(listenerPIN: "{key: bdk, format: 0}", hostPort: 9), rules: SwitchFixtures.rules(["issuer"]))
        let refused = #expect(throws: (any Error).self) { try PaymentSwitch(wrongKind, keys: try Self.keys(), logger: SwitchHarness.quietLogger) }
        #expect("\(refused!)".contains("ksn-field"))
        let badFormat = Self.yaml(listenerPIN: "{key: terminals, format: 2}", hostPort: 9)
        #expect(throws: SpecError.self) { try SwitchHarness.configuration(badFormat, rules: SwitchFixtures.rules(["issuer"])) }
    }

    @Test func anAESBDKTakesFormatFourAndATDESOneDoesNot() throws {
        var keys = try Self.keys()
        try keys.add(try WorkingKey(cipher: .aes, usage: .baseDerivation, secret: SecretBytes([UInt8](repeating: 0xF1, count: 16))), name: "aes-bdk")
        let rules = SwitchFixtures.rules(["issuer"])
        let aesZero = try SwitchHarness.configuration(Self.yaml(listenerPIN: "{key: aes-bdk, format: 0, ksn-field: 62}", hostPort: 9), rules: rules)
        let refused = #expect(throws: (any Error).self) { try PaymentSwitch(aesZero, keys: keys, logger: SwitchHarness.quietLogger) }
        #expect("\(refused!)".contains("AES DUKPT PIN blocks are format 4"))
        let tdesFour = try SwitchHarness.configuration(Self.yaml(listenerPIN: "{key: bdk, format: 4, ksn-field: 62}", hostPort: 9), rules: rules)
        #expect(throws: (any Error).self) { try PaymentSwitch(tdesFour, keys: keys, logger: SwitchHarness.quietLogger) }
        let aesFour = try SwitchHarness.configuration(Self.yaml(listenerPIN: "{key: aes-bdk, format: 4, ksn-field: 62}", hostPort: 9), rules: rules)
        let accepted = try PaymentSwitch(aesFour, keys: keys, logger: SwitchHarness.quietLogger)
        accepted.shutdown(grace: .zero)
    }

    @Test func anAESDUKPTFormatFourBlockCrossesFromADialectWithRoomForItToAFormatZeroHost() throws {
        var keys = try Self.keys()
        try keys.add(try WorkingKey(cipher: .aes, usage: .baseDerivation, secret: SecretBytes([UInt8](repeating: 0xF1, count: 16))), name: "aes-bdk")
        let pin16 = """
            dialect: iso87ascii-pin16
            extends: iso87ascii
            description: iso87ascii with a 16-byte DE 52, for ISO 9564 format 4 PIN blocks
            fields:
              - {field: 52, name: PIN, class: b, length: 16, sensitivity: pin}
            """
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { host.stop() }
        let yaml = """
            name: test
            rules: rules.yaml
            security: {key-store: keys.json}
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: pin16.yaml, pin: {key: aes-bdk, format: 4, ksn-field: 62}}
            channels:
            \(SwitchHarness.channel("issuer", ports: [host.port], extra: "pin: {key: issuer-zpk, format: 0}"))
            """
        let (payments, ports) = try SwitchHarness.start(yaml, rules: SwitchFixtures.rules(["issuer"]), files: ["pin16.yaml": pin16], keys: keys)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let dialect = try Dialect.load(yaml: pin16, file: "pin16.yaml")
        #expect(dialect.lineage == ["iso87ascii"])
        let pos = try PosClient(port: ports["pos"]!, dialect: dialect)
        let ksn: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x09]
        let terminal = try PINBlock.Zone(key: try DUKPT.pinKey(bdk: try keys.key(named: "aes-bdk"), ksn: ksn), format: .iso4)
        var request = SwitchFixtures.purchase(stan: 58)
        request.set(52, bytes: try PINBlock.encrypt(pin: Self.pin, pan: Self.pan, zone: terminal))
        request.set(62, "123456789012345600000009")
        #expect(try pos.exchange(request)?.string(39) == "00")
        let forwarded = try #require(host.requests.first)
        let block = try #require(forwarded.bytes(52))
        #expect(block.count == 8)
        #expect(PINBlock.verify(block, pin: Self.pin, pan: Self.pan, zone: try PINBlock.Zone(key: try keys.key(named: "issuer-zpk"), format: .iso0)))
    }
}
