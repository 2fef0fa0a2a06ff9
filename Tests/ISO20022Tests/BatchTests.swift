import Foundation
@testable import ISO20022
import PaymentModel
import Testing

/// Documents of several transactions: decoded one canonical message per transaction, written
/// back as one document, and answered with a status per transaction.
@Suite struct BatchTests {
    /// Two credit transfers to two creditor agents, with postal addresses, ultimate parties, purpose,
    /// regulatory reporting, a structured creditor reference and a SEPA instant payment type.
    static func twoTransactions() throws -> String {
        String(decoding: try Fixtures.sample("pacs.008.001.08_batch_two.xml"), as: UTF8.self)
    }

    @Test func theTwoTransactionTransferKeepsEveryLeaf() throws {
        let xml = try Self.twoTransactions()
        let original = try ISO20022Codec().parse(xml)
        #expect(original.elements.count == 74)
        let encoded = try ISO20022Codec.encodeReportingLoss(try ISO20022Codec.map(original), as: .pacs008)
        #expect(encoded.lost.isEmpty)
        #expect(SchemaFidelityTests.leaves(try ISO20022Codec().parse(encoded.document)) == SchemaFidelityTests.leaves(original))
        // As written: the amount of the second transaction, and the creation time with its milliseconds and offset.
        #expect(encoded.document.contains(#"<IntrBkSttlmAmt Ccy="EUR">1000</IntrBkSttlmAmt>"#))
        #expect(encoded.document.contains("<CreDtTm>2026-12-02T09:30:00.123+01:00</CreDtTm>"))
        #expect(try Fixtures.xmllint(encoded.document, schema: "pacs.008.001.08").status == 0)
    }

    @Test func eachTransactionDecodesToItsOwnMessage() throws {
        let messages = try ISO20022Codec().decodeBatch(Array(try Self.twoTransactions().utf8))
        #expect(messages.count == 2)
        #expect(messages.map(\.creditorAgent) == ["BNPAFRPPXXX", "INGBNL2AXXX"])
        #expect(messages.map(\.identifiers.endToEndId) == ["E2E-BATCH-1", "E2E-BATCH-2"])
        #expect(messages.map { $0.amount?.decimalText } == ["1000.00", "350.50"])
        // The group header is each one's: its id, its instructing agent.
        #expect(messages.allSatisfy { $0.identifiers.messageId == "BATCH-20261202-0001" && $0.instructingAgent == "COBADEFFXXX" })
        // What a router and a bank read of each, as canonical fields.
        #expect(messages.map(\.creditorReference) == ["RF18539007547034", "RF712348231"])
        #expect(messages.map(\.purpose) == ["SUPP", "GDDS"])
        #expect(messages.allSatisfy { $0.serviceLevel == "SEPA" && $0.localInstrument == "INST" && $0.categoryPurpose == "SUPP" })
        #expect(messages.allSatisfy { $0.instructionPriority == "HIGH" && $0.ultimateDebtorName == "Alpha Holding GmbH" })
        #expect(messages.allSatisfy { $0.ultimateCreditorName == "Beta Group SA" })
        // Parties with their identifiers and addresses, structured and in lines.
        #expect(messages.allSatisfy { $0.ultimateDebtor?.lei == "529900T8BM49AURSDO55" })
        let debtorAddress = try #require(messages[1].debtor?.address)
        #expect(debtorAddress.streetName == "Hauptstrasse" && debtorAddress.buildingNumber == "12" && debtorAddress.postCode == "60311")
        #expect(debtorAddress.townName == "Frankfurt am Main" && debtorAddress.country == "DE" && debtorAddress.lines.isEmpty)
        #expect(messages[1].creditor?.address?.lines == ["1 Rue de la Paix", "75002 Paris"])
        // A transaction's kept leaves are its own, under its own block.
        #expect(!messages[1].unmapped.contains { $0.key.hasPrefix("CdtTrfTxInf[") || $0.value == "Beta SA" })
    }

    @Test func theTransactionsAreWrittenBackAsOneDocument() throws {
        let xml = try Self.twoTransactions()
        let messages = try ISO20022Codec().decodeBatch(Array(xml.utf8))
        let batch = try ISO20022Codec.encodeBatch(messages, as: .pacs008)
        #expect(batch.lost.isEmpty)
        let after = SchemaFidelityTests.leaves(try ISO20022Codec().parse(batch.document))
        let before = SchemaFidelityTests.leaves(try ISO20022Codec().parse(xml))
        if let first = zip(before, after).first(where: { $0 != $1 }) { Issue.record("first difference: \(first.0) became \(first.1)") }
        #expect(after == before)
        // Changed or dropped transactions: the group totals follow them.
        var changed = messages
        changed[1].amount = Amount(minorUnits: 1, currency: Currency("EUR")!)
        let smaller = try ISO20022Codec.encodeBatch(changed, as: .pacs008).document
        #expect(smaller.contains("<CtrlSum>1000.01</CtrlSum>") && smaller.contains("<NbOfTxs>2</NbOfTxs>"))
        let one = try ISO20022Codec.encodeBatch([messages[0]] + [messages[0]], as: .pacs008).document
        #expect(try ISO20022Codec().decodeBatch(Array(one.utf8)).count == 2)
    }

