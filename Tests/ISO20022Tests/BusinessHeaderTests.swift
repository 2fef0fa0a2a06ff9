import Foundation
import ISO20022
import PaymentModel
import Testing

/// The head.001.001.02 business application header: read into ``BusinessHeader``, written back
/// around the document, each part valid against its schema.
@Suite struct BusinessHeaderTests {
    static let header = """
        <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
          <Fr><FIId><FinInstnId><BICFI>BANKDEFFXXX</BICFI></FinInstnId></FIId></Fr>
          <To><FIId><FinInstnId><BICFI>BANKFRPPXXX</BICFI></FinInstnId></FIId></To>
          <BizMsgIdr>BAH-20261121-1</BizMsgIdr>
          <MsgDefIdr>pacs.008.001.08</MsgDefIdr>
          <BizSvc>swift.cbprplus.02</BizSvc>
          <CreDt>2026-11-21T10:00:00Z</CreDt>
          <PssblDplct>true</PssblDplct>
          <Prty>NORM</Prty>
          <Rltd><Fr><FIId><FinInstnId><BICFI>BANKGB2LXXX</BICFI></FinInstnId></FIId></Fr><To><FIId><FinInstnId><BICFI>BANKDEFFXXX</BICFI></FinInstnId></FIId></To><BizMsgIdr>OLD-1</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr><CreDt>2026-11-20T10:00:00Z</CreDt></Rltd>
        </AppHdr>
        """

    /// The sample pacs.008 with the header above, under `root`.
    static func businessMessage(root: String = "BizMsg") throws -> String {
        let sample = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let document = sample.replacingOccurrences(of: #"<?xml version="1.0" encoding="UTF-8"?>"#, with: "")
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root)>\(header)\(document)</\(root)>"
    }

    /// The element `name` of `xml` (first start tag to its end tag), as a document of its own.
    static func part(_ name: String, of xml: String) throws -> String {
        let start = try #require(xml.range(of: "<\(name) "))
        let end = try #require(xml.range(of: "</\(name)>"))
        return String(xml[start.lowerBound..<end.upperBound])
    }

    @Test func headerIsReadIntoTheCanonicalMessage() throws {
        let message = try ISO20022Codec().decode(try Self.businessMessage(root: "Envelope"))
        let header = try #require(message.businessHeader)
        #expect(header.from == "BANKDEFFXXX" && header.to == "BANKFRPPXXX")
        #expect(header.businessMessageId == "BAH-20261121-1" && header.messageDefinitionId == "pacs.008.001.08")
        #expect(header.businessService == "swift.cbprplus.02" && header.creationDate == "2026-11-21T10:00:00Z")
        #expect(header.possibleDuplicate == true && header.priority == "NORM")
        // What the header mapping does not cover is kept, like any unmapped element.
        #expect(message.unmapped.contains(UnmappedField(key: "AppHdr/Rltd/BizMsgIdr", value: "OLD-1")))
    }

    @Test func headerAndDocumentAreWrittenValidAndReadBack() throws {
        let first = try ISO20022Codec().decode(try Self.businessMessage())
        let xml = try ISO20022Codec.encode(first)
        let appHdr = try Fixtures.xmllint(try Self.part("AppHdr", of: xml), schema: "head.001.001.02")
        #expect(appHdr.status == 0, "\(appHdr.output)\n\(xml)")
        let document = try Fixtures.xmllint(try Self.part("Document", of: xml), schema: "pacs.008.001.08")
        #expect(document.status == 0, "\(document.output)\n\(xml)")
        let second = try ISO20022Codec().decode(xml)
        #expect(second.businessHeader == first.businessHeader)
        #expect(second.identifiers == first.identifiers && second.amount == first.amount)
    }

    @Test func headerNamesTheMessageItCarries() throws {
        var message = try ISO20022Codec().decode(try Self.businessMessage())
        message.source = nil
        let xml = try ISO20022Codec.encode(message, as: .pain001)
        let second = try ISO20022Codec().decode(xml)
        #expect(second.businessHeader?.messageDefinitionId == "pain.001.001.09")
        #expect(second.source?.version == "pain.001.001.09")
    }

    /// Only a signature (`Sgntr`) holds elements of another namespace; anywhere else in the header
    /// one is refused, naming it.
    @Test func foreignElementOutsideTheSignatureIsRefused() throws {
        let xml = try Self.businessMessage().replacingOccurrences(of: "<BizMsgIdr>", with: #"<x:Note xmlns:x="urn:other">n</x:Note><BizMsgIdr>"#)
        let error = Fixtures.error { _ = try ISO20022Codec().decode(xml) }
        #expect(error?.code == .unexpectedElement && error?.reason.contains("urn:other") == true, "\(String(describing: error))")
    }

    @Test func headerWithoutReceiverIsNotWritten() throws {
        var message = try ISO20022Codec().decode(try Self.businessMessage())
        message.businessHeader?.to = nil
        #expect(throws: ISO20022Error.self) { try ISO20022Codec.encode(message) }
        do {
            _ = try ISO20022Codec.encode(message)
        } catch {
            // The receiver is a choice (an institution or an organisation): the schema check names it.
            #expect(error.path == "AppHdr/To" && error.code == .cannotEncode, "\(error)")
        }
    }

    @Test func messageWithoutHeaderIsWrittenAsABareDocument() throws {
        let message = try ISO20022Codec().decode(try Fixtures.sample("pacs.008.001.08_valid.xml"))
        #expect(message.businessHeader == nil)
        let xml = try ISO20022Codec.encode(message)
        #expect(!xml.contains("AppHdr") && !xml.contains("BizMsg"))
    }
}
