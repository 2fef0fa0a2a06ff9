import Foundation
@testable import ISO20022
import PaymentModel
import SpecFiles
import Testing

/// The mapping tables of specs/iso20022/mappings: every message has one, each loads and agrees
/// with the schema, and a mistake in one is an error naming file:line:column.
@Suite struct MappingTableTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../specs/iso20022/mappings").standardizedFileURL

    @Test func everyMessageAndTheHeaderHaveAShippedMapping() throws {
        for definition in ISO20022MessageDefinition.allCases {
            let mapping = try #require(ISO20022MessageMapping.shipped(definition.rawValue))
            #expect(mapping.kind == definition.kind && mapping.function != nil)
            #expect(mapping.transaction != nil)
        }
        let header = try #require(ISO20022MessageMapping.shipped(ISO20022MessageDefinition.headerDefinition))
        #expect(header.kind == nil && header.entries.count == 9)
    }

    /// Every file of the directory is embedded: a new one not added to `shippedFiles` fails here.
    @Test func everyFileIsShipped() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files == ISO20022MessageMapping.shippedFiles.map(\.0).sorted())
        for file in files {
            let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
            let mapping = try ISO20022MessageMapping.load(yaml: text, file: file)
            #expect(file == mapping.message + ".yaml")
        }
    }

    static let pacs008 = """
        message: pacs.008.001.08
        kind: creditTransfer
        function: request
        transaction: CdtTrfTxInf
        fields:
          - {to: messageId, at: GrpHdr/MsgId, required: true}
          - {to: serviceLevel, at: [CdtTrfTxInf/PmtTpInf/SvcLvl/Cd, GrpHdr/PmtTpInf/SvcLvl/Cd]}
        """

    /// (replaced line, its replacement, line:column of the error, words of the message)
    static let mistakes: [(String, String, String, String)] = [
        ("  - {to: messageId, at: GrpHdr/MsgId, required: true}", "  - {to: messageID, at: GrpHdr/MsgId}", "6:10", "'messageID' is not a canonical field"),
        ("  - {to: messageId, at: GrpHdr/MsgId, required: true}", "  - {to: messageId, at: GrpHdr/MsgIdentification}", "6:25",
         "'GrpHdr/MsgIdentification' is not an element of FIToFICstmrCdtTrf"),
        ("  - {to: messageId, at: GrpHdr/MsgId, required: true}", "  - {to: messageId, at: GrpHdr/MsgId, requird: true}", "6:39", "unknown key 'requird'"),
        ("  - {to: messageId, at: GrpHdr/MsgId, required: true}", "  - {to: purpose, at: GrpHdr/PmtTpInf/SvcLvl/Cd}", "7:61",
         "already the place of another field"),
        ("transaction: CdtTrfTxInf", "transaction: GrpHdr", "4:14", "not a repeatable element"),
        ("message: pacs.008.001.08", "message: pacs.008.001.99", "1:10", "no schema for 'pacs.008.001.99'"),
        ("kind: creditTransfer", "kind: transfer", "2:7", "'transfer' is not one of"),
    ]

    @Test(arguments: mistakes)
    func aMistakeIsAnErrorNamingFileLineAndColumn(_ mistake: (String, String, String, String)) throws {
        let yaml = Self.pacs008.replacingOccurrences(of: mistake.0, with: mistake.1)
        #expect(yaml != Self.pacs008)
        do {
            _ = try ISO20022MessageMapping.load(yaml: yaml, file: "broken.yaml")
            Issue.record("loaded")
        } catch {
            #expect("\(error.line):\(error.column)" == mistake.2, "\(error)")
            #expect(error.message.contains(mistake.3), "\(error)")
            #expect(error.file == "broken.yaml")
        }
    }

    /// A table loaded from a file (not shipped) maps a document: the path from data to codec.
    @Test func aLoadedTableMapsADocument() throws {
        let mapping = try ISO20022MessageMapping.load(yaml: Self.pacs008, file: "small.yaml")
        let document = try ISO20022Codec().parse(try Fixtures.sample("pacs.008.001.08_batch_two.xml"))
        var message = PaymentMessage(kind: .creditTransfer, function: .request)
        try mapping.decode(document.elements, into: &message)
        #expect(message.identifiers.messageId != nil && message.serviceLevel == "SEPA")
        // Everything else is kept, nothing dropped.
        #expect(message.unmapped.count + 2 >= document.elements.count)
        let written = try mapping.encode(message, creationDateTime: nil).finish(keeping: message.unmapped)
        let back = try ISO20022Codec().parse(written)
        #expect(back.elements.map(\.text) == document.elements.map(\.text))
    }

    /// A new message of a known kind is its XSD and its table: pacs.009 (a credit transfer between
    /// banks) reads its institutions' identifiers into the canonical parties, and is written back
    /// as itself.
    @Test func aFinancialInstitutionTransferIsACreditTransferBetweenBanks() throws {
        let pacs009 = try #require(ISO20022MessageDefinition(rawValue: "pacs.009.001.12"))
        #expect(pacs009.messageElement == "FICdtTrf")
        let xml = """
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.009.001.12"><FICdtTrf>
            <GrpHdr><MsgId>FI-1</MsgId><CreDtTm>2026-12-02T10:00:00Z</CreDtTm><NbOfTxs>1</NbOfTxs>
            <SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>
            <CdtTrfTxInf><PmtId><EndToEndId>E2E-FI-1</EndToEndId></PmtId>
            <IntrBkSttlmAmt Ccy="EUR">1000000.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-12-02</IntrBkSttlmDt>
            <Dbtr><FinInstnId><BICFI>COBADEFFXXX</BICFI><LEI>529900T8BM49AURSDO55</LEI></FinInstnId></Dbtr>
            <Cdtr><FinInstnId><BICFI>BNPAFRPPXXX</BICFI><Nm>BNP Paribas</Nm>
            <PstlAdr><TwnNm>Paris</TwnNm><Ctry>FR</Ctry></PstlAdr></FinInstnId></Cdtr>
            </CdtTrfTxInf></FICdtTrf></Document>
            """
        #expect(try Fixtures.xmllint(xml, schema: "pacs.009.001.12").status == 0)
        let message = try ISO20022Codec().decode(xml)
        #expect(message.kind == .creditTransfer)
        #expect(message.debtor?.bic == "COBADEFFXXX" && message.debtor?.lei == "529900T8BM49AURSDO55")
        #expect(message.creditor?.bic == "BNPAFRPPXXX" && message.creditor?.name == "BNP Paribas")
        #expect(message.creditor?.address?.townName == "Paris")
        #expect(message.amount?.minorUnits == 100_000_000 && message.settlementMethod == "INDA")
        #expect(message.unmapped.map(\.key) == ["GrpHdr/CreDtTm", "GrpHdr/NbOfTxs"])
        let written = try ISO20022Codec.encode(message)
        #expect(written.contains("<FICdtTrf>"))
        #expect(try Fixtures.xmllint(written, schema: "pacs.009.001.12").status == 0)
    }
}
