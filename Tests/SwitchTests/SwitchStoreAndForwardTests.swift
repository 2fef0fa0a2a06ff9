import Foundation
import ISO8583
import ISO20022
import PaymentModel
import SecurityModule
import Simulators
import Switch
import Synchronization
import Testing
import TestSupport
import Transport

/// Nothing lost: timeouts reversed through the durable store-and-forward queue, advices stored
/// before they are acknowledged, every transaction journalled, interrupted requests recovered.
@Suite struct SwitchStoreAndForwardTests {
    static let fastRetry = "forward-retry: 100ms\nforward-retry-max: 400ms"
    /// Keeps the breaker closed however many timeouts a test causes.
    static let patientHealth = "health: {minimum-failures: 1000}"

    @Test(arguments: StorageBackend.allCases)
    func aTimeoutIsDeclinedAndReversedWithTheOriginalDataElements(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        // The host never answers the purchase, and acknowledges its reversal.
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.description == "0200" ? .drop : .answer(ScriptedHost.answer(request, code: nil))
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port], timeout: "300ms", extra: Self.fastRetry)),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!)

        let answer = try #require(try pos.exchange(SwitchFixtures.purchase(stan: 4711)))
        #expect(answer.string(39) == "91")
        #expect(SwitchHarness.wait { host.requests.contains { $0.mti.description == "0400" } })
        let forwarded = try #require(host.requests.first { $0.mti.description == "0200" })
        let reversal = try #require(host.requests.first { $0.mti.description == "0400" })
        let hostStan = try #require(forwarded.string(11))
        // DE 90: original MTI, STAN (as the host saw it), transmission date and time, acquirer, forwarder.
        #expect(reversal.string(90) == "0200" + hostStan + "1121103000" + "00000123456" + "00000000000")
        #expect(reversal.string(2) == SwitchFixtures.pan && reversal.string(4) == forwarded.string(4))
        #expect(reversal.string(37) == forwarded.string(37) && reversal.string(41) == "TERM0001")
        #expect(reversal.string(11) != hostStan)
        #expect(!reversal.contains(35) && !reversal.contains(52), "no track data or PIN block in a reversal")

        #expect(SwitchHarness.wait { (try? store.storage.pendingForwards().isEmpty) == true }, "the acknowledged reversal is done")
        var query = JournalQuery()
        query.stan = "004711"
        let record = try #require(try store.storage.journal(query).first)
        #expect(record.outcome == "timeout" && record.responseCode == "91" && record.channel == "issuer")
        #expect(record.forward == "reversal" && record.forwardState == "acknowledged")
        #expect(record.hostStan == hostStan)
        #expect(record.maskedPAN == "476173******0119")
        #expect(record.panHash == Array(SwitchFixtures.pan.utf8).withUnsafeBufferPointer { store.protection.recordHash(ofDigits: $0) })
        #expect(record.panHash?.hasPrefix(store.protection.keyID + ":") == true, "the hash names its key")
        let part = try #require(record.messages?.request)
        #expect(!part.sealed.contains(bytes: Array(SwitchFixtures.pan.utf8)), "sealed at rest")
        // Opened, the kept request has the card number but no track data or PIN block.
        let opened = try store.protection.open(part.sealed)
        let kept = try ISO8583Message(decoding: Array(opened[try #require(part.range)]), dialect: SwitchFixtures.iso87ascii)
        #expect(kept.string(2) == SwitchFixtures.pan && kept.string(35)?.allSatisfy { $0 == "0" } == true)
        #expect(kept.bytes(52) == [UInt8](repeating: 0, count: 8))
        let shown = record.maskedMessages(protection: store.protection, wire: payments.configuration.listeners[0].wire)
        #expect(shown.request?.contains("476173******0119") == true && shown.request?.contains(SwitchFixtures.pan) == false)
        #expect(shown.request?.contains("\"11\":\"004711\"") == true && shown.answer?.contains("\"39\":\"91\"") == true)
        #expect(SwitchHarness.wait { (try? store.storage.claimBlocks().isEmpty) == true }, "the finished transaction settled its claim")
        if let url = store.url {
            let dump = try TemporaryPostgres.dump(url)
            #expect(dump.count > 1_000 && dump.contains(bytes: Array("journal_block".utf8)))
            #expect(!dump.contains(bytes: Array(SwitchFixtures.pan.utf8)), "the card number is nowhere in a pg_dump")
            // Sealed columns are dumped as hexadecimal (`\x…`), whose random digit runs would pass
            // for card numbers now and then, and times as Unix milliseconds (13 digits from 1, which
            // no card scheme issues; a tenth pass the Luhn check): everything else is scanned.
            let runs = CardNumberScan.luhnValidRuns(in: TemporaryPostgres.withoutHexadecimal(dump))
            #expect(runs.filter { !($0.count == 13 && $0.hasPrefix("1")) }.isEmpty, "no card number in a pg_dump")
        }
    }

    @Test(arguments: StorageBackend.allCases)
    func aReversalWaitsForAHostThatIsDownAndGoesOutAsARepeatWhenItIsBack(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        // Answers network management only: the purchase times out and its reversal is never acknowledged.
        let silent = try IssuerBehaviour.load(yaml: "faults: {drop: 1}\nfaultsOn: [\"0200\", \"0400\", \"0401\"]", file: "silent.yaml")
        let first = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), behaviour: silent, loops: 1))
        let port = try first.start()
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [port], timeout: "300ms", extra: Self.fastRetry),
                               extra: Self.patientHealth),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 100))?.string(39) == "91")
        #expect(SwitchHarness.wait { first.received.filter { $0.kind == "reversal" }.count >= 2 }, "sent, then repeated")
        first.stop()
        // Down for a while: the reversal stays pending.
        usleep(800_000)
        #expect(try store.storage.pendingForwards().count == 1)

        let second = try IssuerSimulator(.init(port: port, format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), loops: 1))
        _ = try second.start()
        defer { second.stop() }
        #expect(SwitchHarness.wait(seconds: 10) { (try? store.storage.pendingForwards().isEmpty) == true })
        let reversals = second.received.filter { $0.kind == "reversal" }
        #expect(reversals.count == 1)
        #expect(reversals.first?.message == "0401", "a message that may have reached the host goes out as a repeat")
        let purchase = try #require(first.received.first { $0.message == "0200" })
        #expect(reversals.first?.original?.dropFirst(4).prefix(6) == purchase.stan?[...])
    }

    @Test func anAdviceIsAcknowledgedOnceStoredAndDeliveredWhenTheHostIsReachable() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        // No host listens yet on the channel's port.
        let reserved = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), loops: 1))
        let port = try reserved.start()
        reserved.stop()
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [port], timeout: "300ms", extra: Self.fastRetry)),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        let pos = try PosClient(port: ports["pos"]!)
        var advice = SwitchFixtures.purchase(stan: 555)
        advice.mti = MTI("0220")!
        advice.remove(52)
        advice.remove(35)
        let acknowledgement = try #require(try pos.exchange(advice))
        #expect(acknowledgement.mti.description == "0230" && acknowledgement.string(39) == "00")
        #expect(try store.storage.pendingForwards().map(\.kind) == [.advice], "stored before it was acknowledged")

        let host = try IssuerSimulator(.init(port: port, format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), loops: 1))
        _ = try host.start()
        defer { host.stop() }
        #expect(SwitchHarness.wait(seconds: 10) { (try? store.storage.pendingForwards().isEmpty) == true })
        let delivered = host.received.filter { $0.message == "0220" }
        #expect(delivered.count == 1)
        #expect(delivered.first?.stan != "000555" && delivered.first?.stan != "000000", "sent with the switch's own STAN")
        var query = JournalQuery()
        query.stan = "000555"
        let record = try #require(try store.storage.journal(query).first)
        #expect(record.outcome == "stored" && record.forward == "advice" && record.forwardState == "acknowledged")
    }

    @Test(arguments: StorageBackend.allCases)
    func aClaimLeftByAStoppedSwitchIsJournalledAsInterruptedAndReversed(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { host.stop() }
        // What a switch killed between forwarding a purchase and answering it leaves behind.
        var sent = SwitchFixtures.purchase(stan: 321)
        sent.set(11, "000042")
        try store.claim([Claim(transaction: "crashed-1", channel: "issuer", listener: "pos", message: "0200", stan: "000321", reversible: true,
                               sent: try sent.encoded(as: SwitchFixtures.iso87ascii), created: 1_000)])

        let (payments, _) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port], timeout: "300ms", extra: Self.fastRetry)),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { host.requests.contains { $0.mti.description == "0400" } })
        let reversal = try #require(host.requests.first { $0.mti.description == "0400" })
        #expect(reversal.string(90)?.prefix(10) == "0200000042")
        #expect(SwitchHarness.wait { (try? store.storage.pendingForwards().isEmpty) == true })
        #expect(try store.storage.claimBlocks().isEmpty, "the recovered claim's block is released")
        var query = JournalQuery()
        query.stan = "000321"
        let record = try #require(try store.storage.journal(query).first)
        #expect(record.id == "crashed-1" && record.outcome == "interrupted" && record.forward == "reversal")
        #expect(record.maskedPAN == "476173******0119")
    }

    @Test func aFullJournalShedsNewRequestsWithASystemError() throws {
        let storage = GatedStorage()
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii)
        defer { host.stop() }
        let yaml = SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port]),
                                      extra: "storage: {path: unused.sqlite, key-file: unused.key, journal-capacity: 1}")
        let configuration = try SwitchHarness.configuration(yaml, rules: SwitchFixtures.rules(["issuer"]))
        let payments = try PaymentSwitch(configuration, storage: (storage, try DataProtection(key: StorageFixture.key)),
                                         logger: SwitchHarness.quietLogger)
        let ports = try payments.start()
        defer {
            storage.gate.withLock { $0 = false }
            payments.shutdown(grace: .zero)
        }
        #expect(SwitchHarness.wait { payments.isReady })
        let port = try #require(ports["pos"])
        storage.gate.withLock { $0 = true }
        let first = try PosClient(port: port)
        try first.send(SwitchFixtures.purchase(stan: 1, terminal: "TERM0001"))
        // The first takes the journal's one place and its answer waits for the held write.
        usleep(200_000)
        let second = try PosClient(port: port)
        let shed = try #require(try second.exchange(SwitchFixtures.purchase(stan: 2, terminal: "TERM0002")))
        #expect(shed.string(39) == "96")
        storage.gate.withLock { $0 = false }
        #expect(try first.receive()?.string(39) == "00", "answered once its record is written")
        #expect(SwitchHarness.wait { storage.records.count == 1 })
        #expect(storage.records.map(\.stan) == ["000001"], "the shed request has no record")
    }
}

