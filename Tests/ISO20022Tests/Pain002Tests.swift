import ISO20022
import PaymentModel
import Testing

/// pain.002.001.10 customer payment status report ⇄ canonical.
struct Pain002Tests {
    @Test func validSampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("pain.002.001.10_valid.xml"))
        #expect(message.kind == .statusReport && message.function == .response)
        #expect(message.source?.version == "pain.002.001.10")
        #expect(message.identifiers.messageId == "PSR-20261121-000001")
        #expect(message.identifiers.instructionId == "INSTR-000001" && message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.status == "RJCT" && message.statusReason == "AC01")
        #expect(message.debtorAgent == "COBADEFFXXX")
        #expect(message.unmapped.contains(UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: "PAIN-20261120-000001")))
        #expect(message.unmapped.contains(UnmappedField(key: "OrgnlGrpInfAndSts/GrpSts", value: "PART")))
        #expect(message.unmapped.contains(UnmappedField(key: "OrgnlPmtInfAndSts/OrgnlPmtInfId", value: "PMTINF-000001")))
    }

    @Test func survivesXMLCanonicalXMLCanonicalAsPain002() throws {
        let trip = try Fixtures.roundTrip("pain.002.001.10")
        #expect(trip.xml.contains("<CstmrPmtStsRpt>"))
        #expect(trip.second == trip.first)
    }

    @Test func groupStatusOnlyReportSurvives() throws {
        let xml = """
        <Document xmlns="\(Fixtures.namespace("pain.002.001.10"))"><CstmrPmtStsRpt>
        <GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-11-21T08:00:00Z</CreDtTm></GrpHdr>
        <OrgnlGrpInfAndSts><OrgnlMsgId>P1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>
        <StsRsnInf><Rsn><Cd>DU01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
        </CstmrPmtStsRpt></Document>
        """
        #expect(try Fixtures.xmllint(xml, schema: "pain.002.001.10").status == 0)
        let first = try ISO20022Codec().decode(xml)
        #expect(first.status == "RJCT" && first.statusReason == "DU01")
        let written = try ISO20022Codec.encode(first)
        let lint = try Fixtures.xmllint(written, schema: "pain.002.001.10")
        #expect(lint.status == 0, "\(lint.output)\n\(written)")
        #expect(try ISO20022Codec().decode(written) == first)
    }

    /// pain.002 and pacs.002 share the status report kind: the source picks by default, `as:` overrides.
    @Test func encodeChoosesBySourceAndEncodeAsOverrides() throws {
        let pain = try ISO20022Codec().decode(try Fixtures.sample("pain.002.001.10_valid.xml"))
        #expect(try ISO20022Codec.encode(pain).contains("<CstmrPmtStsRpt>"))
        let pacs = try ISO20022Codec.encode(pain, as: .pacs002)
        let lint = try Fixtures.xmllint(pacs, schema: "pacs.002.001.10")
        #expect(lint.status == 0, "\(lint.output)\n\(pacs)")
        let fromPacs = try ISO20022Codec().decode(pacs)
        #expect(fromPacs.identifiers.endToEndId == "E2E-000001" && fromPacs.status == "RJCT" && fromPacs.statusReason == "AC01")
        #expect(try ISO20022Codec.encode(fromPacs).contains("<FIToFIPmtStsRpt>"))
        let missing = Fixtures.error { _ = try ISO20022Codec.encode(fromPacs, as: .pain002) }
        #expect(missing?.code == .cannotEncode && missing?.path == "CstmrPmtStsRpt/OrgnlPmtInfAndSts/OrgnlPmtInfId")
    }
}
