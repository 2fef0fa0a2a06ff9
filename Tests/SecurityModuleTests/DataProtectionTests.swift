import Foundation
import SecurityModule
import Testing
import TestSupport

/// Sealing stored messages and hashing PANs for lookups with the data key.
@Suite struct DataProtectionTests {
    static let key = [UInt8](repeating: 7, count: 32)

    @Test func sealedValuesOpenWithTheirKeyOnly() throws {
        let protection = try DataProtection(key: Self.key)
        let plaintext = Array("0200 with a card number inside".utf8)
        let sealed = try protection.seal(plaintext)
        #expect(sealed.count == plaintext.count + 28)
        #expect(!sealed.contains(bytes: plaintext), "nothing of the plaintext shows")
        #expect(try protection.open(sealed) == plaintext)
        #expect(try protection.seal(plaintext) != sealed, "a fresh nonce each time")
        let other = try DataProtection(key: [UInt8](repeating: 8, count: 32))
        #expect(throws: SecurityError.self) { try other.open(sealed) }
    }

    @Test(arguments: [0, 12, 20, 40]) func aChangedSealedValueIsRefused(position: Int) throws {
        let protection = try DataProtection(key: Self.key)
        var sealed = try protection.seal(Array(repeating: 0x41, count: 30))
        sealed[position] ^= 0x01
        #expect(throws: SecurityError.self) { try protection.open(sealed) }
        #expect(throws: SecurityError.self) { try protection.open(Array(sealed.prefix(27))) }
    }

    @Test func lookupHashesAreStablePerKeyAndRevealNothing() throws {
        let protection = try DataProtection(key: Self.key)
        let pan = Array("4761739001010119".utf8)
        let hash = pan.withUnsafeBufferPointer { protection.lookupHash(ofDigits: $0) }
        #expect(hash.count == 32 && hash.allSatisfy(\.isHexDigit))
        #expect(hash == pan.withUnsafeBufferPointer { protection.lookupHash(ofDigits: $0) })
        let other = try DataProtection(key: [UInt8](repeating: 9, count: 32))
        #expect(hash != pan.withUnsafeBufferPointer { other.lookupHash(ofDigits: $0) })
        #expect(throws: SecurityError.self) { try DataProtection(key: [1, 2, 3]) }
    }

    @Test func aRecordsHashNamesItsKeyAndMatchesHashesThatNameNone() throws {
        let protection = try DataProtection(key: Self.key), other = try DataProtection(key: [UInt8](repeating: 9, count: 32))
        #expect(protection.keyID.count == 8 && protection.keyID.allSatisfy(\.isHexDigit))
        #expect(protection.keyID == (try DataProtection(key: Self.key)).keyID && protection.keyID != other.keyID)
        let pan = Array("4761739001010119".utf8)
        let plain = pan.withUnsafeBufferPointer { protection.lookupHash(ofDigits: $0) }
        let recorded = pan.withUnsafeBufferPointer { protection.recordHash(ofDigits: $0) }
        #expect(recorded == protection.keyID + ":" + plain)
        #expect(LookupHasher.matches(recorded, recorded) && LookupHasher.matches(recorded, plain) && LookupHasher.matches(plain, recorded))
        let otherKeys = pan.withUnsafeBufferPointer { other.recordHash(ofDigits: $0) }
        #expect(!LookupHasher.matches(recorded, otherKeys), "another key's hash of the same card")
        #expect(!LookupHasher.matches(recorded, "00000000:" + plain), "the same digits under another key id")
    }

    @Test func aKeyFileIsCreatedOnceForItsOwnerAndReadBack() throws {
        let path = NSTemporaryDirectory() + "payswitch-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        let created = try DataProtection.loadOrCreateKey(path: path)
        #expect(created.created && created.key.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let read = try DataProtection.loadOrCreateKey(path: path)
        #expect(!read.created && read.key == created.key)
        try "not a key\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SecurityError.self) { try DataProtection.loadOrCreateKey(path: path) }
    }
}