/// The reversal each dialect family and policy sends.
@Suite struct SwitchReversalFormTests {
    @Test(arguments: [("iso87ascii", "request", "0400"), ("iso87ascii", "advice", "0420"), ("iso93ascii", "request", "1400")])
    func aTimedOutRequestIsReversedInItsHostsForm(dialect: String, policy: String, mti: String) throws {
        let store = try StorageFixture()
        defer { store.remove() }
        let hostDialect = try Dialect.shipped(dialect)
        let host = try ScriptedHost(dialect: hostDialect) { request in
            request.mti.messageClass == 2 ? .drop : .answer(ScriptedHost.answer(request, code: nil))
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(listenerDialect: dialect, channels: SwitchHarness.channel(
                "issuer", ports: [host.port], dialect: dialect, timeout: "300ms", extra: "reversal: \(policy)")),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!, dialect: hostDialect)
        var purchase = SwitchFixtures.purchase(stan: 77)
        if dialect == "iso93ascii" { purchase = SwitchFixtures.purchase1993(purchase) }
        #expect(try pos.exchange(purchase)?.string(39) == (dialect == "iso93ascii" ? "911" : "91"))
        #expect(SwitchHarness.wait { host.requests.contains { $0.mti.description == mti } })
        let forwarded = try #require(host.requests.first { $0.mti.messageClass == 2 })
        let reversal = try #require(host.requests.first { $0.mti.description == mti })
        let stan = try #require(forwarded.string(11))
        if dialect == "iso93ascii" {
            // DE 56: original MTI, STAN, local date and time, LL acquirer; function 400, reason 4021.
            #expect(reversal.string(56) == "1200" + stan + "261121103000" + "06123456")
            #expect(reversal.string(24) == "400" && reversal.string(25) == "4021")
            #expect(!reversal.contains(90))
        } else {
            #expect(reversal.string(90)?.hasPrefix("0200" + stan) == true)
        }
        #expect(SwitchHarness.wait { (try? store.storage.pendingForwards().isEmpty) == true })
    }
}