    @Test(arguments: [("<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>", "FIToFICstmrCdtTrf/GrpHdr/NbOfTxs"),
                      ("<CtrlSum>1350.5</CtrlSum>", "<CtrlSum>1350.4</CtrlSum>", "FIToFICstmrCdtTrf/GrpHdr/CtrlSum")])
    func groupTotalsMustAgreeWithTheTransactions(_ from: String, _ to: String, _ path: String) throws {
        let xml = try Self.twoTransactions().replacingOccurrences(of: from, with: to)
        let error = Fixtures.error { _ = try ISO20022Codec().decodeBatch(Array(xml.utf8)) }
        #expect(error?.code == .invalidValue && error?.path == path)
    }

    /// A status for each transaction of a batch, and the group status derived from them.
    @Test(arguments: [(["ACSC", "ACSC"], "ACSC"), (["ACSC", "RJCT"], "PART"), (["RJCT", "RJCT", "RJCT"], "RJCT")])
    func aBatchIsAnsweredTransactionByTransaction(_ statuses: [String], _ group: String) throws {
        let reports = statuses.enumerated().map { index, status in
            var report = PaymentMessage(kind: .statusReport, function: .response)
            report.identifiers.messageId = "STS-1"
            report.identifiers.endToEndId = "E2E-\(index + 1)"
            report.status = status
            report.statusReason = status == "RJCT" ? "AC04" : nil
            report.unmapped = [UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: "BATCH-1"),
                               UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgNmId", value: "pacs.008.001.08")]
            return report
        }
        let document = try ISO20022Codec.encodeBatch(reports, as: .pacs002, creationDateTime: "2026-12-02T10:00:00Z").document
        #expect(try Fixtures.xmllint(document, schema: "pacs.002.001.10").status == 0)
        let parsed = try ISO20022Codec().parse(document)
        #expect(parsed.blockCounts["TxInfAndSts"] == statuses.count)
        #expect(parsed.first("OrgnlGrpInfAndSts/GrpSts")?.text == group)
        let back = try ISO20022Codec.mapBatch(parsed)
        #expect(back.map(\.status) == statuses)
        #expect(back.map(\.identifiers.endToEndId) == statuses.indices.map { "E2E-\($0 + 1)" })
    }

    /// A payment type given for the group (pacs.008) or the payment information (pain.001) is the
    /// transaction's when it has none of its own, and goes back where it was.
    @Test(arguments: [("pacs.008.001.08", "GrpHdr"), ("pain.001.001.09", "PmtInf")])
    func aPaymentTypeOfTheGroupIsEachTransactions(_ definitionName: String, _ level: String) throws {
        let definition = try #require(ISO20022MessageDefinition(rawValue: definitionName))
        var xml = String(decoding: try Fixtures.sample(definitionName + "_valid.xml"), as: UTF8.self)
        let paymentType = "<PmtTpInf><SvcLvl><Prtry>BANKX</Prtry></SvcLvl><SvcLvl><Cd>URGP</Cd></SvcLvl><LclInstrm><Cd>INST</Cd></LclInstrm></PmtTpInf>"
        // After the group header's settlement information, or the payment information's method.
        let anchor = level == "GrpHdr" ? "</SttlmInf>" : "</PmtMtd>"
        let range = try #require(xml.range(of: anchor))
        xml.insert(contentsOf: paymentType, at: range.upperBound)
        #expect(try Fixtures.xmllint(xml, schema: definitionName).status == 0)
        let message = try ISO20022Codec().decode(xml)
        #expect(message.serviceLevel == "URGP" && message.localInstrument == "INST")
        let written = try ISO20022Codec.encode(message, as: definition)
        #expect(SchemaFidelityTests.leaves(try ISO20022Codec().parse(written)) == SchemaFidelityTests.leaves(try ISO20022Codec().parse(xml)))
    }

    /// A transaction of a batch written alone (as the switch forwards it when the transactions
    /// route apart) keeps every leaf of its own, with the group header's.
    @Test func aTransactionWrittenAloneKeepsEveryLeafOfIt() throws {
        let document = try ISO20022Codec().parse(try Self.twoTransactions())
        for index in 0..<2 {
            let alone = document.transaction(index)
            let message = try #require(try ISO20022Codec.mapBatch(alone, checkingTotals: false).first)
            let written = try ISO20022Codec.encodeBatch([message], as: .pacs008).document
            let totals: Set<String> = ["GrpHdr/NbOfTxs", "GrpHdr/CtrlSum"]
            let after = try ISO20022Codec().parse(written)
            #expect(SchemaFidelityTests.leaves(after).filter { !totals.contains($0.key) } == SchemaFidelityTests.leaves(alone).filter { !totals.contains($0.key) })
            #expect(after.first("GrpHdr/NbOfTxs")?.text == "1")
            #expect(after.first("GrpHdr/CtrlSum")?.text == ["1000.00", "350.50"][index])
            #expect(try Fixtures.xmllint(written, schema: "pacs.008.001.08").status == 0)
        }
    }
}
