import ISO20022
import PaymentModel
import Testing

/// pain.001.001.09 customer credit transfer initiation ⇄ canonical.
struct Pain001Tests {
    @Test func validSampleMapsEveryField() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("pain.001.001.09_valid.xml"))
        #expect(message.kind == .creditTransfer && message.function == .request)
        #expect(message.source == PaymentMessage.Source(format: "iso20022", version: "pain.001.001.09"))
        #expect(message.identifiers.messageId == "PAIN-20261120-000001")
        #expect(message.identifiers.endToEndId == "E2E-000001")
        #expect(message.amount?.minorUnits == 10_000 && message.amount?.currency.code == "EUR")
        #expect(message.settlementDate == "2026-11-21")
        #expect(message.debtor == Party(name: "Alice Debtor", iban: "DE89370400440532013000"))
        #expect(message.creditor == Party(name: "Bob Creditor", iban: "FR1420041010050500013M02606"))
        #expect(message.debtorAgent == "COBADEFFXXX" && message.creditorAgent == "BNPAFRPPXXX")
        #expect(message.remittanceInformation == ["Invoice 4711"])
        #expect(message.unmapped == [UnmappedField(key: "GrpHdr/CreDtTm", value: "2026-11-20T15:30:45"),
                                     UnmappedField(key: "GrpHdr/NbOfTxs", value: "1"),
                                     UnmappedField(key: "GrpHdr/CtrlSum", value: "100.00"),
                                     UnmappedField(key: "GrpHdr/InitgPty/Nm", value: "Alice Debtor"),
                                     UnmappedField(key: "PmtInf/PmtInfId", value: "PMTINF-000001"),
                                     UnmappedField(key: "PmtInf/PmtMtd", value: "TRF")])
    }

    @Test func survivesXMLCanonicalXMLCanonicalAsPain001() throws {
        let trip = try Fixtures.roundTrip("pain.001.001.09")
        #expect(trip.xml.contains("<CstmrCdtTrfInitn>"))
        #expect(trip.second == trip.first)
    }

    @Test func laterTransactionsOfTheFirstPaymentInformationAreKeptIndexed() throws {
        let xml = """
        <Document xmlns="\(Fixtures.namespace("pain.001.001.09"))"><CstmrCdtTrfInitn>
        <GrpHdr><MsgId>P1</MsgId><CreDtTm>2026-11-20T15:30:45Z</CreDtTm><NbOfTxs>2</NbOfTxs><InitgPty/></GrpHdr>
        <PmtInf><PmtInfId>PI1</PmtInfId><PmtMtd>TRF</PmtMtd><ReqdExctnDt><Dt>2026-11-21</Dt></ReqdExctnDt><Dbtr/>
        <DbtrAcct><Id><Othr><Id>ACC-1</Id></Othr></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>COBADEFF</BICFI></FinInstnId></DbtrAgt>
        <CdtTrfTxInf><PmtId><InstrId>I1</InstrId><EndToEndId>E1</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">1.00</InstdAmt></Amt></CdtTrfTxInf>
        <CdtTrfTxInf><PmtId><InstrId>I2</InstrId><EndToEndId>E2</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">2.00</InstdAmt></Amt></CdtTrfTxInf>
        </PmtInf></CstmrCdtTrfInitn></Document>
        """
        #expect(try Fixtures.xmllint(xml, schema: "pain.001.001.09").status == 0)
        let message = try ISO20022Codec().decode(xml)
        #expect(message.identifiers.instructionId == "I1" && message.identifiers.endToEndId == "E1")
        #expect(message.amount?.decimalText == "1.00" && message.debtor == Party(otherAccount: "ACC-1"))
        #expect(message.unmapped.contains(UnmappedField(key: "PmtInf/CdtTrfTxInf[2]/PmtId/InstrId", value: "I2")))
        #expect(message.unmapped.contains(UnmappedField(key: "PmtInf/CdtTrfTxInf[2]/PmtId/EndToEndId", value: "E2")))
        #expect(message.unmapped.contains(UnmappedField(key: "PmtInf/CdtTrfTxInf[2]/Amt/InstdAmt@Ccy", value: "EUR")))
    }

    /// pain.001 and pacs.008 share the credit transfer kind: the source picks by default, `as:` overrides.
    @Test func encodeChoosesBySourceAndEncodeAsOverrides() throws {
        let pain = try ISO20022Codec().decode(try Fixtures.sample("pain.001.001.09_valid.xml"))
        var asPacs = pain
        asPacs.settlementMethod = "CLRG"
        asPacs.chargeBearer = "SLEV"
        let pacs = try ISO20022Codec.encode(asPacs, as: .pacs008)
        let lint = try Fixtures.xmllint(pacs, schema: "pacs.008.001.08")
        #expect(lint.status == 0, "\(lint.output)\n\(pacs)")
        let fromPacs = try ISO20022Codec().decode(pacs)
        #expect(fromPacs.identifiers == pain.identifiers && fromPacs.amount == pain.amount && fromPacs.debtor == pain.debtor)
        #expect(try ISO20022Codec.encode(fromPacs).contains("<FIToFICstmrCdtTrf>"))
        let back = try ISO20022Codec.encode(fromPacs, as: .pain001)
        let painLint = try Fixtures.xmllint(back, schema: "pain.001.001.09")
        #expect(painLint.status == 0, "\(painLint.output)\n\(back)")
        #expect(back.contains("<PmtInfId>PAIN-20261120-000001</PmtInfId>"))
        let wrongKind = Fixtures.error { _ = try ISO20022Codec.encode(pain, as: .pacs002) }
        #expect(wrongKind?.code == .cannotEncode)
    }

    @Test func builtInitiationValidates() throws {
        var message = PaymentMessage(kind: .creditTransfer, function: .request)
        message.identifiers.messageId = "P<2>"
        message.identifiers.endToEndId = "E & 2"
        message.identifiers.uetr = "8a562c67-ca16-48ba-b074-65581be6f011"
        message.amount = Amount(minorUnits: 123_456, currency: try #require(Currency("KWD")))
        message.settlementDate = "2026-11-22"
        message.debtor = Party(name: "O'Brien", iban: "DE89370400440532013000")
        message.debtorAgent = "COBADEFFXXX"
        message.creditor = Party(name: "Bob", otherAccount: "ACC-9")
        message.chargeBearer = "SLEV"
        message.remittanceInformation = ["a", "b"]
        let xml = try ISO20022Codec.encode(message, as: .pain001, creationDateTime: "2026-11-21T10:00:00Z")
        let lint = try Fixtures.xmllint(xml, schema: "pain.001.001.09")
        #expect(lint.status == 0, "\(lint.output)\n\(xml)")
        var back = try ISO20022Codec().decode(xml)
        back.source = nil
        back.unmapped.removeAll { ["GrpHdr/CreDtTm", "GrpHdr/NbOfTxs", "PmtInf/PmtInfId", "PmtInf/PmtMtd"].contains($0.key) }
        #expect(back == message)
        message.debtorAgent = nil
        let error = Fixtures.error { _ = try ISO20022Codec.encode(message, as: .pain001) }
        #expect(error?.code == .cannotEncode && error?.path == "CstmrCdtTrfInitn/PmtInf/DbtrAgt")
    }
}