/// ISO 20022: a credit transfer without a status in time.
@Suite struct SwitchISO20022TimeoutTests {
    @Test func aCreditTransferWithoutAStatusIsRejectedAB05AndAskedAfterWithPacs028() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        // The bank never answers the transfer itself, and answers the status request.
        let silent = try IssuerBehaviour.load(yaml: "faults: {drop: 1}\nfaultsOn: [\"pacs.008.001.08\"]", file: "bank.yaml")
        let (payments, port, bank) = try SwitchISO20022Tests.start(bank: silent, channelSettings: "request-timeout: 300ms, forward-retry: 100ms",
                                                                  storage: store)
        defer { payments.shutdown(grace: .zero); bank.stop() }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: port, lengthBytes: 4)
        let transfer = try SwitchISO20022Tests.sample("pacs.008.001.08_valid.xml")
        let original = try ISO20022Codec().decode(transfer)
        client.sendFrame(transfer)
        let answer = try ISO20022Codec().decode(try #require(client.receiveFrame()))
        #expect(answer.kind == .statusReport && answer.status == "RJCT" && answer.statusReason == "AB05")

        #expect(SwitchHarness.wait { (try? store.storage.pendingForwards().isEmpty) == true && !bank.received.filter { $0.kind == "statusRequest" }.isEmpty })
        let asked = try #require(bank.received.first { $0.kind == "statusRequest" })
        #expect(asked.message == "pacs.028.001.03")
        #expect(asked.endToEndId == original.identifiers.endToEndId)
        var query = JournalQuery()
        query.endToEndId = original.identifiers.endToEndId
        let record = try #require(try store.storage.journal(query).first)
        #expect(record.outcome == "timeout" && record.forward == "statusRequest" && record.forwardState == "acknowledged")
        #expect(record.responseCode == "RJCT/AB05")
        #expect(record.forwardResult == "ACSC", "the pacs.002 the status request got is recorded")
    }
}

