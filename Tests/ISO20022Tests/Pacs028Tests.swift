import ISO20022
import PaymentModel
import Testing

/// pacs.028.001.03 payment status request ⇄ canonical.
struct Pacs028Tests {
    @Test func validSampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("pacs.028.001.03_valid.xml"))
        #expect(message.kind == .statusRequest && message.function == .request)
        #expect(message.source?.version == "pacs.028.001.03")
        #expect(message.identifiers.messageId == "REQ-20261121-000001")
        #expect(message.identifiers.instructionId == "INSTR-000001" && message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.transactionId == "TX-000001" && message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.instructingAgent == "COBADEFFXXX" && message.instructedAgent == "BNPAFRPPXXX")
        #expect(message.unmapped == [UnmappedField(key: "GrpHdr/CreDtTm", value: "2026-11-21T10:00:00Z"),
                                     UnmappedField(key: "OrgnlGrpInf/OrgnlMsgId", value: "MSG-20261120-000001"),
                                     UnmappedField(key: "OrgnlGrpInf/OrgnlMsgNmId", value: "pacs.008.001.08"),
                                     UnmappedField(key: "TxInf/StsReqId", value: "STSREQ-000001")])
    }

    @Test func survivesXMLCanonicalXMLCanonical() throws {
        let trip = try Fixtures.roundTrip("pacs.028.001.03")
        #expect(trip.second == trip.first)
    }

    @Test func agentsOfTheTransactionWinAndEncodeAsValidates() throws {
        let xml = """
        <Document xmlns="\(Fixtures.namespace("pacs.028.001.03"))"><FIToFIPmtStsReq>
        <GrpHdr><MsgId>Q1</MsgId><CreDtTm>2026-11-21T10:00:00Z</CreDtTm><InstgAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></InstgAgt></GrpHdr>
        <TxInf><OrgnlUETR>8a562c67-ca16-48ba-b074-65581be6f011</OrgnlUETR><InstgAgt><FinInstnId><BICFI>DEUTDEFF</BICFI></FinInstnId></InstgAgt></TxInf>
        <TxInf><OrgnlEndToEndId>SECOND</OrgnlEndToEndId></TxInf>
        </FIToFIPmtStsReq></Document>
        """
        let message = try ISO20022Codec().decode(xml)
        #expect(message.instructingAgent == "DEUTDEFF" && message.identifiers.uetr == "8a562c67-ca16-48ba-b074-65581be6f011")
        #expect(message.identifiers.endToEndId == nil)
        #expect(message.unmapped.contains(UnmappedField(key: "TxInf[2]/OrgnlEndToEndId", value: "SECOND")))
        let written = try ISO20022Codec.encode(message, as: .pacs028)
        let lint = try Fixtures.xmllint(written, schema: "pacs.028.001.03")
        #expect(lint.status == 0, "\(lint.output)\n\(written)")
        #expect(try ISO20022Codec().decode(written).instructingAgent == "DEUTDEFF")
    }
}
