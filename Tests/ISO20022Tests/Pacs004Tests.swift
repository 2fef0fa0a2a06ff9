import ISO20022
import PaymentModel
import Testing

/// pacs.004.001.09 payment return ⇄ canonical.
struct Pacs004Tests {
    @Test func validSampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("pacs.004.001.09_valid.xml"))
        #expect(message.kind == .paymentReturn && message.function == .request)
        #expect(message.source == PaymentMessage.Source(format: "iso20022", version: "pacs.004.001.09"))
        #expect(message.identifiers.messageId == "RTR-20261121-000001")
        #expect(message.identifiers.instructionId == "INSTR-000001" && message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.transactionId == "TX-000001" && message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.amount?.minorUnits == 10_000 && message.amount?.currency.code == "EUR")
        #expect(message.settlementDate == "2026-11-21" && message.settlementMethod == "CLRG" && message.chargeBearer == "SLEV")
        #expect(message.instructingAgent == "BNPAFRPPXXX" && message.instructedAgent == "COBADEFFXXX")
        #expect(message.statusReason == "AC04")
        #expect(message.unmapped.contains(UnmappedField(key: "TxInf/RtrId", value: "RTR-TX-000001")))
        #expect(message.unmapped.contains(UnmappedField(key: "TxInf/OrgnlGrpInf/OrgnlMsgId", value: "MSG-20261120-000001")))
    }

    @Test func survivesXMLCanonicalXMLCanonical() throws {
        let trip = try Fixtures.roundTrip("pacs.004.001.09")
        #expect(trip.second == trip.first)
        #expect(trip.xml.contains("<RtrId>RTR-TX-000001</RtrId>"))
    }

    @Test func builtReturnValidatesAndEncodeAsAgrees() throws {
        var message = PaymentMessage(kind: .paymentReturn, function: .request)
        message.identifiers.messageId = "R & 1"
        message.identifiers.endToEndId = "E2E-9"
        message.amount = Amount(minorUnits: 1_500, currency: try #require(Currency("JPY")))
        message.settlementMethod = "INDA"
        message.statusReason = "MS03"
        let xml = try ISO20022Codec.encode(message, creationDateTime: "2026-11-21T10:00:00Z")
        #expect(try ISO20022Codec.encode(message, as: .pacs004, creationDateTime: "2026-11-21T10:00:00Z") == xml)
        let lint = try Fixtures.xmllint(xml, schema: "pacs.004.001.09")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
        var back = try ISO20022Codec().decode(xml)
        back.source = nil
        back.unmapped.removeAll { $0.key.hasPrefix("GrpHdr/") }
        #expect(back == message)
    }

    @Test func returnWithoutAmountIsNotWritten() {
        var message = PaymentMessage(kind: .paymentReturn, function: .request)
        message.identifiers.messageId = "R1"
        let error = Fixtures.error { _ = try ISO20022Codec.encode(message) }
        #expect(error?.code == .cannotEncode && error?.path == "PmtRtr/TxInf/RtrdIntrBkSttlmAmt")
    }
}
