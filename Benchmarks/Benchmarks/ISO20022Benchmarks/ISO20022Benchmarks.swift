// ISO 20022 benchmarks: pacs.008.001.08 decode to the canonical PaymentMessage, against a bare
// libxml2 xmlTextReader pass over the same bytes, in one run.
//
// The message is pacs008_3k.xml (next to this file, about 3 KB, valid against
// specs/iso20022/pacs.008.001.08.xsd): a group header with settlement info and agents, one
// CdtTrfTxInf with payment type info, debtor and creditor with postal addresses and LEIs, accounts,
// agents with names, a purpose and two remittance lines. It is read and checked once when the
// benchmarks are registered; the closures only decode or read.
//
// Each measured iteration runs the operation 1,000 times (scalingFactor .kilo), so the table shows
// time, allocations and throughput per message.
import Benchmark
import Foundation
import ISO20022
import PaymentModel
import LibXML2Floor

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    let bytes: [UInt8]
    do {
        bytes = try Pacs008Fixture.load()
    } catch {
        FileHandle.standardError.write(Data("ISO20022Benchmarks: skipping all benchmarks: \(error)\n".utf8))
        return
    }
    let codec = ISO20022Codec()

    Benchmark("pacs.008 decode to canonical (3 KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try codec.decode(bytes))
        }
    }

    Benchmark("bare libxml2 reader pass (3 KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(BareReader.pass(bytes))
        }
    }

    Benchmark("bare libxml2 SAX2 parse, empty callbacks (3 KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(BareSAX.pass(bytes))
        }
    }

    // Encoding back to the message read: every kept leaf in schema order, each value checked
    // against its facets.
    guard let decoded = try? codec.decode(bytes) else { return }

    // What any decode into the canonical model must make, with no XML read: the same message
    // built from its values held as bytes (a String per value, each field set, each kept leaf).
    let values = CanonicalValues(of: decoded)
    Benchmark("canonical message alone, from its values as bytes (3 KB's)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(values.message())
        }
    }
    Benchmark("pacs.008 encode back, schema-checked (3 KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ISO20022Codec.encode(decoded, as: .pacs008))
        }
    }

    // A batch of 20 transactions (the same one, 20 end-to-end ids): one canonical message each.
    let batch = Pacs008Fixture.batch(of: 20, from: bytes)
    guard let messages = try? codec.decodeBatch(batch), messages.count == 20 else {
        FileHandle.standardError.write(Data("ISO20022Benchmarks: skipping the batch benchmarks: the 20-transaction document does not decode\n".utf8))
        return
    }
    Benchmark("pacs.008 batch of 20 decode, one message each (\(batch.count / 1000) KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try codec.decodeBatch(batch))
        }
    }
    Benchmark("bare libxml2 SAX2 parse, empty callbacks (batch of 20)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(BareSAX.pass(batch))
        }
    }
    Benchmark("pacs.008 batch of 20 encode, schema-checked") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ISO20022Codec.encodeBatch(messages, as: .pacs008))
        }
    }
}

/// The benchmark message, read from disk and checked.
enum Pacs008Fixture {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let name = "pacs008_3k.xml"
    /// Next to this source file.
    static let path: String = {
        let source = #filePath
        guard let slash = source.lastIndex(of: "/") else { return name }
        return source[...slash] + name
    }()

    /// The message with its one transaction repeated `count` times, each with its own end-to-end id.
    static func batch(of count: Int, from bytes: [UInt8]) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let start = text.range(of: "    <CdtTrfTxInf>"), let end = text.range(of: "</CdtTrfTxInf>\n") else { return bytes }
        let transaction = String(text[start.lowerBound..<end.upperBound])
        let transactions = (1...count).map { transaction.replacingOccurrences(of: "E2E-000001", with: "E2E-\($0)") }.joined()
        let document = String(text[..<start.lowerBound]) + transactions + String(text[end.upperBound...])
        return Array(document.replacingOccurrences(of: "<NbOfTxs>1</NbOfTxs>", with: "<NbOfTxs>\(count)</NbOfTxs>").utf8)
    }

    static func load() throws -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw Failure(description: "cannot open \(path)")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        // The decoder must accept it and map the values the benchmark claims it maps.
        let message = try ISO20022Codec().decode(bytes)
        guard message.identifiers.messageId == "MSG-20261120-000001",
              message.amount?.minorUnits == 1_250_075,
              message.debtor?.iban == "DE89370400440532013000",
              message.creditor?.iban == "FR1420041010050500013M02606",
              message.remittanceInformation.count == 2
        else {
            throw Failure(description: "\(name) decoded to unexpected values: \(message)")
        }
        // The bare pass must see the whole document.
        guard BareReader.pass(bytes) > 0, BareSAX.pass(bytes) > 0 else {
            throw Failure(description: "libxml2 could not read \(name)")
        }
        return bytes
    }
}



/// The values of a decoded message as bytes, and the message built back from them: the work a
/// decode cannot avoid (a String per value, each canonical field set, each kept leaf), measured
/// alone.
struct CanonicalValues {
    let kind: PaymentMessage.Kind
    let function: PaymentMessage.Function
    let source: PaymentMessage.Source?
    var texts: [(TransferField, [UInt8])] = []
    var lists: [(TransferField, [[UInt8]])] = []
    var amounts: [(TransferField, [UInt8], Currency)] = []
    var unmapped: [([UInt8], [UInt8])] = []

    init(of message: PaymentMessage) {
        kind = message.kind
        function = message.function
        source = message.source
        for field in TransferField.all {
            switch field.form {
            case .text:
                if let text = field.text(of: message) { texts.append((field, Array(text.utf8))) }
            case .list:
                let lines = field.values(message)
                if !lines.isEmpty { lists.append((field, lines.map { Array($0.utf8) })) }
            case .amount:
                if let amount = field.amount?(message) { amounts.append((field, Array(amount.decimalText.utf8), amount.currency)) }
            case .charges:
                continue
            }
        }
        unmapped = message.unmapped.map { (Array($0.key.utf8), Array($0.value.utf8)) }
    }

    func message() -> PaymentMessage {
        var message = PaymentMessage(kind: kind, function: function)
        for (field, bytes) in texts { _ = field.set(&message, text: String(decoding: bytes, as: UTF8.self)) }
        for (field, lines) in lists { field.set(&message, lines: lines.map { String(decoding: $0, as: UTF8.self) }) }
        for (field, bytes, currency) in amounts {
            if let amount = try? Amount(parsing: String(decoding: bytes, as: UTF8.self), currency: currency) { field.setAmount?(&message, amount) }
        }
        message.unmapped.reserveCapacity(unmapped.count)
        for (key, value) in unmapped {
            message.unmapped.append(UnmappedField(key: String(decoding: key, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        message.source = source
        return message
    }
}
