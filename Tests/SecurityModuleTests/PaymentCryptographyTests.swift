@testable import SecurityModule
import Testing

/// Published test vectors for the software security module's primitives.
@Suite struct PaymentCryptographyTests {
    static func key(_ hex: String, _ cipher: BlockCipher = .tdes, _ usage: WorkingKey.Usage = .zonePIN) throws -> WorkingKey {
        try WorkingKey(cipher: cipher, usage: usage, secret: SecretBytes(try #require(Hex.decode(hex))))
    }

    static func bytes(_ hex: String) throws -> [UInt8] { try #require(Hex.decode(hex)) }

    @Test(arguments: [
        ("0123456789ABCDEFFEDCBA9876543210", BlockCipher.tdes, "08D7B4"),
        // AES: the CMAC of a zero block (X9.24-1:2017), here under the RFC 4493 key (Python's cryptography agrees).
        ("2B7E151628AED2A6ABF7158809CF4F3C", BlockCipher.aes, "7AD386"),
    ])
    func keyCheckValues(key: String, cipher: BlockCipher, kcv: String) throws {
        #expect(try Self.key(key, cipher).checkValue() == kcv)
    }

    // RFC 4493, section 4: AES-CMAC with the AES-128 key 2b7e1516…
    @Test(arguments: [
        ("", "BB1D6929E95937287FA37D129B756746"),
        ("6BC1BEE22E409F96E93D7E117393172A", "070A16B46B4D4144F79BDD9DD04A287C"),
        ("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411", "DFA66747DE9AE63030CA32611497C827"),
        ("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710",
         "51F0BEBF7E3B9D92FC49741779363CFE"),
    ])
    func aesCMACMatchesRFC4493(message: String, mac: String) throws {
        let key = SecretBytes(try Self.bytes("2B7E151628AED2A6ABF7158809CF4F3C"))
        #expect(Hex.encode(try MessageAuthentication.aesCMAC(try Self.bytes(message), key: key)) == mac)
    }

    @Test func retailMACMatchesISO9797Algorithm3() throws {
        // The vector of BouncyCastle's ISO9797Alg3MacTest: "Hello World !!!!" under 7CA11045….
        let key = SecretBytes(try Self.bytes("7CA110454A1A6E570131D9619DC1376E"))
        #expect(Hex.encode(try MessageAuthentication.retailMAC(Array("Hello World !!!!".utf8), key: key)) == "F09B856213BAB83B")
        // Padding method 2 adds a block to a message that fills its last one: another MAC.
        #expect(try MessageAuthentication.retailMAC(Array("Hello World !!!!".utf8), key: key, padding: .bit)
                != MessageAuthentication.retailMAC(Array("Hello World !!!!".utf8), key: key))
        #expect(throws: SecurityError.self) { try MessageAuthentication.retailMAC([1], key: SecretBytes([UInt8](repeating: 1, count: 24))) }
    }

    @Test func dukptInitialKeyMatchesX924() throws {
        let bdk = try Self.key("0123456789ABCDEFFEDCBA9876543210", .tdes, .baseDerivation)
        let ipek = try DUKPT.initialKey(bdk: bdk, ksn: try Self.bytes("FFFF9876543210E00000"))
        #expect(ipek.withBytes { Hex.encode($0) } == "6AC292FAA1315B4D858AB3A3D7D5933A")
    }

    // X9.24-1 test data: BDK 0123…3210, KSN FFFF9876543210E000nn; PIN 1234, PAN 4012345678909, format 0.
    @Test(arguments: [
        ("E00001", "042666B49184CFA368DE9628D0397BC9", "1B9C1845EB993A7A"),
        ("E00002", "C46551CEF9FD24B0AA9AD834130D3BC7", "10A01C8D02C69107"),
        ("E00003", "0DF3D9422ACA56E547676D07AD6BADFA", "18DC07B94797B466"),
        ("E00010", "59598DCBD9BD94C094165CE453585F57", "D5D9638559EF53D6"),
    ])
    func dukptTransactionKeysAndPINBlocksMatchX924(counter: String, transactionKey: String, pinBlock: String) throws {
        let bdk = try Self.key("0123456789ABCDEFFEDCBA9876543210", .tdes, .baseDerivation)
        let ksn = try Self.bytes("FFFF9876543210" + counter)
        let initial = try DUKPT.initialKey(bdk: bdk, ksn: ksn)
        #expect(try DUKPT.transactionKey(initialKey: initial, ksn: ksn).withBytes { Hex.encode($0) } == transactionKey)
        let zone = try PINBlock.Zone(key: try DUKPT.pinKey(bdk: bdk, ksn: ksn), format: .iso0)
        // Format 0 has no random fill: the block is the published one.
        #expect(Hex.encode(try PINBlock.encrypt(pin: Array("1234".utf8), pan: Array("4012345678909".utf8), zone: zone)) == pinBlock)
        #expect(PINBlock.verify(try Self.bytes(pinBlock), pin: Array("1234".utf8), pan: Array("4012345678909".utf8), zone: zone))
    }

    @Test func aCounterNoTerminalUsesIsRefused() throws {
        let bdk = try Self.key("0123456789ABCDEFFEDCBA9876543210", .tdes, .baseDerivation)
        #expect(throws: SecurityError.self) { try DUKPT.pinKey(bdk: bdk, ksn: try Self.bytes("FFFF9876543210E00000")) }
        #expect(throws: SecurityError.self) { try DUKPT.pinKey(bdk: bdk, ksn: try Self.bytes("FFFF9876543210E007FF")) }  // 11 bits
        #expect(throws: SecurityError.self) { try DUKPT.pinKey(bdk: bdk, ksn: try Self.bytes("FFFF9876543210E0")) }
    }

    @Test func formatZeroClearBlockMatchesISO9564() throws {
        // ISO 9564-1's example of format 0: PIN 1234, PAN 43219876543210987.
        let key = try Self.key("0123456789ABCDEFFEDCBA9876543210")
        let block = try PINBlock.encrypt(pin: Array("1234".utf8), pan: Array("43219876543210987".utf8), zone: try PINBlock.Zone(key: key, format: .iso0))
        #expect(Hex.encode(try BlockCipher.tdes.decrypt(block, key: key.secret)) == "0412AC89ABCDEF67")
    }

    @Test func formatFourOpensAPublishedBlock() throws {
        // A format 4 block under an AES-256 PIN key, for PIN 1234 (the full PAN, and its 12 digits
        // left of the check digit).
        let key = try Self.key("62CB437131C129DF001D42676011975150506E2A382145FD9BDEA7EC5A339F63", .aes)
        let zone = try PINBlock.Zone(key: key, format: .iso4)
        #expect(PINBlock.verify(try Self.bytes("060E768D21D709B5D2A3F9660A704B9D"), pin: Array("1234".utf8), pan: Array("5237481234567895".utf8), zone: zone))
        #expect(PINBlock.verify(try Self.bytes("225EF53C962E6AD84AC671C160A44627"), pin: Array("1234".utf8), pan: Array("748123456789".utf8), zone: zone))
        #expect(!PINBlock.verify(try Self.bytes("060E768D21D709B5D2A3F9660A704B9D"), pin: Array("1235".utf8), pan: Array("5237481234567895".utf8), zone: zone))
        #expect(!PINBlock.verify(try Self.bytes("060E768D21D709B5D2A3F9660A704B9D"), pin: Array("1234".utf8), pan: Array("5237481234567896".utf8), zone: zone))
    }
}

/// Translating PIN blocks between zones: every format to every other, and what is refused.
@Suite struct PINTranslationTests {
    static let pan = Array("4761739001010119".utf8)
    static func zone(_ format: PINBlock.Format, _ fill: UInt8) throws -> PINBlock.Zone {
        let count = format == .iso4 ? 32 : 16
        return try PINBlock.Zone(key: try WorkingKey(cipher: format.cipher, usage: .zonePIN, secret: SecretBytes([UInt8](repeating: fill, count: count).enumerated().map { UInt8(truncatingIfNeeded: $0.offset * 7) ^ $0.element })),
                                 format: format)
    }

    @Test(arguments: PINBlock.Format.allCases, PINBlock.Format.allCases)
    func aPINCrossesFromEveryFormatToEveryOther(from: PINBlock.Format, to: PINBlock.Format) throws {
        let source = try Self.zone(from, 0x11), target = try Self.zone(to, 0x22)
        for pin in ["1234", "987654", "000000000000"] {
            let block = try PINBlock.encrypt(pin: Array(pin.utf8), pan: Self.pan, zone: source)
            let translated = try PINBlock.translate(block, pan: Self.pan, from: source, to: target)
            #expect(PINBlock.verify(translated, pin: Array(pin.utf8), pan: Self.pan, zone: target))
            #expect(!PINBlock.verify(translated, pin: Array(pin.utf8), pan: Self.pan, zone: source) || from == to)
        }
    }

    @Test func aBlockUnderAnotherKeyOrCardIsRefusedWithoutShowingThePIN() throws {
        let source = try Self.zone(.iso0, 0x11), target = try Self.zone(.iso4, 0x22), stranger = try Self.zone(.iso0, 0x33)
        let block = try PINBlock.encrypt(pin: Array("4321".utf8), pan: Self.pan, zone: source)
        var refused = 0
        for attempt in 0..<20 {
            // Random fill makes any one wrong key pass the layout check now and then; most fail.
            let wrong = try PINBlock.Zone(key: try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16)), format: .iso0)
            do {
                _ = try PINBlock.translate(block, pan: Self.pan, from: wrong, to: target)
            } catch {
                refused += 1
                #expect(!error.description.contains("4321") && error.reason.contains("not a format 0 PIN block"), "\(attempt)")
            }
        }
        #expect(refused >= 15)
        #expect(throws: SecurityError.self) { try PINBlock.translate(block, pan: Self.pan, from: stranger, to: target) }
        #expect(throws: SecurityError.self) { try PINBlock.translate(Array(block.prefix(7)), pan: Self.pan, from: source, to: target) }
    }

