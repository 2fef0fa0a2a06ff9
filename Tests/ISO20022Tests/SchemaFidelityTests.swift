import Foundation
@testable import ISO20022
import PaymentModel
import Testing

/// Documents generated from the official XSDs (tools/iso20022/random_documents.py: random optional
/// elements, repetitions, choices and lexical forms within the facets; each valid against xmllint)
/// pass through decode and encode with every leaf, value, attribute and their order kept.
@Suite struct SchemaFidelityTests {
    static let generated = Fixtures.root.appendingPathComponent("Tests/ISO20022Tests/Samples/generated")

    /// `message/NN.xml` for every generated document (business application headers apart).
    static let documents: [String] = generatedFiles.filter { !$0.hasPrefix(ISO20022MessageDefinition.headerDefinition + "/") }
    /// `head.001.001.02/NN.xml`: generated `AppHdr`s.
    static let headers: [String] = generatedFiles.filter { $0.hasPrefix(ISO20022MessageDefinition.headerDefinition + "/") }

    static let generatedFiles: [String] = {
        let files = FileManager.default
        let messages = (try? files.contentsOfDirectory(atPath: generated.path)) ?? []
        return messages.sorted().flatMap { message in
            ((try? files.contentsOfDirectory(atPath: generated.appendingPathComponent(message).path)) ?? [])
                .filter { $0.hasSuffix(".xml") }.sorted().map { message + "/" + $0 }
        }
    }()

    /// A leaf as the comparison sees it: indexed path, text and attributes.
    struct Leaf: Hashable, CustomStringConvertible {
        var key: String
        var text: String
        var attributes: [String]
        var description: String { key + "=" + text + (attributes.isEmpty ? "" : " " + attributes.joined(separator: " ")) }
    }

    static func leaves(_ document: ISO20022Document) -> [Leaf] {
        document.elements.map { element in
            Leaf(key: element.key, text: element.text, attributes: element.attributes.sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value })
        }
    }

    @Test func everyMessageHasGeneratedDocuments() {
        let messages = Set(Self.documents.map { String($0.split(separator: "/")[0]) })
        #expect(messages == Set(ISO20022MessageDefinition.allCases.map(\.rawValue)))
        #expect(Self.documents.count >= 8 * 12)
    }

    @Test(arguments: documents)
    func decodeThenEncodeKeepsEveryLeaf(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: Self.generated.appendingPathComponent(name)))
        let codec = ISO20022Codec()
        let original = try codec.parse(bytes)
        let message = try ISO20022Codec.map(original)
        let encoding = try ISO20022Codec.encodeReportingLoss(message, as: original.definition)
        #expect(encoding.lost.isEmpty)
        let again = try codec.parse(encoding.document)
        let before = Self.leaves(original), after = Self.leaves(again)
        #expect(after.count == before.count)
        if let first = zip(before, after).first(where: { $0 != $1 }) {
            Issue.record("first difference: \(first.0) became \(first.1)")
        }
        #expect(after == before)
        let lint = try Fixtures.xmllint(encoding.document, schema: original.definition.rawValue)
        #expect(lint.status == 0, "\(lint.output)")
    }

    /// Generated head.001 headers, each sent with a pacs.008 in `<BizMsg>`: every header leaf comes
    /// back, but `MsgDefIdr`, which names the document it travels with, and the written header validates.
    @Test(arguments: headers)
    func aHeaderPassesThroughWithEveryLeaf(_ name: String) throws {
        let header = String(decoding: try Data(contentsOf: Self.generated.appendingPathComponent(name)), as: UTF8.self)
        let document = String(decoding: try Fixtures.sample("pacs.008.001.08_valid.xml"), as: UTF8.self)
        let declaration = #"<?xml version="1.0" encoding="UTF-8"?>"#
        let business = declaration + "\n<BizMsg>\n" + header.replacingOccurrences(of: declaration, with: "")
            + document.replacingOccurrences(of: declaration, with: "") + "</BizMsg>\n"
        let codec = ISO20022Codec()
        let original = try codec.parse(business)
        #expect(!original.header.isEmpty)
        let message = try ISO20022Codec.map(original)
        #expect(message.businessHeader != nil)
        let encoding = try ISO20022Codec.encodeReportingLoss(message, as: .pacs008)
        #expect(encoding.lost.isEmpty)
        let again = try codec.parse(encoding.document)
        func headerLeaves(_ document: ISO20022Document) -> [Leaf] {
            document.header.filter { $0.path != "AppHdr/MsgDefIdr" }.map { element in
                Leaf(key: element.key, text: element.text, attributes: element.attributes.sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value })
            }
        }
        let before = headerLeaves(original), after = headerLeaves(again)
        if let first = zip(before, after).first(where: { $0 != $1 }) { Issue.record("first difference: \(first.0) became \(first.1)") }
        #expect(after == before)
        #expect(again.header.first { $0.path == "AppHdr/MsgDefIdr" }?.text == "pacs.008.001.08")
        // The header alone, against the head.001 schema.
        guard let start = encoding.document.range(of: "<AppHdr"), let end = encoding.document.range(of: "</AppHdr>") else {
            Issue.record("no AppHdr written")
            return
        }
        let lint = try Fixtures.xmllint(declaration + "\n" + encoding.document[start.lowerBound..<end.upperBound], schema: ISO20022MessageDefinition.headerDefinition)
        #expect(lint.status == 0, "\(lint.output)")
    }
}

