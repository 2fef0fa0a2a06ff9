import Dispatch
import Synchronization
import Foundation
@testable import ISO20022
import PaymentModel
import Testing

/// libxml2 parser contexts (and the reader's buffers) are kept between parses: whatever ran on a
/// context before, a parse gives what a fresh context gives. Serialized: the second test looks at
/// the idle contexts the first one's threads take and give back.
@Suite(.serialized)
struct ParserContextTests {
    static func sample(_ name: String = "pacs.008.001.08_valid.xml") throws -> String {
        String(decoding: try Fixtures.sample(name), as: UTF8.self)
    }

    /// Documents of several messages, good and bad, decoded at once from many threads (each
    /// taking and giving back contexts) read as they do one by one.
    @Test func concurrentDecodesReadAsSerialOnes() throws {
        let pacs008 = try Self.sample()
        let documents = [
            pacs008,
            pacs008.replacingOccurrences(of: "<Nm>Bob Creditor</Nm>", with: "<Nm>Bob Creditor the Second of His Name</Nm>"),
            try Self.sample("pain.002.001.10_valid.xml"),
            pacs008.replacingOccurrences(of: "</MsgId>", with: "</MsgId><MsgId>TWICE</MsgId>"),
            pacs008.replacingOccurrences(of: "</GrpHdr>", with: ""),
            pacs008.replacingOccurrences(of: "<GrpHdr>", with: "<GrpHdr>4111111111111111"),
        ].map { Array($0.utf8) }
        @Sendable func outcome(_ bytes: [UInt8]) -> String {
            // The description masks names: the creditor name is added in clear.
            do {
                let message = try ISO20022Codec().decode(bytes)
                return "\(message.creditor?.name ?? "") \(message)"
            } catch {
                return "\(error)"
            }
        }
        let expected = documents.map(outcome)
        #expect(Set(expected).count == documents.count)
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<60 {
                let index = (worker + round) % documents.count
                if outcome(documents[index]) != expected[index] { mismatches.withLock { $0 += 1 } }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
    }

    /// A document with more element names than a kept context's dictionary may hold (open
    /// content takes any) is read, and its context is freed, not kept: the next parse is as ever.
    @Test func aDocumentWithThousandsOfNamesLeavesNoContextBehind() throws {
        let names = (0..<(StreamingReader.ParserContexts.maxDictionaryNames + 100)).map { "<sd:N\($0)>x</sd:N\($0)>" }.joined()
        let envelope = "<SplmtryData><Envlp><sd:Extension xmlns:sd=\"urn:example:payswitch:supplementary\">\(names)</sd:Extension></Envlp></SplmtryData>"
        let large = try Self.sample().replacingOccurrences(of: "</CdtTrfTxInf>", with: "</CdtTrfTxInf>" + envelope)
        #expect(try Fixtures.xmllint(large, schema: "pacs.008.001.08").status == 0)
        let message = try ISO20022Codec().decode(large)
        #expect(message.unmapped.count(where: { $0.key.hasPrefix("SplmtryData/Envlp/") }) == StreamingReader.ParserContexts.maxDictionaryNames + 100)
        #expect(StreamingReader.parserContexts.idleDictionarySizes.allSatisfy { $0 <= StreamingReader.ParserContexts.maxDictionaryNames })
        let plain = try ISO20022Codec().decode(try Self.sample())
        #expect(plain == (try ISO20022Codec().decode(try Self.sample())))
        #expect(plain.unmapped.allSatisfy { !$0.key.hasPrefix("SplmtryData") })
    }
}
