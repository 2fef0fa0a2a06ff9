import ISO20022
import PaymentModel
import Testing

/// camt.056.001.08 payment cancellation request ⇄ canonical.
struct Camt056Tests {
    @Test func validSampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("camt.056.001.08_valid.xml"))
        #expect(message.kind == .cancellationRequest && message.function == .request)
        #expect(message.source?.version == "camt.056.001.08")
        #expect(message.identifiers.messageId == "CXL-20261121-000001")
        #expect(message.instructingAgent == "COBADEFFXXX" && message.instructedAgent == "BNPAFRPPXXX")
        #expect(message.identifiers.instructionId == "INSTR-000001" && message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.transactionId == "TX-000001" && message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.amount?.decimalText == "100.00" && message.amount?.currency.code == "EUR")
        #expect(message.settlementDate == "2026-11-20")
        #expect(message.statusReason == "DUPL")
        #expect(message.unmapped.contains(UnmappedField(key: "Assgnmt/CreDtTm", value: "2026-11-21T11:00:00Z")))
        #expect(message.unmapped.contains(UnmappedField(key: "Undrlyg/TxInf/CxlId", value: "CXLID-000001")))
    }

    @Test func survivesXMLCanonicalXMLCanonical() throws {
        let trip = try Fixtures.roundTrip("camt.056.001.08")
        #expect(trip.second == trip.first)
    }

    @Test func secondTransactionOfOneUnderlyingStaysUnmapped() throws {
        let xml = """
        <Document xmlns="\(Fixtures.namespace("camt.056.001.08"))"><FIToFIPmtCxlReq>
        <Assgnmt><Id>C1</Id><Assgnr><Agt><FinInstnId><BICFI>COBADEFF</BICFI></FinInstnId></Agt></Assgnr>
        <Assgne><Agt><FinInstnId><BICFI>BNPAFRPP</BICFI></FinInstnId></Agt></Assgne><CreDtTm>2026-11-21T11:00:00Z</CreDtTm></Assgnmt>
        <Undrlyg><TxInf><OrgnlEndToEndId>FIRST</OrgnlEndToEndId><CxlRsnInf><Rsn><Cd>DUPL</Cd></Rsn></CxlRsnInf></TxInf>
        <TxInf><OrgnlEndToEndId>SECOND</OrgnlEndToEndId></TxInf></Undrlyg>
        <Undrlyg><TxInf><OrgnlEndToEndId>THIRD</OrgnlEndToEndId></TxInf></Undrlyg>
        </FIToFIPmtCxlReq></Document>
        """
        #expect(try Fixtures.xmllint(xml, schema: "camt.056.001.08").status == 0)
        let message = try ISO20022Codec().decode(xml)
        #expect(message.identifiers.endToEndId == "FIRST" && message.statusReason == "DUPL")
        #expect(message.unmapped.contains(UnmappedField(key: "Undrlyg/TxInf[2]/OrgnlEndToEndId", value: "SECOND")))
        #expect(message.unmapped.contains(UnmappedField(key: "Undrlyg[2]/TxInf/OrgnlEndToEndId", value: "THIRD")))
    }

    @Test func builtRequestValidatesAndNeedsBothAgents() throws {
        var message = PaymentMessage(kind: .cancellationRequest, function: .request)
        message.identifiers.messageId = "C-2"
        message.identifiers.uetr = "8a562c67-ca16-48ba-b074-65581be6f011"
        message.instructingAgent = "COBADEFFXXX"
        message.instructedAgent = "BNPAFRPPXXX"
        message.statusReason = "CUST"
        let xml = try ISO20022Codec.encode(message, as: .camt056, creationDateTime: "2026-11-21T10:00:00Z")
        let lint = try Fixtures.xmllint(xml, schema: "camt.056.001.08")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
        var back = try ISO20022Codec().decode(xml)
        back.source = nil
        back.unmapped.removeAll { $0.key == "Assgnmt/CreDtTm" }
        #expect(back == message)
        message.instructedAgent = nil
        let error = Fixtures.error { _ = try ISO20022Codec.encode(message) }
        // The schema check names the missing assignee.
        #expect(error?.code == .cannotEncode && error?.path == "FIToFIPmtCxlReq/Assgnmt/Assgne")
        #expect(error?.reason == "Assgnmt (CaseAssignment5) requires Assgne")
    }
}