extension SwitchStoreAndForwardTests {
    @Test func aClaimKeepsTheRequestWithoutItsTrackDataOrPINBlock() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        // The host holds the purchase unanswered for a while: its claim stays open meanwhile.
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.description == "0200" ? .answerAfter(milliseconds: 1_500, ScriptedHost.answer(request, code: nil))
                : .answer(ScriptedHost.answer(request, code: nil))
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port], timeout: "3s")),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!)
        try pos.send(SwitchFixtures.purchase(stan: 35))
        var claims: [Claim] = []
        #expect(SwitchHarness.wait { claims = (try? store.storage.openClaims(protection: store.protection).claims) ?? []; return !claims.isEmpty })
        let kept = try ISO8583Message(decoding: try #require(claims.first?.sent), dialect: SwitchFixtures.iso87ascii)
        #expect(kept.string(2) == SwitchFixtures.pan, "the reversal needs the card number")
        #expect(kept.string(35)?.allSatisfy { $0 == "0" } == true && kept.bytes(52) == [UInt8](repeating: 0, count: 8))
        // The host still got them (the claim is written before the request leaves: wait for it).
        #expect(SwitchHarness.wait { host.requests.contains { $0.mti.description == "0200" } })
        let sent = try #require(host.requests.first { $0.mti.description == "0200" })
        #expect(sent.string(35)?.hasPrefix(SwitchFixtures.pan) == true)
        #expect(try pos.receive()?.string(39) == "00")
    }
}
