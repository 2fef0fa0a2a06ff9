import ISO20022
import Testing

/// Hostile and broken input is refused with a clear error.
struct SafetyTests {
    static let pacs008 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"

    @Test func externalEntityIsRefused() {
        let xml = """
        <?xml version="1.0"?>
        <!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>
        <Document xmlns="\(SafetyTests.pacs008)"><FIToFICstmrCdtTrf><GrpHdr><MsgId>&x;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>
        """
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .doctypeRefused)
        #expect(error?.line == 2)
        #expect(error?.description.contains("DOCTYPE") == true)
    }

    @Test func doctypeBehindACommentAndAProcessingInstructionIsRefused() {
        let xml = """
        <?xml version="1.0"?>
        <!-- a comment with <Document> inside -->
        <?app instruction?>
        <!DOCTYPE r [<!ENTITY x "boom">]>
        <Document xmlns="\(SafetyTests.pacs008)"><FIToFICstmrCdtTrf><GrpHdr><MsgId>&x;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>
        """
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .doctypeRefused)
        #expect(error?.line == 4)
    }

    @Test func billionLaughsIsRefused() {
        var entities = #"<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            entities += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [\(entities)]>\n<Document xmlns=\"\(SafetyTests.pacs008)\">&lol9;</Document>"
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .doctypeRefused)
    }

    @Test func documentOverTheSizeLimitIsRefused() throws {
        let sample = try Fixtures.sample("pacs.008.001.08_valid.xml")
        let padded = sample + Array("<!--\(String(repeating: "x", count: 1 << 20))-->".utf8)
        let error = Fixtures.error { _ = try ISO20022Codec().decode(padded) }
        #expect(error?.code == .documentTooLarge)
        let small = Fixtures.error { _ = try ISO20022Codec(limits: ISO20022Limits(maxDocumentBytes: 100)).decode(sample) }
        #expect(small?.code == .documentTooLarge)
    }

    @Test func documentOverTheDepthLimitIsRefused() {
        let nested = String(repeating: "<Strd>", count: 40) + String(repeating: "</Strd>", count: 40)
        let xml = "<Document xmlns=\"\(SafetyTests.pacs008)\"><FIToFICstmrCdtTrf>\(nested)</FIToFICstmrCdtTrf></Document>"
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .tooDeep && error?.line == 1)
        #expect(error?.reason.contains("32") == true)
    }

    @Test func unknownNamespaceIsRefusedNamingIt() {
        let error = Fixtures.error { _ = try ISO20022Codec().decode(#"<Document xmlns="urn:example:not-iso"><X/></Document>"#) }
        #expect(error?.code == .unknownNamespace)
        #expect(error?.description.contains("urn:example:not-iso") == true)
        let unsupported = Fixtures.error {
            _ = try ISO20022Codec().decode(#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08"><FICdtTrf/></Document>"#)
        }
        #expect(unsupported?.code == .unsupportedMessage && unsupported?.reason.contains("pacs.009.001.08") == true)
    }

    @Test func notWellFormedSampleGivesALineNumber() throws {
        let bytes = try Fixtures.sample("pacs.008.001.08_broken_not_wellformed.xml")
        let error = Fixtures.error { _ = try ISO20022Codec().decode(bytes) }
        #expect(error?.code == .notWellFormed)
        #expect((error?.line ?? 0) >= 44, "\(String(describing: error))")
        #expect(error?.description.contains("line") == true)
    }

    @Test func wrongMessageElementOrForeignElementIsRefused() {
        let wrong = Fixtures.error { _ = try ISO20022Codec().decode("<Document xmlns=\"\(SafetyTests.pacs008)\"><FIToFIPmtStsRpt/></Document>") }
        #expect(wrong?.code == .unexpectedElement)
        let foreign = Fixtures.error {
            _ = try ISO20022Codec().decode("<Document xmlns=\"\(SafetyTests.pacs008)\"><FIToFICstmrCdtTrf><x:GrpHdr xmlns:x=\"urn:other\"/></FIToFICstmrCdtTrf></Document>")
        }
        #expect(foreign?.code == .unexpectedElement && foreign?.reason.contains("urn:other") == true)
    }
}
