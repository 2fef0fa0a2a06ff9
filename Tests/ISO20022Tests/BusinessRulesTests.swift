import Foundation
import ISO20022
import Testing

/// Checks the XSD cannot make.
struct BusinessRulesTests {
    static func document(groupHeader: String = "<NbOfTxs>1</NbOfTxs>", creation: String = "2026-11-20T15:30:45Z",
                         debtorIBAN: String = "DE89370400440532013000", debtorAgent: String = "COBADEFFXXX",
                         amounts: [String] = ["100.00"]) -> String {
        let transactions = amounts.enumerated().map { index, amount in
            """
            <CdtTrfTxInf><PmtId><EndToEndId>E\(index)</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="EUR">\(amount)</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>
            <Dbtr/><DbtrAcct><Id><IBAN>\(debtorIBAN)</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>\(debtorAgent)</BICFI></FinInstnId></DbtrAgt>
            <CdtrAgt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></CdtrAgt><Cdtr/></CdtTrfTxInf>
            """
        }
        return """
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
        <GrpHdr><MsgId>M</MsgId><CreDtTm>\(creation)</CreDtTm>\(groupHeader)<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>
        \(transactions.joined(separator: "\n"))
        </FIToFICstmrCdtTrf></Document>
        """
    }

    static func problems(_ xml: String) throws -> [ISO20022Problem] {
        ISO20022BusinessRules.check(try ISO20022Codec().parse(xml))
    }

    @Test func validSampleHasNoProblems() throws {
        #expect(ISO20022BusinessRules.check(try ISO20022Codec().parse(try Fixtures.sample("pacs.008.001.08_valid.xml"))).isEmpty)
        #expect(try BusinessRulesTests.problems(BusinessRulesTests.document(
            groupHeader: "<NbOfTxs>2</NbOfTxs><CtrlSum>150.5</CtrlSum>", creation: "2026-11-20T15:30:45+00:00",
            amounts: ["100.00", "50.50"])).isEmpty)
    }

    @Test(arguments: ["DE89370400440532013000", "FR1420041010050500013M02606", "GB82WEST12345698765432"])
    func validIBANs(iban: String) {
        #expect(ISO20022BusinessRules.isValidIBAN(iban))
    }

    @Test(arguments: ["DE89370400440532013001", "DE8937040044053201300", "de89370400440532013000", "DE89 3704 0044 0532 0130 00", "1289370400440532013000"])
    func invalidIBANs(iban: String) {
        #expect(!ISO20022BusinessRules.isValidIBAN(iban))
    }

    @Test func badIBANIsReportedWithItsPath() throws {
        let problems = try BusinessRulesTests.problems(BusinessRulesTests.document(debtorIBAN: "DE89370400440532013001"))
        #expect(problems.map(\.path) == ["FIToFICstmrCdtTrf/CdtTrfTxInf[1]/DbtrAcct/Id/IBAN"])
        // The error names the IBAN masked: it is personal data.
        #expect(problems.map(\.description).joined().contains("DE89**************3001"))
        #expect(!problems.map(\.description).joined().contains("370400440532013001"))
    }

    @Test(arguments: ["COBADEFF", "COBADEFFXXX", "BNPAFRPP123", "AAAADE1A"])
    func validBICs(bic: String) {
        #expect(ISO20022BusinessRules.isValidBIC(bic))
    }

    @Test(arguments: ["cobadeff", "COBADEF", "COBADEFFXX", "C0BADEFF", "COBAD1FF", "COBADEFF-XX"])
    func invalidBICs(bic: String) {
        #expect(!ISO20022BusinessRules.isValidBIC(bic))
    }

    @Test func badBICSampleIsReported() throws {
        let document = try ISO20022Codec().parse(try Fixtures.sample("pacs.008.001.08_broken_bad_bic.xml"))
        let problems = ISO20022BusinessRules.check(document)
        #expect(problems.count == 1)
        #expect(problems.first?.path == "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/DbtrAgt/FinInstnId/BICFI" && problems.first?.line == 29)
    }

    @Test func numberOfTransactionsMismatchIsReported() throws {
        let problems = try BusinessRulesTests.problems(BusinessRulesTests.document(groupHeader: "<NbOfTxs>3</NbOfTxs>", amounts: ["1.00", "2.00"]))
        #expect(problems.map(\.path) == ["FIToFICstmrCdtTrf/GrpHdr/NbOfTxs"])
        #expect(problems.first?.reason.contains("2 transactions") == true)
    }

    @Test func controlSumMismatchIsReported() throws {
        let problems = try BusinessRulesTests.problems(BusinessRulesTests.document(
            groupHeader: "<NbOfTxs>2</NbOfTxs><CtrlSum>150.51</CtrlSum>", amounts: ["100.00", "50.50"]))
        #expect(problems.map(\.path) == ["FIToFICstmrCdtTrf/GrpHdr/CtrlSum"])
        #expect(problems.first?.reason.contains("150.50") == true)
    }

    @Test(arguments: ["2026-11-20T15:30:45+01:00", "2026-11-20T15:30:45", "2026-11-20T15:30:45-05:00"])
    func nonUTCCreationTimeIsReported(creation: String) throws {
        let problems = try BusinessRulesTests.problems(BusinessRulesTests.document(creation: creation))
        #expect(problems.map(\.path) == ["FIToFICstmrCdtTrf/GrpHdr/CreDtTm"])
    }

    @Test func amountBeyondMinorUnitsIsReported() throws {
        let problems = try BusinessRulesTests.problems(BusinessRulesTests.document(groupHeader: "<NbOfTxs>2</NbOfTxs>", amounts: ["1.00", "2.001"]))
        #expect(problems.map(\.path) == ["FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt"])
    }
}

/// The group totals of a customer credit transfer initiation are checked too.
struct Pain001TotalsTests {
    @Test(arguments: [("<NbOfTxs>1</NbOfTxs>", [String]()), ("<NbOfTxs>2</NbOfTxs>", ["CstmrCdtTrfInitn/GrpHdr/NbOfTxs"])])
    func numberOfTransactionsMustMatch(header: String, expected: [String]) throws {
        var xml = String(decoding: try Fixtures.sample("pain.001.001.09_valid.xml"), as: UTF8.self)
        xml = xml.replacingOccurrences(of: "<NbOfTxs>1</NbOfTxs>", with: header)
        let problems = ISO20022BusinessRules.check(try ISO20022Codec().parse(xml))
        #expect(problems.map(\.path).filter { !$0.hasSuffix("CreDtTm") } == expected)
    }
}
