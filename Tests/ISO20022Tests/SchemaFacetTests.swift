import Foundation
@testable import ISO20022
import PaymentModel
import Testing

/// The encoder never emits a document the XSD refuses: every facet, occurrence and choice of the
/// schema table is checked, and the error names the path and the facet.
@Suite struct SchemaFacetTests {
    static func sample() throws -> String {
        String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
    }

    /// (what to replace in the valid sample, its replacement, the error path, words the reason holds)
    static let crafted: [(String, String, String, String)] = [
        ("<MsgId>MSG-20261120-000001</MsgId>", "<MsgId>\(String(repeating: "M", count: 36))</MsgId>",
         "FIToFICstmrCdtTrf/GrpHdr/MsgId", "maxLength 35"),
        ("<UETR>3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34</UETR>", "<UETR>3f2b8c9e-1d4a-1b6e-9f0a-2c7d5e8b1a34</UETR>",
         "FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR", "does not match the pattern"),
        ("<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>OURS</ChrgBr>", "FIToFICstmrCdtTrf/CdtTrfTxInf/ChrgBr", "code list of ChargeBearerType1Code"),
        ("<SttlmMtd>CLRG</SttlmMtd>", "<SttlmMtd>NONE</SttlmMtd>", "FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd", "code list"),
        ("<IntrBkSttlmDt>2026-11-20</IntrBkSttlmDt>", "<IntrBkSttlmDt>2026-02-30</IntrBkSttlmDt>",
         "FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmDt", "xs:date"),
        ("<CreDtTm>2026-11-20T15:30:45Z</CreDtTm>", "<CreDtTm>2026-11-20 15:30:45</CreDtTm>",
         "FIToFICstmrCdtTrf/GrpHdr/CreDtTm", "xs:dateTime"),
        ("<BICFI>BNPAFRPPXXX</BICFI>", "<BICFI>BNPA FR</BICFI>", "FIToFICstmrCdtTrf/CdtTrfTxInf/CdtrAgt/FinInstnId/BICFI", "pattern"),
        ("<Nm>Bob Creditor</Nm>", "<Nm>\(String(repeating: "B", count: 141))</Nm>", "FIToFICstmrCdtTrf/CdtTrfTxInf/Cdtr/Nm", "maxLength 140"),
        ("<Ustrd>Invoice 4711</Ustrd>", "<Ustrd></Ustrd>", "FIToFICstmrCdtTrf/CdtTrfTxInf/RmtInf/Ustrd", "minLength 1"),
        ("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>one</NbOfTxs>", "FIToFICstmrCdtTrf/GrpHdr/NbOfTxs", "pattern"),
    ]

    @Test(arguments: crafted)
    func anInvalidValueIsRefusedNamingThePathAndTheFacet(_ craft: (String, String, String, String)) throws {
        let xml = try Self.sample()
        #expect(xml.contains(craft.0))
        let message = try ISO20022Codec().decode(xml.replacingOccurrences(of: craft.0, with: craft.1))
        let error = Fixtures.error { _ = try ISO20022Codec.encode(message, as: .pacs008) }
        #expect(error?.code == .cannotEncode)
        #expect(error?.path == craft.2)
        #expect(error?.reason.contains(craft.3) == true, "\(error?.reason ?? "")")
    }

    @Test func anElementTheSchemaHasNoPlaceForIsRefused() throws {
        var message = try ISO20022Codec().decode(try Self.sample())
        message.unmapped.append(UnmappedField(key: "CdtTrfTxInf/Purp/Cd", value: "SALA"))
        message.unmapped.append(UnmappedField(key: "CdtTrfTxInf/Purp/Prtry", value: "MINE"))
        let error = Fixtures.error { _ = try ISO20022Codec.encode(message, as: .pacs008) }
        #expect(error?.path == "FIToFICstmrCdtTrf/CdtTrfTxInf/Purp")
        #expect(error?.reason == "Purp (Purpose2Choice) is a choice; Cd and Prtry cannot both be given")
    }