extension SchemaFidelityTests {
    /// The same documents split into one canonical message per transaction and written back as one
    /// batch: every leaf comes back, but for the group totals and status, which the batch derives.
    @Test(arguments: documents.filter { name in ISO20022MessageDefinition.allCases.contains { name.hasPrefix($0.rawValue) && $0.transactionBlock != nil } })
    func batchDecodeThenEncodeKeepsEveryLeaf(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: Self.generated.appendingPathComponent(name)))
        let original = try ISO20022Codec().parse(bytes)
        let messages = try ISO20022Codec.mapBatch(original, checkingTotals: false)
        #expect(messages.count == original.transactionCount)
        let batch = try ISO20022Codec.encodeBatch(messages, as: original.definition)
        #expect(batch.lost.isEmpty)
        let derived: Set<String> = ["GrpHdr/NbOfTxs", "GrpHdr/CtrlSum", "OrgnlGrpInfAndSts/GrpSts"]
        let before = Self.leaves(original).filter { !derived.contains($0.key) }
        let after = Self.leaves(try ISO20022Codec().parse(batch.document)).filter { !derived.contains($0.key) }
        if let first = zip(before, after).first(where: { $0 != $1 }) { Issue.record("first difference: \(first.0) became \(first.1)") }
        #expect(after == before)
    }
}

/// Translating between the customer and interbank message of a kind (pacs.008 ⇄ pain.001,
/// pacs.002 ⇄ pain.002) carries every kept element the target has a place for and lists the rest;
/// nothing goes silently.
@Suite struct SchemaTranslationTests {
    static let pairs: [(ISO20022MessageDefinition, ISO20022MessageDefinition)] = [
        (.pacs008, .pain001), (.pain001, .pacs008), (.pacs002, .pain002), (.pain002, .pacs002),
        // Between versions of one message: a new version is a schema and a mapping table.
        (pacs008v13, .pacs008), (.pacs008, pacs008v13), (.pain001, pacs008v13),
    ]
    static let pacs008v13 = ISO20022MessageDefinition(rawValue: "pacs.008.001.13")!

    @Test(arguments: pairs.map { "\($0.0.rawValue)>\($0.1.rawValue)" })
    func translationCarriesOrListsEveryKeptLeaf(_ pair: String) throws {
        let parts = pair.split(separator: ">").map(String.init)
        let source = try #require(ISO20022MessageDefinition(rawValue: parts[0])), target = try #require(ISO20022MessageDefinition(rawValue: parts[1]))
        var written: [String] = []
        var carried = 0, lost = 0
        for name in SchemaFidelityTests.documents where name.hasPrefix(source.rawValue + "/") {
            let bytes = Array(try Data(contentsOf: SchemaFidelityTests.generated.appendingPathComponent(name)))
            // Transaction by transaction (the generated group totals are random: not checked here).
            var messages = try ISO20022Codec.mapBatch(try ISO20022Codec().parse(bytes), checkingTotals: false)
            for index in messages.indices {
                // What the target requires and the source does not carry, as a gateway's configuration gives it.
                switch target {
                case .pacs008, Self.pacs008v13:
                    messages[index].settlementMethod = messages[index].settlementMethod ?? "CLRG"
                    messages[index].chargeBearer = messages[index].chargeBearer ?? "SLEV"
                    messages[index].creditorAgent = messages[index].creditorAgent ?? "NOTPROVIDED"
                case .pain001:
                    messages[index].settlementDate = messages[index].settlementDate ?? "2026-12-02"
                    if messages[index].debtor?.iban == nil, messages[index].debtor?.otherAccount == nil {
                        messages[index].debtor = Party(name: messages[index].debtor?.name, otherAccount: "ACCOUNT-1")
                    }
                case .pain002: messages[index].unmapped.append(UnmappedField(key: "OrgnlPmtInfAndSts/OrgnlPmtInfId", value: "PMTINF-1"))
                default: break
                }
            }
            let encoding: ISO20022Encoding
            do {
                encoding = try ISO20022Codec.encodeBatch(messages, as: target, creationDateTime: "2026-12-02T10:00:00Z")
            } catch {
                // A value the target requires and the source lacks: an error, never a document.
                #expect(error.code == .cannotEncode, "\(name): \(error)")
                print("\(pair) \(name): \(error)")
                continue
            }
            written.append(encoding.document)
            let lostKeys = Set(encoding.lost.map(\.key))
            // The group totals and status are those of what is written (tested in BatchTests).
            let totals: Set<String> = ["GrpHdr/NbOfTxs", "GrpHdr/CtrlSum", "OrgnlGrpInfAndSts/GrpSts"]
            for field in messages.flatMap(\.unmapped) where !lostKeys.contains(field.key) && !field.value.isEmpty && !totals.contains(field.key) {
                let written = encoding.document.contains(XMLText.escaped(field.value))
                #expect(written, "\(name): \(field.key) neither written nor listed as lost")
                carried += 1
            }
            lost += lostKeys.count
        }
        #expect(written.count >= 6)
        #expect(carried > 0)
        guard !written.isEmpty else { return }
        let lint = try Fixtures.xmllint(written, schema: target.rawValue)
        #expect(lint.status == 0, "\(lint.output)")
        print("\(pair): \(written.count) documents, \(carried) kept leaves carried, \(lost) listed as lost")
    }
}
