import Foundation
import ISO8583
import SecurityModule
import Switch
import Synchronization
import Testing
import TestSupport

/// A channel with a MAC key: requests go out with the link's MAC in DE 64, answers must carry a
/// good one, and one that does not is declined with a security violation, never passed on.
@Suite struct SwitchLinkMACTests {
    static let macKey: [UInt8] = [0x7C, 0xA1, 0x10, 0x45, 0x4A, 0x1A, 0x6E, 0x57, 0x01, 0x31, 0xD9, 0x61, 0x9D, 0xC1, 0x37, 0x6E]

    /// The frame of `message` with DE 64 computed here, independently of the switch: the retail
    /// MAC of everything before DE 64, which iso87ascii writes last, as 16 hexadecimal characters.
    static func signed(_ message: ISO8583Message, key: [UInt8] = macKey) throws -> [UInt8] {
        var withField = message
        withField.set(64, bytes: [UInt8](repeating: 0, count: 8))
        var frame = try withField.encoded(as: SwitchFixtures.iso87ascii)
        let mac = try MessageAuthentication.retailMAC(Array(frame.dropLast(16)), key: SecretBytes(key))
        frame.replaceSubrange((frame.count - 16)..., with: Array(Hex.encode(mac).utf8))
        return frame
    }

    static func macIsGood(_ frame: [UInt8], key: [UInt8] = macKey) -> Bool {
        guard let mac = try? MessageAuthentication.retailMAC(Array(frame.dropLast(16)), key: SecretBytes(key)) else { return false }
        return Array(Hex.encode(mac).utf8) == Array(frame.suffix(16))
    }

    static func start(host: ScriptedHost, storage: StorageFixture? = nil, channelExtra: String = "") throws -> (PaymentSwitch, PosClient) {
        var keys = KeyStore(master: try MasterKey(key: [UInt8](repeating: 0x33, count: 32)))
        try keys.add(try WorkingKey(cipher: .tdes, usage: .mac, secret: SecretBytes(macKey)), name: "link-mak")
        let yaml = SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port], timeout: "300ms",
                                                                      extra: "mac: {key: link-mak}" + channelExtra),
                                      extra: "security: {key-store: keys.json}")
        let (payments, ports) = try SwitchHarness.start(yaml, rules: SwitchFixtures.rules(["issuer"]), storage: storage, keys: keys)
        #expect(SwitchHarness.wait { payments.isReady })
        return (payments, try PosClient(port: ports["pos"]!))
    }

    @Test func requestsCarryTheLinksMACAndGoodAnswersPassWithoutIt() throws {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.messageClass == 8 ? .answer(ScriptedHost.answer(request, code: nil))
                : .frame(try! SwitchLinkMACTests.signed(ScriptedHost.answer(request, code: nil)))
        }
        defer { host.stop() }
        let (payments, pos) = try Self.start(host: host)
        defer { payments.shutdown(grace: .zero) }
        var request = SwitchFixtures.purchase(stan: 64)
        request.set(64, bytes: [1, 2, 3, 4, 5, 6, 7, 8])  // the terminal's own: replaced
        let answer = try #require(try pos.exchange(request))
        #expect(answer.string(39) == "00")
        #expect(!answer.contains(64), "the link's MAC stays on the link")
        let sent = try #require(host.received.first { (try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii))?.mti.description == "0200" })
        #expect(Self.macIsGood(sent))
        #expect(!host.received.contains { Array($0.suffix(16)) == Array("0102030405060708".utf8) })
    }

    @Test(arguments: ["wrong", "missing"])
    func anAnswerWithoutAGoodMACIsDeclinedWithASecurityViolation(fault: String) throws {
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            if request.mti.messageClass == 8 { return .answer(ScriptedHost.answer(request, code: nil)) }
            let approval = ScriptedHost.answer(request, code: nil)
            guard fault == "wrong" else { return .answer(approval) }
            var frame = try! SwitchLinkMACTests.signed(approval)
            frame[frame.count - 1] = frame[frame.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            return .frame(frame)
        }
        defer { host.stop() }
        let (payments, pos) = try Self.start(host: host)
        defer { payments.shutdown(grace: .zero) }
        let answer = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 65)))
        #expect(answer.string(39) == "63", "the host's approval is not trusted")
    }

    @Test func aStoredReversalCarriesTheMACAndIsAcknowledgedOnlyByAGoodOne() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        // The purchase is never answered; the first reversal gets an answer with a wrong MAC (not
        // an acknowledgement), its repeat a good one.
        let answered = Mutex(0)
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            if request.mti.messageClass == 8 { return .answer(ScriptedHost.answer(request, code: nil)) }
            guard request.mti.messageClass == 4 else { return .drop }
            var frame = try! SwitchLinkMACTests.signed(ScriptedHost.answer(request, code: nil))
            if answered.withLock({ count in count += 1; return count == 1 }) {
                frame[frame.count - 1] = frame[frame.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            }
            return .frame(frame)
        }
        defer { host.stop() }
        let (payments, pos) = try Self.start(host: host, storage: store, channelExtra: "\nforward-retry: 100ms\nforward-retry-max: 400ms")
        defer { payments.shutdown(grace: .zero) }
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 66))?.string(39) == "91")
        #expect(SwitchHarness.wait { (try? store.storage.pendingForwards().isEmpty) == true }, "acknowledged by the good answer")
        let reversals = host.received.filter { (try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii))?.mti.messageClass == 4 }
        #expect(reversals.count >= 2 && reversals.allSatisfy { Self.macIsGood($0) })
    }
}