    @Test(arguments: ["2026-11-30", "2026-11-30Z", "2026-11-30+14:00", "2024-02-29", "-0001-01-01"])
    func validDates(_ value: String) { #expect(ISO20022SimpleType.isDate(value)) }

    @Test(arguments: ["2026-11-31", "2025-02-29", "26-11-30", "2026-1-30", "2026-11-30+15:00", "2026-11-30T", ""])
    func invalidDates(_ value: String) { #expect(!ISO20022SimpleType.isDate(value)) }

    @Test(arguments: ["2026-11-30T10:15:00", "2026-11-30T10:15:00.123456Z", "2026-11-30T24:00:00", "2026-11-30T23:59:59-05:30"])
    func validDateTimes(_ value: String) { #expect(ISO20022SimpleType.isDateTime(value)) }

    @Test(arguments: ["2026-11-30T10:15", "2026-11-30T24:00:01", "2026-11-30T10:60:00", "2026-11-30T10:15:00.", "2026-11-30 10:15:00"])
    func invalidDateTimes(_ value: String) { #expect(!ISO20022SimpleType.isDateTime(value)) }

    /// Decimals are counted as the XSD counts them: in the value (leading and trailing zeros aside).
    @Test func decimalDigitsAreCountedInTheValue() throws {
        let amount = try #require(ISO20022Schema.shared.simpleTypes["ActiveCurrencyAndAmount_SimpleType"])
        #expect(amount.violation(of: "1.500000") == nil)
        #expect(amount.violation(of: "0001.5") == nil)
        #expect(amount.violation(of: "1.123456")?.contains("fractionDigits 5") == true)
        #expect(amount.violation(of: "1234567890123456789")?.contains("totalDigits 18") == true)
        #expect(amount.violation(of: "-1")?.contains("minInclusive") == true)
        #expect(amount.violation(of: "1e3")?.contains("xs:decimal") == true)
    }

    /// Every generated document with one leaf value mutated: decoding may refuse it and encoding
    /// may refuse it, but whatever is written validates under xmllint.
    @Test func mutatedDocumentsAreRefusedOrWrittenValid() throws {
        let mutations = ["", String(repeating: "A", count: 141), "x", "-1", "2026-13-01", "1.1234567", "ÿ", "99999999999999999999"]
        var written: [String: [String]] = [:]
        var refused = 0
        for (number, name) in SchemaFidelityTests.documents.enumerated() {
            let xml = String(decoding: try Data(contentsOf: SchemaFidelityTests.generated.appendingPathComponent(name)), as: UTF8.self)
            let values = xml.ranges(of: try Regex(">[^<>\n]+</")).map { xml[$0] }
            for step in 0..<3 where !values.isEmpty {
                let target = values[(number * 7 + step * 13) % values.count]
                let mutated = xml.replacing(target, with: ">" + mutations[(number + step) % mutations.count] + "</", maxReplacements: 1)
                do {
                    let document = try ISO20022Codec().parse(Array(mutated.utf8))
                    let encoded = try ISO20022Codec.encode(try ISO20022Codec.map(document), as: document.definition)
                    written[document.definition.rawValue, default: []].append(encoded)
                } catch {
                    refused += 1
                }
            }
        }
        #expect(refused > 0)
        for (definition, documents) in written {
            let lint = try Fixtures.xmllint(documents, schema: definition)
            #expect(lint.status == 0, "\(lint.output)")
        }
    }

    /// Every pattern of the schemas is read by the byte matcher, which agrees with `Regex` on valid
    /// examples and on thousands of random strings of the characters the patterns use.
    @Test func theByteMatcherAgreesWithRegexOnEveryPattern() throws {
        let patterns = Set(ISO20022Schema.shared.simpleTypes.values.compactMap(\.pattern))
        #expect(patterns.count >= 10)
        let valid = ["COBADEFFXXX", "COBADEFF", "EUR", "+49-69(123)-45", "AB12", "DE", "529900T8BM49AURSDO55",
                     "3f2b8c9e-1d4a-4b6e-9f0a-2c7d5e8b1a34", "DE89370400440532013000", "123456789012345", "07"]
        let alphabet = Array("AZaz09-+()4f89bXÿé ")
        var random = SystemRandomNumberGenerator()
        for pattern in patterns {
            let matcher = try #require(XSDPattern(pattern), "\(pattern) is not read")
            let regex = try Regex(pattern)
            var candidates = valid
            for _ in 0..<3_000 {
                candidates.append(String((0..<Int.random(in: 0...36, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
                var mutated = Array(valid.randomElement(using: &random)!)
                if !mutated.isEmpty { mutated[Int.random(in: 0..<mutated.count, using: &random)] = alphabet.randomElement(using: &random)! }
                candidates.append(String(mutated))
            }
            for candidate in candidates {
                let expected = (try? regex.wholeMatch(in: candidate)) != nil
                #expect(matcher.matches(candidate) == expected, "\(pattern) on '\(candidate)'")
            }
        }
        #expect(XSDPattern("[^A-Z]") == nil && XSDPattern("a.b") == nil && XSDPattern("\\d{3}") == nil)
    }
}
