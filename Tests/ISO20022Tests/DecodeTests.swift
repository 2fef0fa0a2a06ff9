import Foundation
import ISO20022
import PaymentModel
import Testing

/// Reading pacs.008 and pacs.002 into the canonical message.
struct DecodeTests {
    /// The instructed amount before conversion, the rate and the charges: canonical, written back as read
    /// (`1105.5` stays `1105.5`); a pain.001 carries the rate (`XchgRateInf`) and names the
    /// instructed amount as lost (its amount is the one instructed).
    @Test func instructedAmountAndExchangeRate() throws {
        let sample = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let xml = sample.replacingOccurrences(of: "<ChrgBr>SLEV</ChrgBr>",
                                              with: #"<InstdAmt Ccy="USD">1105.5</InstdAmt><XchgRate>0.9043</XchgRate><ChrgBr>SLEV</ChrgBr>"#
                                                + #"<ChrgsInf><Amt Ccy="EUR">1.50</Amt><Agt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></Agt></ChrgsInf>"#
                                                + #"<ChrgsInf><Amt Ccy="EUR">0.25</Amt><Agt><FinInstnId><LEI>529900T8BM49AURSDO55</LEI></FinInstnId></Agt></ChrgsInf>"#)
        let message = try ISO20022Codec().decode(xml)
        #expect(message.instructedAmount == Amount(minorUnits: 110_550, currency: try #require(Currency("USD"))))
        #expect(message.exchangeRate == "0.9043" && message.sourceTexts == ["instructedAmount": "1105.5"])
        #expect(!message.unmapped.contains { $0.key.contains("InstdAmt") || $0.key.contains("XchgRate") })
        // Charges, occurrence by occurrence; an agent without a BIC keeps its leaves in place.
        #expect(message.charges.map(\.description) == ["1.50 EUR BNPAFRPPXXX", "0.25 EUR"])
        #expect(message.unmapped.contains(UnmappedField(key: "CdtTrfTxInf/ChrgsInf[2]/Agt/FinInstnId/LEI", value: "529900T8BM49AURSDO55")))
        let back = try ISO20022Codec.encode(message)
        #expect(back.contains(#"<InstdAmt Ccy="USD">1105.5</InstdAmt>"#) && back.contains("<XchgRate>0.9043</XchgRate>"))
        #expect(try ISO20022Codec().decode(back).charges == message.charges)
        #expect(try Fixtures.xmllint(back, schema: "pacs.008.001.08").status == 0)
        #expect(back.contains("<LEI>529900T8BM49AURSDO55</LEI>"))
        let pain = try ISO20022Codec.encodeReportingLoss(message, as: .pain001)
        #expect(pain.lost.contains { $0.key == "instructedAmount" } && !pain.lost.contains { $0.key == "exchangeRate" })
        #expect(pain.document.contains("<XchgRate>0.9043</XchgRate>"))
        #expect(try Fixtures.xmllint(pain.document, schema: "pain.001.001.09").status == 0)
    }

    /// Leaves below repeated elements are kept under their occurrence, two-digit ones too
    /// (`RmtInf/Strd[12]/AddtlRmtInf`), and written back where they were.
    @Test func leavesOfTheTwelfthOccurrenceKeepTheirIndex() throws {
        let sample = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let structured = (1...12).map { "<Strd><AddtlRmtInf>line \($0)</AddtlRmtInf></Strd>" }.joined()
        let xml = sample.replacingOccurrences(of: "</RmtInf>", with: structured + "</RmtInf>")
        #expect(try Fixtures.xmllint(xml, schema: "pacs.008.001.08").status == 0)
        let message = try ISO20022Codec().decode(xml)
        for occurrence in 1...12 {
            let key = "CdtTrfTxInf/RmtInf/Strd" + (occurrence == 1 ? "" : "[\(occurrence)]") + "/AddtlRmtInf"
            #expect(message.unmapped.contains(UnmappedField(key: key, value: "line \(occurrence)")), "\(key)")
        }
        let back = try ISO20022Codec.encode(message)
        #expect(back.contains("<AddtlRmtInf>line 12</AddtlRmtInf>"))
        #expect(try ISO20022Codec().decode(back).unmapped == message.unmapped)
        #expect(try Fixtures.xmllint(back, schema: "pacs.008.001.08").status == 0)
    }

    /// An instructed amount in a currency the code table lacks (the XSD takes historic ones, `DEM`)
    /// stays unmapped and comes back as written; the message's own amount would be an error.
    @Test func instructedAmountInAnUnknownCurrencyIsKept() throws {
        let sample = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let xml = sample.replacingOccurrences(of: "<ChrgBr>SLEV</ChrgBr>", with: #"<InstdAmt Ccy="DEM">195.58</InstdAmt><ChrgBr>SLEV</ChrgBr>"#)
        let message = try ISO20022Codec().decode(xml)
        #expect(message.instructedAmount == nil)
        #expect(message.unmapped.contains(UnmappedField(key: "CdtTrfTxInf/InstdAmt", value: "195.58")))
        #expect(try ISO20022Codec.encode(message).contains(#"<InstdAmt Ccy="DEM">195.58</InstdAmt>"#))
    }

    @Test func validPacs008SampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("pacs.008.001.08_valid.xml"))
        #expect(message.kind == .creditTransfer && message.function == .request)
        #expect(message.source == PaymentMessage.Source(format: "iso20022", version: "pacs.008.001.08"))
        #expect(message.identifiers.messageId == "MSG-20261120-000001")
        #expect(message.identifiers.instructionId == "INSTR-000001")
        #expect(message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.transactionId == "TX-000001")
        #expect(message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.amount?.minorUnits == 10_000 && message.amount?.currency.code == "EUR")
        #expect(message.settlementDate == "2026-11-20" && message.settlementMethod == "CLRG")
        #expect(message.chargeBearer == "SLEV")
        #expect(message.debtor == Party(name: "Alice Debtor", iban: "DE89370400440532013000"))
        #expect(message.creditor == Party(name: "Bob Creditor", iban: "FR1420041010050500013M02606"))
        #expect(message.debtorAgent == "COBADEFFXXX" && message.creditorAgent == "BNPAFRPPXXX")
        #expect(message.remittanceInformation == ["Invoice 4711"])
        #expect(message.unmapped == [UnmappedField(key: "GrpHdr/CreDtTm", value: "2026-11-20T15:30:45Z"),
                                     UnmappedField(key: "GrpHdr/NbOfTxs", value: "1")])
    }

    @Test func onlyTheFirstTransactionMapsTheRestIsKeptUnmapped() throws {
        let xml = """
        <Document xmlns="\(Fixtures.namespace("pacs.008.001.08"))"><FIToFICstmrCdtTrf>
        <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-01T00:00:00Z</CreDtTm><NbOfTxs>2</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>
        <CdtTrfTxInf><PmtId><EndToEndId>A</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="JPY">1500</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>
        <Dbtr/><DbtrAcct><Id><Othr><Id>12345</Id></Othr></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>BOTKJPJT</BICFI></FinInstnId></DbtrAgt>
        <CdtrAgt><FinInstnId><BICFI>MHCBJPJT</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>R &amp; D</Nm></Cdtr></CdtTrfTxInf>
        <CdtTrfTxInf><PmtId><EndToEndId>B</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="JPY">7</IntrBkSttlmAmt></CdtTrfTxInf>
        </FIToFICstmrCdtTrf></Document>
        """
        let message = try ISO20022Codec().decode(xml)
        #expect(message.identifiers.endToEndId == "A")
        #expect(message.amount?.minorUnits == 1500 && message.amount?.currency.code == "JPY")
        #expect(message.debtor == Party(otherAccount: "12345"))
        #expect(message.creditor?.name == "R & D")
        #expect(message.unmapped.contains(UnmappedField(key: "CdtTrfTxInf[2]/PmtId/EndToEndId", value: "B")))
        #expect(message.unmapped.contains(UnmappedField(key: "CdtTrfTxInf[2]/IntrBkSttlmAmt@Ccy", value: "JPY")))
    }

    @Test func pacs002MapsStatusAndOriginalIdentifiers() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="\(Fixtures.namespace("pacs.002.001.10"))"><FIToFIPmtStsRpt>
        <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-20T15:31:00Z</CreDtTm></GrpHdr>
        <OrgnlGrpInfAndSts><OrgnlMsgId>MSG-20261120-000001</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInfAndSts>
        <TxInfAndSts><OrgnlInstrId>INSTR-000001</OrgnlInstrId><OrgnlEndToEndId>E2E-000001</OrgnlEndToEndId><OrgnlTxId>TX-000001</OrgnlTxId>
        <OrgnlUETR>3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34</OrgnlUETR><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
        </FIToFIPmtStsRpt></Document>
        """
        let message = try ISO20022Codec().decode(xml)
        #expect(message.kind == .statusReport && message.function == .response)
        #expect(message.source?.version == "pacs.002.001.10")
        #expect(message.identifiers.messageId == "STS-1")
        #expect(message.identifiers.instructionId == "INSTR-000001" && message.identifiers.endToEndId == "E2E-000001")
        #expect(message.identifiers.transactionId == "TX-000001" && message.identifiers.uetr == "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34")
        #expect(message.status == "RJCT" && message.statusReason == "AC04")
        #expect(message.unmapped.contains(UnmappedField(key: "OrgnlGrpInfAndSts/OrgnlMsgId", value: "MSG-20261120-000001")))
    }

    @Test func envelopeWithAppHdrAndDocumentIsRead() throws {
        let sample = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let document = sample.replacingOccurrences(of: #"<?xml version="1.0" encoding="UTF-8"?>"#, with: "")
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <BizMsg><AppHdr xmlns="\(Fixtures.namespace("head.001.001.02"))"><BizMsgIdr>BAH-1</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr></AppHdr>
        \(document)</BizMsg>
        """
        let message = try ISO20022Codec().decode(xml)
        #expect(message.identifiers.endToEndId == "E2E-000001")
        #expect(message.businessHeader?.businessMessageId == "BAH-1")
        #expect(message.businessHeader?.messageDefinitionId == "pacs.008.001.08")
        #expect(!message.unmapped.contains { $0.key.hasPrefix("AppHdr/") })
    }

    @Test func amountWithTooManyDecimalsOrUnknownCurrencyIsAnError() throws {
        let decimals = Fixtures.error { _ = try ISO20022Codec().decode(try! Fixtures.sample("pacs.008.001.08_broken_amount_6_decimals.xml")) }
        #expect(decimals?.code == .invalidValue && decimals?.line == 19)
        #expect(decimals?.path == "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt")
        let currency = Fixtures.error { _ = try ISO20022Codec().decode(try! Fixtures.sample("pacs.008.001.08_broken_bad_ccy.xml")) }
        #expect(currency?.code == .invalidValue && currency?.reason.contains("euro") == true)
    }
}
