import Foundation
import ISO20022
import PaymentModel
import Testing

/// Regressions from the hardening review: input that once crashed the process or was read two ways.
struct HardeningTests {
    /// The sample pacs.008 with `replace` swapped for `with`.
    static func sample(replacing replace: String, with replacement: String) throws -> String {
        let xml = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        #expect(xml.contains(replace))
        return xml.replacingOccurrences(of: replace, with: replacement)
    }

    /// `IntrBkSttlmAmt` 92233720368547758.99 once overflowed Int64 and killed the process (SIGILL).
    @Test(arguments: ["92233720368547758.99", "92233720368547758.08", "99999999999999999999", "9223372036854775807"])
    func amountBeyondInt64IsAnErrorNamingTheElement(amount: String) throws {
        let xml = try Self.sample(replacing: ">100.00<", with: ">\(amount)<")
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .invalidValue)
        #expect(error?.path == "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt")
        #expect(error?.reason.contains("too large") == true)
        // The business checks report it too, without trapping.
        let problems = ISO20022BusinessRules.check(try ISO20022Codec().parse(xml))
        #expect(problems.contains { $0.reason.contains("too large") })
    }

    @Test func largestAmountThatFitsIsRead() throws {
        let xml = try Self.sample(replacing: ">100.00<", with: ">92233720368547758.07<")
        #expect(try ISO20022Codec().decode(xml).amount?.minorUnits == Int64.max)
    }

    /// A CtrlSum whose transactions add up past Int64 is a problem, not a trap.
    @Test func controlSumOverflowIsAProblem() throws {
        let xml = BusinessRulesTests.document(groupHeader: "<NbOfTxs>2</NbOfTxs><CtrlSum>1</CtrlSum>",
                                              amounts: ["92233720368547.00", "92233720368547.00"])
        let problems = try BusinessRulesTests.problems(xml)
        #expect(problems.contains { $0.path.hasSuffix("CtrlSum") && $0.reason.contains("too large") })
    }

    /// An element the schema allows once, given twice, was accepted (even with --check) and the
    /// last value won: a parser differential with every schema-validating peer.
    @Test(arguments: [
        ("<IntrBkSttlmAmt Ccy=\"EUR\">100.00</IntrBkSttlmAmt>", "IntrBkSttlmAmt"),
        ("<MsgId>MSG-20261120-000001</MsgId>", "MsgId"),
        ("<EndToEndId>E2E-000001</EndToEndId>", "EndToEndId"),
        ("GrpHdr", "GrpHdr"),
    ])
    func elementGivenTwiceIsAnError(element: String, name: String) throws {
        var xml = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let start = try #require(xml.range(of: element.hasPrefix("<") ? element : "<\(element)>"))
        let end = element.hasPrefix("<") ? start : try #require(xml.range(of: "</\(element)>"))
        xml.insert(contentsOf: xml[start.lowerBound..<end.upperBound], at: end.upperBound)
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .duplicateElement)
        #expect(error?.path?.hasSuffix("/" + name) == true)
        #expect(error?.reason.contains(name) == true)
    }

    /// The same element twice in a separate parent is not a duplicate; a repeatable one may repeat.
    @Test func repeatableElementsAndTransactionsStillRead() throws {
        var xml = try Self.sample(replacing: "<Ustrd>Invoice 4711</Ustrd>", with: "<Ustrd>Invoice 4711</Ustrd><Ustrd>Invoice 4712</Ustrd>")
        let start = try #require(xml.range(of: "<CdtTrfTxInf>")), end = try #require(xml.range(of: "</CdtTrfTxInf>"))
        let transaction = String(xml[start.lowerBound..<end.upperBound])
        xml.insert(contentsOf: transaction, at: end.upperBound)
        xml = xml.replacingOccurrences(of: "<NbOfTxs>1</NbOfTxs>", with: "<NbOfTxs>2</NbOfTxs>")
        #expect(try Fixtures.xmllint(xml, schema: "pacs.008.001.08").status == 0)
        let document = try ISO20022Codec().parse(xml)
        #expect(document.blockCounts["CdtTrfTxInf"] == 2)
        #expect(document.elements.filter { $0.path == "CdtTrfTxInf/RmtInf/Ustrd" }.count == 4)
    }

    /// Text in an element that holds elements (mixed content, which no ISO 20022 schema allows)
    /// was dropped without a word; it is an error naming the element, never quoting the text.
    @Test(arguments: [
        ("<GrpHdr>", "<GrpHdr>4111111111111111", "GrpHdr"),
        ("</MsgId>", "</MsgId>4111111111111111", "GrpHdr"),
        ("<Dbtr>", "<Dbtr><!-- a comment -->4111111111111111 ", "Dbtr"),
        ("<Cdtr>", "<Cdtr><![CDATA[4111111111111111]]>", "Cdtr"),
        ("<Cdtr>", "<Cdtr><![CDATA[ ]]>", "Cdtr"),
        ("</CdtTrfTxInf>", "4111111111111111</CdtTrfTxInf>", "CdtTrfTxInf"),
    ])
    func textBetweenElementsIsAnError(replace: String, with replacement: String, parent: String) throws {
        let xml = try Self.sample(replacing: replace, with: replacement)
        #expect(try Fixtures.xmllint(xml, schema: "pacs.008.001.08").status != 0)
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .unexpectedText)
        #expect(error?.path?.hasSuffix("/" + parent) == true, "\(String(describing: error))")
        #expect(error.map { "\($0)" }?.contains("4111") == false)
    }

    /// The white-space check reads indentation eight bytes at a time: one character that is not white space
    /// is found at every position of runs of every length up to 20, before a first child and after
    /// one, and runs of only the four white-space characters pass.
    @Test(arguments: ["<GrpHdr>", "</MsgId>"])
    func textIsFoundAtEveryPositionOfARun(after tag: String) throws {
        let whiteSpace: [Character] = [" ", "\n", "\t", "\r"]
        for length in 1...20 {
            let run = String((0..<length).map { whiteSpace[($0 * 7 + length) % 4] })
            let clean = try Self.sample(replacing: tag, with: tag + run)
            #expect(throws: Never.self, "a run of \(length) white-space characters") { _ = try ISO20022Codec().decode(clean) }
            for position in 0..<length {
                var characters = Array(run)
                characters[position] = position % 2 == 0 ? "x" : "\u{A0}"
                let xml = try Self.sample(replacing: tag, with: tag + String(characters))
                let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
                #expect(error?.code == .unexpectedText, "character \(position) of a run of \(length)")
            }
        }
    }

    /// A document in another encoding than UTF-8 is converted as libxml2 reads it, to its end: the
    /// reader stops libxml2 asking a UTF-8 input for more, never one that is being converted.
    @Test(arguments: ["ISO-8859-1", "UTF-16LE", "UTF-16BE"])
    func documentInAnotherEncodingIsReadToTheEnd(encoding: String) throws {
        let original = try Self.sample(replacing: "<Nm>Bob Creditor</Nm>", with: "<Nm>Bob Müller Crédit</Nm>")
        let utf8 = original.replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding=\"\(encoding)\"")
        let bytes: [UInt8]
        switch encoding {
        case "ISO-8859-1": bytes = utf8.unicodeScalars.map { UInt8($0.value) }
        case "UTF-16LE": bytes = Array(utf8.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        default: bytes = Array(utf8.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        }
        let message = try ISO20022Codec().decode(bytes)
        #expect(message.creditor?.name == "Bob Müller Crédit")
        let read = try ISO20022Codec().decode(original)
        #expect(message.remittanceInformation == read.remittanceInformation && !read.remittanceInformation.isEmpty)
        #expect(message.unmapped == read.unmapped && message.identifiers == read.identifiers)
    }

    /// White space and comments between elements stay allowed.
    @Test func whiteSpaceBetweenElementsIsRead() throws {
        let xml = try Self.sample(replacing: "<GrpHdr>", with: "<GrpHdr> \t\r\n<!-- note --> <?pi x?>\n")
        #expect(try Fixtures.xmllint(xml, schema: "pacs.008.001.08").status == 0)
        #expect(try ISO20022Codec().decode(xml).identifiers.messageId != nil)
    }

    @Test func headerElementGivenTwiceIsAnError() throws {
        let xml = try BusinessHeaderTests.businessMessage()
            .replacingOccurrences(of: "<Prty>NORM</Prty>", with: "<Prty>NORM</Prty><Prty>HIGH</Prty>")
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .duplicateElement)
        #expect(error?.path?.hasSuffix("AppHdr/Prty") == true)
    }

    /// The schema table is what the XSDs give (tools/iso20022/schema_tables.py --check).
    @Test func schemaTableMatchesTheSchemas() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.root.appendingPathComponent("tools/iso20022/schema_tables.py").path, "--check"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
