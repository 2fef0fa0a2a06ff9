import Foundation
@testable import SecurityModule
import Testing

/// The key store: keys wrapped under the master key, bound to their entries, checked by KCV.
@Suite struct KeyStoreTests {
    static let master = [UInt8](repeating: 0x42, count: 32)
    static let zpkHex = "0123456789ABCDEFFEDCBA9876543210"

    static func store() throws -> (KeyStore, String) {
        var store = KeyStore(master: try MasterKey(key: master))
        try store.add(try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes(Hex.decode(zpkHex)!)), name: "acquirer-zpk")
        try store.add(try WorkingKey(cipher: .aes, usage: .mac, secret: SecretBytes([UInt8](repeating: 9, count: 32))), name: "link-mak")
        let path = NSTemporaryDirectory() + "payswitch-keys-" + UUID().uuidString + ".json"
        try store.save(path: path)
        return (store, path)
    }

    @Test func keysComeBackWhole() throws {
        let (_, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try KeyStore.load(path: path, master: try MasterKey(key: Self.master))
        #expect(loaded.entries.map(\.name) == ["acquirer-zpk", "link-mak"])
        #expect(loaded.entries.first?.kcv == "08D7B4")
        let key = try loaded.key(named: "acquirer-zpk")
        #expect(key.usage == .zonePIN && key.cipher == .tdes && key.secret.withBytes { Hex.encode($0) } == Self.zpkHex)
        #expect(throws: SecurityError.self) { try loaded.key(named: "nobody") }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func theFileHoldsNoKeyInClear() throws {
        let (_, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for secret in [Self.zpkHex, String(repeating: "09", count: 32)] {
            #expect(!text.uppercased().contains(secret))
        }
    }

    @Test func anotherMasterKeyOrAMovedKeyIsRefused() throws {
        let (_, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let other = #expect(throws: SecurityError.self) { try KeyStore.load(path: path, master: try MasterKey(key: [UInt8](repeating: 1, count: 32))) }
        #expect(other?.reason.contains("another master key") == true)
        // The wrapped bytes of one entry put under another's name do not unwrap there.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var keys = try #require(object["keys"] as? [[String: Any]])
        let first = keys[0]["wrapped"]
        keys[0]["wrapped"] = keys[1]["wrapped"]
        keys[1]["wrapped"] = first
        object["keys"] = keys
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let loaded = try KeyStore.load(path: path, master: try MasterKey(key: Self.master))
        let moved = #expect(throws: SecurityError.self) { try loaded.key(named: "acquirer-zpk") }
        #expect(moved?.reason.contains("another entry") == true)
    }

    @Test func aNameIsReplacedOnlyOnPurpose() throws {
        var (store, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16))
        #expect(throws: SecurityError.self) { try store.add(key, name: "acquirer-zpk") }
        try store.add(key, name: "acquirer-zpk", replacing: true)
        #expect(try store.key(named: "acquirer-zpk").checkValue() == key.checkValue())
        #expect(throws: SecurityError.self) { try store.add(key, name: "has space") }
    }

    @Test func theMasterKeyComesFromTheEnvironmentWhenNoFileIsNamed() throws {
        let hex = String(repeating: "42", count: 32)
        let fromEnvironment = try MasterKey.load(file: nil, environment: [MasterKey.environmentVariable: hex])
        let (_, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try KeyStore.load(path: path, master: fromEnvironment).entries.count == 2)
        #expect(throws: SecurityError.self) { try MasterKey.load(file: nil, environment: [:]) }
        #expect(throws: SecurityError.self) { try MasterKey.load(file: nil, environment: [MasterKey.environmentVariable: "00"]) }
        #expect(throws: SecurityError.self) { try MasterKey.load(file: "/nonexistent/master.key", environment: [:]) }
    }
}

/// The software security module: keys by name only, key changes kept in the store file, the MAC
/// key it replaced good for a grace period.
@Suite struct SoftwareSecurityModuleTests {
    static func module(path: String? = nil) throws -> (SoftwareSecurityModule, WorkingKey) {
        var keys = KeyStore(master: try MasterKey(key: KeyStoreTests.master))
        let zmk = try WorkingKey(cipher: .tdes, usage: .zoneMaster, secret: SecretBytes.random(count: 16))
        try keys.add(zmk, name: "zmk")
        try keys.add(try WorkingKey(cipher: .tdes, usage: .mac, secret: SecretBytes.random(count: 16)), name: "mak")
        try keys.add(try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16)), name: "zpk")
        if let path { try keys.save(path: path) }
        return (SoftwareSecurityModule(keys: keys, path: path), zmk)
    }

    @Test func keysAreDescribedNeverShown() throws {
        let (module, _) = try Self.module()
        let described = try module.describe("zpk")
        #expect(described.usage == .zonePIN && described.cipher == .tdes && described.length == 16 && described.kcv.count == 6)
        #expect(throws: SecurityError.self) { try module.describe("nobody") }
        #expect(throws: SecurityError.self) { try module.mac([1, 2, 3][...], key: "zpk") }
    }

    @Test func anOfferedKeyIsUsedOnlyOnceCommittedAndKeptInTheFile() throws {
        let path = NSTemporaryDirectory() + "payswitch-ssm-" + UUID().uuidString + ".json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (module, zmk) = try Self.module(path: path)
        let before = try module.describe("zpk").kcv
        let offer = try module.newKey(like: "zpk", under: "zmk")
        #expect(try module.describe("zpk").kcv == before, "not in use before it is committed")
        let clear = try BlockCipher.tdes.decrypt(offer.wrapped, key: zmk.secret)
        #expect(try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes(clear)).checkValue() == offer.kcv)
        try offer.commit()
        #expect(try module.describe("zpk").kcv == offer.kcv)
        let reread = try KeyStore.load(path: path, master: try MasterKey(key: KeyStoreTests.master))
        #expect(try reread.key(named: "zpk").checkValue() == offer.kcv)
    }

    @Test func anImportedKeyIsCheckedAgainstItsKCV() throws {
        let (module, zmk) = try Self.module()
        let key = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16))
        let wrapped = try BlockCipher.tdes.encrypt(key.secret.withBytes { Array($0) }, key: zmk.secret)
        #expect(throws: SecurityError.self) { try module.importKey(wrapped, kcv: "000000", under: "zmk", replacing: "zpk") }
        #expect(throws: SecurityError.self) { try module.importKey(wrapped, kcv: try key.checkValue(), under: "mak", replacing: "zpk") }
        try module.importKey(wrapped, kcv: try key.checkValue().lowercased(), under: "zmk", replacing: "zpk")
        #expect(try module.describe("zpk").kcv == key.checkValue())
    }

    @Test func aReplacedMACKeyVerifiesForItsGracePeriodOnly() throws {
        let (module, _) = try Self.module()
        let data: [UInt8] = Array("0210 answer".utf8)
        let oldMAC = try module.mac(data[...], key: "mak")
        try module.newKey(like: "mak", under: "zmk").commit()
        let newMAC = try module.mac(data[...], key: "mak")
        #expect(newMAC != oldMAC)
        #expect(module.verifyMAC(newMAC, of: data[...], key: "mak", grace: .zero))
        #expect(module.verifyMAC(oldMAC, of: data[...], key: "mak", grace: .seconds(60)))
        #expect(!module.verifyMAC(oldMAC, of: data[...], key: "mak", grace: .zero))
        #expect(!module.verifyMAC([0, 0, 0, 0, 0, 0, 0, 0], of: data[...], key: "mak", grace: .seconds(60)))
    }
}
