import Foundation
@testable import ISO20022
import PaymentModel
import Testing

/// Documents generated from the official XSDs (tools/iso20022/random_documents.py: random optional
/// elements, repetitions, choices and lexical forms within the facets; each valid against xmllint)
/// pass through decode and encode with every leaf, value, attribute and their order kept.
@Suite struct SchemaFidelityTests {
    static let generated = Fixtures.root.appendingPathComponent("Tests/ISO20022Tests/Samples/generated")

    /// `message/NN.xml` for every generated document.
    static let documents: [String] = {
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
}
