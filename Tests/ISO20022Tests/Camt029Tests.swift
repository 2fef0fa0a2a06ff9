import ISO20022
import PaymentModel
import Testing

/// camt.029.001.09 resolution of investigation ⇄ canonical.
struct Camt029Tests {
    @Test func validSampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("camt.029.001.09_valid.xml"))
        #expect(message.kind == .resolutionOfInvestigation && message.function == .response)
        #expect(message.source?.version == "camt.029.001.09")
        #expect(message.identifiers.messageId == "RSL-20261121-000001")
        #expect(message.instructingAgent == "BNPAFRPPXXX" && message.instructedAgent == "COBADEFFXXX")
        #expect(message.status == "RJCR" && message.statusReason == "LEGL")
        #expect(message.identifiers.instructionId == "INSTR-000001" && message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.transactionId == "TX-000001" && message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.amount?.decimalText == "100.00" && message.settlementDate == "2026-11-20")
        #expect(message.unmapped.contains(UnmappedField(key: "CxlDtls/TxInfAndSts/CxlStsId", value: "CXLSTS-000001")))
        #expect(message.unmapped.contains(UnmappedField(key: "CxlDtls/TxInfAndSts/TxCxlSts", value: "RJCR")))
    }

    @Test func survivesXMLCanonicalXMLCanonical() throws {
        let trip = try Fixtures.roundTrip("camt.029.001.09")
        #expect(trip.second == trip.first)
    }

    @Test func builtResolutionValidatesAndNeedsAStatus() throws {
        var message = PaymentMessage(kind: .resolutionOfInvestigation, function: .response)
        message.identifiers.messageId = "R-1"
        message.instructingAgent = "BNPAFRPPXXX"
        message.instructedAgent = "COBADEFFXXX"
        message.status = "CNCL"
        let xml = try ISO20022Codec.encode(message, as: .camt029, creationDateTime: "2026-11-21T10:00:00Z")
        #expect(!xml.contains("CxlDtls"))
        let lint = try Fixtures.xmllint(xml, schema: "camt.029.001.09")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
        message.status = nil
        let error = Fixtures.error { _ = try ISO20022Codec.encode(message) }
        #expect(error?.code == .cannotEncode && error?.path == "RsltnOfInvstgtn/Sts")
        #expect(error?.reason.hasSuffix("requires Sts") == true)
    }
}
