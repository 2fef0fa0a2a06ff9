import Foundation
import ISO20022
import PaymentModel
import Simulators
import Switch
import Testing
import TestSupport
import Transport

/// The ISO 20022 leg: credit transfers routed by creditor agent to a bank host and their status
/// reports carried back; a corporate's pain.001 through as pacs.008 and back as pain.002.
@Suite struct SwitchISO20022Tests {
    static func sample(_ name: String) throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("ISO20022Tests/Samples/\(name)")))
    }

    /// A switch with an ISO 20022 listener `banks` and a bank simulator behind channel `bank`.
    static func start(bank behaviour: IssuerBehaviour = IssuerBehaviour(), channelSettings: String = "request-timeout: 2s",
                      storage: StorageFixture? = nil) throws -> (PaymentSwitch, UInt16, IssuerSimulator) {
        let bank = try IssuerSimulator(.init(format: .bin4, wire: .iso20022, behaviour: behaviour, loops: 1))
        let bankPort = try bank.start()
        let yaml = """
            name: test
            rules: rules.yaml
            listeners:
              - {name: banks, address: "127.0.0.1:0", framing: bin4, protocol: iso20022}
            channels:
              - {name: bank, addresses: ["127.0.0.1:\(bankPort)"], framing: bin4, protocol: iso20022, \(channelSettings)}
            """
        let rules = """
            channels: [bank]
            rules:
              - id: transfers
                when: {kind: [creditTransfer, statusRequest, cancellationRequest, paymentReturn]}
                then: {route: bank}
            default: {decline: "9108"}
            """
        let (payments, ports) = try SwitchHarness.start(yaml, rules: rules, storage: storage)
        return (payments, ports["banks"]!, bank)
    }

    @Test func aCreditTransferGoesThroughAsSentAndItsStatusReportComesBack() throws {
        let (payments, port, bank) = try Self.start()
        defer { payments.shutdown(grace: .zero); bank.stop() }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: port, lengthBytes: 4)
        let transfer = try Self.sample("pacs.008.001.08_valid.xml")
        client.sendFrame(transfer)
        let answerBytes = try #require(client.receiveFrame())
        let answer = try ISO20022Codec().decode(answerBytes)
        let original = try ISO20022Codec().decode(transfer)
        #expect(answer.kind == .statusReport)
        #expect(answer.status == "ACSC")
        #expect(answer.identifiers.endToEndId == original.identifiers.endToEndId)
        #expect(answer.unmapped.first { $0.key == "OrgnlGrpInfAndSts/OrgnlMsgId" }?.value == original.identifiers.messageId)
        #expect(bank.received.first?.messageId == original.identifiers.messageId)
    }

    /// The two-transaction pacs.008 (Tests/ISO20022Tests/Samples/pacs.008.001.08_batch_two.xml), its
    /// transactions for two creditor agents that two banks serve: each transaction goes to its own
    /// bank as a pacs.008 of one transaction, and the originator gets one pacs.002 with a status for
    /// each (one bank rejects).
    @Test func aBatchIsRoutedTransactionByTransactionByCreditorAgent() throws {
        let paris = try IssuerSimulator(.init(format: .bin4, wire: .iso20022, behaviour: IssuerBehaviour(), loops: 1))
        let amsterdam = try IssuerSimulator(.init(format: .bin4, wire: .iso20022, behaviour: try IssuerBehaviour.load(
            yaml: "responses:\n  - when: {amountOver: \"100.00\"}\n    result: Insufficient funds\n", file: "amsterdam.yaml"), loops: 1))
        let parisPort = try paris.start(), amsterdamPort = try amsterdam.start()
        defer { paris.stop(); amsterdam.stop() }
        let (payments, ports) = try SwitchHarness.start("""
            name: test
            rules: rules.yaml
            listeners:
              - {name: banks, address: "127.0.0.1:0", framing: bin4, protocol: iso20022}
            channels:
              - {name: paris, addresses: ["127.0.0.1:\(parisPort)"], framing: bin4, protocol: iso20022, request-timeout: 2s}
              - {name: amsterdam, addresses: ["127.0.0.1:\(amsterdamPort)"], framing: bin4, protocol: iso20022, request-timeout: 2s}
            """, rules: """
            channels: [paris, amsterdam]
            rules:
              - id: france
                when: {kind: creditTransfer, creditor-agent: BNPAFR}
                then: {route: paris}
              - id: netherlands
                when: {kind: creditTransfer, creditor-agent: INGBNL}
                then: {route: amsterdam}
            default: {decline: "9108"}
            """)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: ports["banks"]!, lengthBytes: 4)
        let batch = try Self.sample("pacs.008.001.08_batch_two.xml")
        client.sendFrame(batch)
        let answer = try ISO20022Codec().parse(try #require(client.receiveFrame()))
        #expect(answer.definition == .pacs002)
        #expect(answer.first("OrgnlGrpInfAndSts/OrgnlMsgId")?.text == "BATCH-20261202-0001")
        #expect(answer.first("OrgnlGrpInfAndSts/GrpSts")?.text == "PART")
        let reports = try ISO20022Codec.mapBatch(answer)
        #expect(reports.map(\.identifiers.endToEndId) == ["E2E-BATCH-1", "E2E-BATCH-2"])
        #expect(reports.map(\.status) == ["ACSC", "RJCT"])
        #expect(reports[1].statusReason == "AM04")
        // Each bank got its own transaction, under a message id of the switch's.
        #expect(paris.received.map(\.endToEndId) == ["E2E-BATCH-1"])
        #expect(amsterdam.received.map(\.endToEndId) == ["E2E-BATCH-2"])
        #expect(paris.received.first?.messageId?.hasPrefix("PSW") == true)
    }

    @Test func aPain001BecomesAPacs008AndItsPacs002APain002() throws {
        let (payments, port, bank) = try Self.start()
        defer { payments.shutdown(grace: .zero); bank.stop() }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: port, lengthBytes: 4)
        let initiation = try Self.sample("pain.001.001.09_valid.xml")
        let original = try ISO20022Codec().decode(initiation)
        client.sendFrame(initiation)
        let answerBytes = try #require(client.receiveFrame())
        let answer = try ISO20022Codec().decode(answerBytes)
        #expect(answer.source?.version == "pain.002.001.10")
        #expect(answer.status == "ACSC")
        #expect(answer.unmapped.first { $0.key == "OrgnlGrpInfAndSts/OrgnlMsgId" }?.value == original.identifiers.messageId)
        #expect(answer.identifiers.endToEndId == original.identifiers.endToEndId)
        // The bank got an interbank pacs.008 with the switch's own message id.
        let received = try #require(bank.received.first)
        #expect(received.message == "pacs.008.001.08")
        #expect(received.messageId?.hasPrefix("PSW") == true && received.endToEndId == original.identifiers.endToEndId)
    }

    @Test func aDuplicateTransferInFlightIsRejectedAsDuplicate() throws {
        let bank = try IssuerSimulator(.init(format: .bin4, wire: .iso20022,
                                             behaviour: try IssuerBehaviour.load(yaml: "default: Approved\nlatency: {distribution: fixed, ms: 300}", file: "b.yaml"),
                                             loops: 1))
        let bankPort = try bank.start()
        defer { bank.stop() }
        let yaml = """
            name: test
            rules: rules.yaml
            listeners: [{name: banks, address: "127.0.0.1:0", framing: bin4, protocol: iso20022}]
            channels: [{name: bank, addresses: ["127.0.0.1:\(bankPort)"], framing: bin4, protocol: iso20022}]
            """
        let (payments, ports) = try SwitchHarness.start(yaml, rules: SwitchFixtures.rules(["bank"]))
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: ports["banks"]!, lengthBytes: 4)
        let transfer = try Self.sample("pacs.008.001.08_valid.xml")
        client.sendFrame(transfer)
        client.sendFrame(transfer)
        let first = try ISO20022Codec().decode(try #require(client.receiveFrame()))
        let second = try ISO20022Codec().decode(try #require(client.receiveFrame()))
        #expect(first.status == "RJCT" && first.statusReason == "AM05")
        #expect(second.status == "ACSC")
        #expect(bank.counters.received == 1)
    }

    @Test func aCancellationIsMatchedToTheResolutionThatNamesItsTransaction() throws {
        // A camt.029 names no identification of the camt.056 it answers, only the transaction concerned.
        let (payments, port, bank) = try Self.start()
        defer { payments.shutdown(grace: .zero); bank.stop() }
        #expect(SwitchHarness.wait { payments.isReady })
        let client = try PosClient(port: port, lengthBytes: 4)
        let cancellation = try Self.sample("camt.056.001.08_valid.xml")
        let original = try ISO20022Codec().decode(cancellation)
        client.sendFrame(cancellation)
        let answer = try ISO20022Codec().decode(try #require(client.receiveFrame()))
        #expect(answer.kind == .resolutionOfInvestigation)
        #expect(answer.status == "CNCL")
        #expect(answer.identifiers.uetr == original.identifiers.uetr && answer.identifiers.endToEndId == original.identifiers.endToEndId)
        #expect(bank.received.first?.message == "camt.056.001.08")
    }

    @Test func aCancellationNoBankCanTakeIsRejectedByTheSwitch() throws {
        // The bank's address refuses connections: the switch answers the camt.056 itself.
        let yaml = """
            name: test
            rules: rules.yaml
            listeners: [{name: banks, address: "127.0.0.1:0", framing: bin4, protocol: iso20022}]
            channels: [{name: bank, addresses: ["127.0.0.1:\(RawClient.freePort())"], framing: bin4, protocol: iso20022}]
            """
        let (payments, ports) = try SwitchHarness.start(yaml, rules: SwitchFixtures.rules(["bank"]))
        defer { payments.shutdown(grace: .zero) }
        let client = try PosClient(port: ports["banks"]!, lengthBytes: 4)
        let cancellation = try Self.sample("camt.056.001.08_valid.xml")
        let original = try ISO20022Codec().decode(cancellation)
        client.sendFrame(cancellation)
        let answer = try ISO20022Codec().decode(try #require(client.receiveFrame()))
        #expect(answer.source?.version == "camt.029.001.09")
        #expect(answer.status == "RJCR")
        // Back the way it came: the bank asked assigns the resolution to the bank that asked.
        #expect(answer.instructingAgent == original.instructedAgent && answer.instructedAgent == original.instructingAgent)
        #expect(answer.identifiers.endToEndId == original.identifiers.endToEndId)
    }
}
