import Foundation
import ISO8583
import SecurityModule
import Switch
import Synchronization
import Testing
import TestSupport

/// The PIN key towards a host changes while traffic flows: the host sends a new key (161), or asks
/// the switch for one (162); no request is lost, and the new key is kept in the key store.
@Suite(.serialized) struct SwitchKeyExchangeTests {
    static let pin = Array("739215846021".utf8)
    static let pan = Array(SwitchFixtures.pan.utf8)
    static let master = [UInt8](repeating: 0x44, count: 32)

    /// Keys the host accepts PIN blocks under (the old one stays for its grace period).
    final class AcceptedKeys: Sendable {
        let keys: Mutex<[WorkingKey]>
        init(_ keys: [WorkingKey]) { self.keys = Mutex(keys) }
        func withLock<R>(_ body: (inout [WorkingKey]) -> R) -> R { keys.withLock { body(&$0) } }
    }

    struct Setup {
        let payments: PaymentSwitch
        let pos: PosClient
        let port: UInt16
        let host: ScriptedHost
        let keysPath: String
        let terminals: PINBlock.Zone
        let zoneMaster: WorkingKey
        let accepted: AcceptedKeys
    }

    static func start(every: String? = nil) throws -> Setup {
        let folder = NSTemporaryDirectory() + "payswitch-kx-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var keys = KeyStore(master: try MasterKey(key: master))
        let terminalKey = try WorkingKey(cipher: .tdes, usage: .terminalPIN, secret: SecretBytes.random(count: 16))
        let zpk = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16))
        let zmk = try WorkingKey(cipher: .tdes, usage: .zoneMaster, secret: SecretBytes.random(count: 16))
        try keys.add(terminalKey, name: "terminals")
        try keys.add(zpk, name: "issuer-zpk")
        try keys.add(zmk, name: "issuer-zmk")
        try keys.save(path: folder + "/keys.json")
        let accepted = AcceptedKeys([zpk])
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            guard request.mti.description == "0200" else { return .answer(ScriptedHost.answer(request, code: nil)) }
            let block = request.bytes(52) ?? []
            let good = accepted.withLock { $0 }.contains { key in
                PINBlock.verify(block, pin: SwitchKeyExchangeTests.pin, pan: SwitchKeyExchangeTests.pan,
                                zone: try! PINBlock.Zone(key: key, format: .iso0))
            }
            return .answer(ScriptedHost.answer(request, code: good ? nil : "55"))
        }
        let yaml = """
            name: test
            rules: rules.yaml
            security: {key-store: \(folder)/keys.json}
            listeners:
              - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87ascii, pin: {key: terminals}}
            channels:
            \(SwitchHarness.channel("issuer", ports: [host.port], extra: "pin: {key: issuer-zpk}\nkey-exchange: {zmk: issuer-zmk\(every.map { ", every: \($0)" } ?? "")}"))
            """
        let (payments, ports) = try SwitchHarness.start(yaml, rules: SwitchFixtures.rules(["issuer"]), keys: keys)
        #expect(SwitchHarness.wait { payments.isReady })
        return Setup(payments: payments, pos: try PosClient(port: ports["pos"]!), port: ports["pos"]!, host: host, keysPath: folder + "/keys.json",
                     terminals: try PINBlock.Zone(key: terminalKey, format: .iso0), zoneMaster: zmk, accepted: accepted)
    }

    static func purchase(_ setup: Setup, stan: Int) throws -> ISO8583Message {
        var request = SwitchFixtures.purchase(stan: stan)
        request.set(52, bytes: try PINBlock.encrypt(pin: pin, pan: pan, zone: setup.terminals))
        return request
    }

    /// 0800 with DE 70 `code` from the host, and DE 48 when given.
    static func networkRequest(_ code: String, stan: Int, field48: String? = nil) -> ISO8583Message {
        var message = ISO8583Message(mti: MTI("0800")!)
        message.set(7, "1201103000")
        message.set(11, String(format: "%06d", stan))
        message.set(70, code)
        if let field48 { message.set(48, field48) }
        return message
    }

    /// The host's answers to its own 0800s (the switch's 0810s), by STAN.
    static func answersToHost(_ host: ScriptedHost, stan: Int) -> ISO8583Message? {
        host.received.compactMap { try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii) }
            .first { $0.mti.description == "0810" && $0.integer(11) == Int64(stan) }
    }

    static func wrapped(_ key: WorkingKey, under zmk: WorkingKey) throws -> String {
        Hex.encode(try BlockCipher.tdes.encrypt(key.secret.withBytes { Array($0) }, key: zmk.secret)) + (try key.checkValue())
    }

    @Test func aNewKeyFromTheHostIsUsedUnderLoadAndKept() throws {
        let setup = try Self.start()
        defer { setup.payments.shutdown(grace: .zero); setup.host.stop() }
        let newKey = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16))
        // Four terminals send 40 purchases each while the host changes the key after the first 20 of one of them.
        let codes = Mutex<[String]>([])
        let pushed = Mutex(false)
        DispatchQueue.concurrentPerform(iterations: 4) { terminal in
            guard let pos = try? PosClient(port: setup.port) else { return }
            for index in 1...40 {
                if terminal == 0 && index == 21 {
                    // The host accepts both keys from now on and hands the new one to the switch.
                    setup.accepted.withLock { $0.append(newKey) }
                    if let text = try? Self.wrapped(newKey, under: setup.zoneMaster) {
                        pushed.withLock { $0 = (try? setup.host.push(Self.networkRequest("161", stan: 900_001, field48: text))) != nil }
                    }
                }
                let code = (try? Self.purchase(setup, stan: terminal * 100 + index)).flatMap { try? pos.exchange($0)?.string(39) } ?? "none"
                codes.withLock { $0.append(code) }
            }
        }
        #expect(pushed.withLock { $0 })
        #expect(codes.withLock { $0 } == Array(repeating: "00", count: 160), "no request lost or refused during the change")
        #expect(SwitchHarness.wait { Self.answersToHost(setup.host, stan: 900_001)?.string(39) == "00" })
        // After the change, PIN blocks come under the new key only.
        setup.accepted.withLock { $0 = [newKey] }
        #expect(try setup.pos.exchange(try Self.purchase(setup, stan: 61))?.string(39) == "00")
        let stored = try KeyStore.load(path: setup.keysPath, master: try MasterKey(key: Self.master))
        #expect(try stored.key(named: "issuer-zpk").checkValue() == newKey.checkValue(), "kept for a restart")
        #expect(!(try String(contentsOfFile: setup.keysPath, encoding: .utf8)).contains(newKey.secret.withBytes { Hex.encode($0) }))
    }

    @Test func aKeyWithTheWrongCheckValueIsRefusedAndTheOldOneStays() throws {
        let setup = try Self.start()
        defer { setup.payments.shutdown(grace: .zero); setup.host.stop() }
        #expect(try setup.pos.exchange(try Self.purchase(setup, stan: 1))?.string(39) == "00")
        let newKey = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes.random(count: 16))
        let wrong = String(try Self.wrapped(newKey, under: setup.zoneMaster).dropLast(6)) + "000000"
        try setup.host.push(Self.networkRequest("161", stan: 900_002, field48: wrong))
        #expect(SwitchHarness.wait { Self.answersToHost(setup.host, stan: 900_002)?.string(39) == "63" })
        #expect(try setup.pos.exchange(try Self.purchase(setup, stan: 2))?.string(39) == "00", "still under the old key")
    }

    @Test(arguments: ["request", "schedule"])
    func theSwitchSendsANewKeyWhenAskedOrWhenDue(trigger: String) throws {
        let setup = try Self.start(every: trigger == "schedule" ? "300ms" : nil)
        defer { setup.payments.shutdown(grace: .zero); setup.host.stop() }
        #expect(try setup.pos.exchange(try Self.purchase(setup, stan: 1))?.string(39) == "00")
        if trigger == "request" { try setup.host.push(Self.networkRequest("162", stan: 900_003)) }
        // The switch's 0800 161: the host unwraps the key, checks its KCV and accepts it (0810 00).
        var offered: ISO8583Message? = nil
        #expect(SwitchHarness.wait {
            offered = setup.host.received.compactMap { try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii) }
                .first { $0.mti.description == "0800" && $0.string(70) == "161" }
            return offered != nil
        })
        let text = try #require(offered?.string(48))
        let clear = try BlockCipher.tdes.decrypt(try #require(Hex.decode(String(text.prefix(32)))), key: setup.zoneMaster.secret)
        let newKey = try WorkingKey(cipher: .tdes, usage: .zonePIN, secret: SecretBytes(clear))
        #expect(try newKey.checkValue() == String(text.suffix(6)))
        // Once the host's 0810 is in, PIN blocks come under the new key only.
        #expect(SwitchHarness.wait {
            setup.accepted.withLock { $0 = [newKey] }
            return (try? setup.pos.exchange(try Self.purchase(setup, stan: 2))?.string(39)) == "00"
        })
        let stored = try KeyStore.load(path: setup.keysPath, master: try MasterKey(key: Self.master))
        #expect(try stored.key(named: "issuer-zpk").checkValue() == newKey.checkValue())
    }

    @Test func aNewMACKeyIsUsedAtOnceAndTheOldOneVerifiesAnswersForTheGracePeriod() throws {
        let folder = NSTemporaryDirectory() + "payswitch-kx-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var keys = KeyStore(master: try MasterKey(key: Self.master))
        let oldMAC = SwitchLinkMACTests.macKey
        let zmk = try WorkingKey(cipher: .tdes, usage: .zoneMaster, secret: SecretBytes.random(count: 16))
        try keys.add(try WorkingKey(cipher: .tdes, usage: .mac, secret: SecretBytes(oldMAC)), name: "link-mak")
        try keys.add(zmk, name: "issuer-zmk")
        try keys.save(path: folder + "/keys.json")
        // The host signs its answers with `signing`; it may lag behind a key change.
        let signing = AcceptedKeys([try WorkingKey(cipher: .tdes, usage: .mac, secret: SecretBytes(oldMAC))])
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            if request.mti.messageClass == 8 { return .answer(ScriptedHost.answer(request, code: nil)) }
            let key = signing.withLock { $0[0] }.secret.withBytes { Array($0) }
            return .frame(try! SwitchLinkMACTests.signed(ScriptedHost.answer(request, code: nil), key: key))
        }
        defer { host.stop() }
        let yaml = SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port],
                                                                      extra: "mac: {key: link-mak}\nkey-exchange: {zmk: issuer-zmk, key: mac, grace: 500ms}"),
                                      extra: "security: {key-store: \(folder)/keys.json}")
        let (payments, ports) = try SwitchHarness.start(yaml, rules: SwitchFixtures.rules(["issuer"]), keys: keys)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 1))?.string(39) == "00")

        let newMAC = try WorkingKey(cipher: .tdes, usage: .mac, secret: SecretBytes.random(count: 16))
        try host.push(Self.networkRequest("161", stan: 900_005, field48: try Self.wrapped(newMAC, under: zmk)))
        #expect(SwitchHarness.wait { Self.answersToHost(host, stan: 900_005)?.string(39) == "00" })
        // Requests now carry the new key's MAC; the host's answers under the old one still verify, for 500 ms.
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 2))?.string(39) == "00")
        let lastRequest = try #require(host.received.last { (try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii))?.mti.description == "0200" })
        #expect(SwitchLinkMACTests.macIsGood(lastRequest, key: newMAC.secret.withBytes { Array($0) }))
        usleep(700_000)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 3))?.string(39) == "63", "the old key's grace is over")
        signing.withLock { $0 = [newMAC] }
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 4))?.string(39) == "00")
    }
}
