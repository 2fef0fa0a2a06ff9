import ISO20022
import PaymentModel
import Testing

/// XML → canonical → XML → canonical keeps every mapped field, and what we write is schema-valid.
struct RoundTripTests {
    static let pacs002 = """
    <?xml version="1.0" encoding="UTF-8"?>
    <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
    <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-20T15:31:00Z</CreDtTm>
    <InstgAgt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></InstgAgt></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>MSG-20261120-000001</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
    <TxInfAndSts><OrgnlInstrId>INSTR-000001</OrgnlInstrId><OrgnlEndToEndId>E2E-000001</OrgnlEndToEndId><OrgnlTxId>TX-000001</OrgnlTxId>
    <OrgnlUETR>3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34</OrgnlUETR><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
    </FIToFIPmtStsRpt></Document>
    """

    @Test func pacs008SurvivesXMLCanonicalXMLCanonical() throws {
        let codec = ISO20022Codec()
        let first = try codec.decode(try Fixtures.sample("pacs.008.001.08_valid.xml"))
        let xml = try ISO20022Codec.encode(first)
        let second = try codec.decode(xml)
        #expect(second == first)
        let lint = try Fixtures.xmllint(xml, schema: "pacs.008.001.08")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
    }

    /// A masked IBAN (a dump decoded without --unmask, read back) is refused, never sent.
    @Test func aMaskedIBANIsNotEncoded() throws {
        var message = try ISO20022Codec().decode(try Fixtures.sample("pacs.008.001.08_valid.xml"))
        message.debtor?.iban = IBAN.masked("DE89370400440532013000")
        #expect {
            try ISO20022Codec.encode(message)
        } throws: { error in
            guard let error = error as? ISO20022Error else { return false }
            return error.code == .cannotEncode && error.path == "FIToFICstmrCdtTrf/CdtTrfTxInf/DbtrAcct/Id/IBAN"
        }
    }

    @Test func pacs002SurvivesXMLCanonicalXMLCanonical() throws {
        let codec = ISO20022Codec()
        let original = try Fixtures.xmllint(RoundTripTests.pacs002, schema: "pacs.002.001.10")
        #expect(original.status == 0, "the test's own input must be valid: \(original.output)")
        let first = try codec.decode(RoundTripTests.pacs002)
        let xml = try ISO20022Codec.encode(first)
        let second = try codec.decode(xml)
        #expect(second == first)
        #expect(first.instructingAgent == "BNPAFRPPXXX")
        let lint = try Fixtures.xmllint(xml, schema: "pacs.002.001.10")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
    }

    /// A canonical message built in code, with every value needing escaping, is written schema-valid
    /// and read back unchanged.
    @Test func builtCreditTransferEscapesEveryValueAndValidates() throws {
        var message = PaymentMessage(kind: .creditTransfer, function: .request)
        message.identifiers.messageId = #"M<1>&"2"'"#
        message.identifiers.instructionId = "I-1"
        message.identifiers.endToEndId = "E2E & <more>"
        message.identifiers.transactionId = "T'1"
        message.identifiers.uetr = "8a562c67-ca16-48ba-b074-65581be6f011"
        message.amount = Amount(minorUnits: 123_456, currency: try #require(Currency("KWD")))
        message.settlementDate = "2026-11-21"
        message.settlementMethod = "INDA"
        message.chargeBearer = "SHAR"
        message.instructingAgent = "COBADEFFXXX"
        message.instructedAgent = "BNPAFRPP"
        message.debtor = Party(name: #"Smith & "Sons" <Ltd>"#, otherAccount: "ACC-1")
        message.creditor = Party(name: "O'Brien", iban: "FR1420041010050500013M02606")
        message.debtorAgent = "COBADEFFXXX"
        message.creditorAgent = "BNPAFRPPXXX"
        message.remittanceInformation = ["Invoice <4711> & 4712", "second line"]
        message.unmapped = [UnmappedField(key: "GrpHdr/CreDtTm", value: "2026-11-21T10:00:00Z")]
        let xml = try ISO20022Codec.encode(message)
        #expect(xml.contains("M&lt;1&gt;&amp;&quot;2&quot;&apos;"))
        let lint = try Fixtures.xmllint(xml, schema: "pacs.008.001.08")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
        var back = try ISO20022Codec().decode(xml)
        #expect(back.amount?.decimalText == "123.456")
        back.source = nil
        back.unmapped.removeAll { $0.key == "GrpHdr/NbOfTxs" }
        #expect(back == message)
    }

    @Test func builtStatusReportValidates() throws {
        var message = PaymentMessage(kind: .statusReport, function: .response)
        message.identifiers.messageId = "STS-2"
        message.identifiers.endToEndId = "E2E-9"
        message.status = "ACSC"
        let xml = try ISO20022Codec.encode(message, creationDateTime: "2026-11-21T10:00:00Z")
        let lint = try Fixtures.xmllint(xml, schema: "pacs.002.001.10")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
        let now = try ISO20022Codec.encode(message)
        #expect(try Fixtures.xmllint(now, schema: "pacs.002.001.10").status == 0, "\(now)")
    }

    @Test func messagesWithoutAMappingOrRequiredFieldsAreNotWritten() {
        let card = Fixtures.error { _ = try ISO20022Codec.encode(PaymentMessage(kind: .authorization, function: .request)) }
        #expect(card?.code == .cannotEncode)
        var transfer = PaymentMessage(kind: .creditTransfer, function: .request)
        transfer.identifiers.messageId = "M"
        let missing = Fixtures.error { _ = try ISO20022Codec.encode(transfer) }
        #expect(missing?.code == .cannotEncode && missing?.path?.contains("IntrBkSttlmAmt") == true)
        var control = PaymentMessage(kind: .statusReport, function: .response)
        control.identifiers.messageId = "M\u{1}"
        let bad = Fixtures.error { _ = try ISO20022Codec.encode(control) }
        #expect(bad?.code == .cannotEncode && bad?.path == "FIToFIPmtStsRpt/GrpHdr/MsgId")
    }
}