    @Test func zonesCheckTheirKeys() throws {
        let tdes = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes([UInt8](repeating: 1, count: 16)))
        #expect(throws: SecurityError.self) { try PINBlock.Zone(key: tdes, format: .iso4) }
        let mac = try WorkingKey(cipher: .tdes, usage: .mac, secret: SecretBytes([UInt8](repeating: 1, count: 16)))
        #expect(throws: SecurityError.self) { try PINBlock.Zone(key: mac, format: .iso0) }
        #expect(throws: SecurityError.self) { try WorkingKey(cipher: .aes, usage: .zonePIN, secret: SecretBytes([UInt8](repeating: 1, count: 20))) }
        #expect("\(tdes.secret)" == "<secret, 16 bytes>")
    }
}

/// ANSI X9.24-3:2017 AES DUKPT against the standard's sample and supplement test vectors.
@Suite struct AESDUKPTTests {
    static let bdk128 = "FEDCBA9876543210F1F1F1F1F1F1F1F1"
    static let keyID = "1234567890123456"

    @Test func initialKeysMatchTheStandard() throws {
        let bdk = try PaymentCryptographyTests.key(Self.bdk128, .aes, .baseDerivation)
        #expect(try AESDUKPT.initialKey(bdk: bdk, initialKeyID: try PaymentCryptographyTests.bytes(Self.keyID)).withBytes { Hex.encode($0) }
                == "1273671EA26AC29AFA4D1084127652A1")
        let bdk256 = try PaymentCryptographyTests.key(Self.bdk128 + Self.bdk128, .aes, .baseDerivation)
        #expect(try AESDUKPT.initialKey(bdk: bdk256, initialKeyID: try PaymentCryptographyTests.bytes(Self.keyID)).withBytes { Hex.encode($0) }
                == "CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F")
    }

    @Test(arguments: [
        ("00000001", "4F21B565BAD9835E112B6465635EAE44"),
        ("00000002", "2F34D68DE10F68D38091A73B9E7C437C"),
        ("00000003", "031504E530365CF81264238540518318"),
        ("00000008", "718EE6CF0B27E53D5F7AF99C4D8146A2"),
        ("0001FFFE", "E21E8C8D347F8561A2BE752DAA85A111"),
        ("00020000", "F7AE9025468A25D37B7249CFFED224C8"),
        ("FFFE2000", "48E585B694EB0B18D5C35443E163C0BA"),
        ("FFFF0000", "F6BA59389BD14A9855BE9727E7C52E3C"),
    ])
    func derivationKeysMatchTheSupplement(counter: String, key: String) throws {
        let bdk = try PaymentCryptographyTests.key(Self.bdk128, .aes, .baseDerivation)
        let initial = try AESDUKPT.initialKey(bdk: bdk, initialKeyID: try PaymentCryptographyTests.bytes(Self.keyID))
        let ksn = try PaymentCryptographyTests.bytes(Self.keyID + counter)
        #expect(try AESDUKPT.derivationKey(initialKey: initial, ksn: ksn).withBytes { Hex.encode($0) } == key)
    }

    @Test func aPINKeyServesFormatFourAndBadKSNsAreRefused() throws {
        let bdk = try PaymentCryptographyTests.key(Self.bdk128, .aes, .baseDerivation)
        let ksn = try PaymentCryptographyTests.bytes(Self.keyID + "00000005")
        let zone = try PINBlock.Zone(key: try AESDUKPT.pinKey(bdk: bdk, ksn: ksn), format: .iso4)
        let block = try PINBlock.encrypt(pin: Array("1234".utf8), pan: Array("4111111111111111".utf8), zone: zone)
        #expect(PINBlock.verify(block, pin: Array("1234".utf8), pan: Array("4111111111111111".utf8), zone: zone))
        let other = try PINBlock.Zone(key: try AESDUKPT.pinKey(bdk: bdk, ksn: try PaymentCryptographyTests.bytes(Self.keyID + "00000006")), format: .iso4)
        #expect(!PINBlock.verify(block, pin: Array("1234".utf8), pan: Array("4111111111111111".utf8), zone: other))
        #expect(throws: SecurityError.self) { try AESDUKPT.pinKey(bdk: bdk, ksn: try PaymentCryptographyTests.bytes(Self.keyID + "0001FFFF")) }  // 17 bits
        #expect(throws: SecurityError.self) { try AESDUKPT.pinKey(bdk: bdk, ksn: try PaymentCryptographyTests.bytes(Self.keyID + "00000000")) }
        #expect(throws: SecurityError.self) { try AESDUKPT.pinKey(bdk: bdk, ksn: try PaymentCryptographyTests.bytes("FFFF9876543210E00001")) }
    }
}
