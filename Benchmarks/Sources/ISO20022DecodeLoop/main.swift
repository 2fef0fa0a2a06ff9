// A plain loop for profilers (valgrind --tool=callgrind, perf), without the benchmark harness:
//   ISO20022DecodeLoop decode|parse|batch|encode|bare|sax|ratio [count] [file]
// runs ISO20022Codec().decode (parse: only the read into leaf elements, no mapping; batch: decodeBatch), encodes the decoded message back (encode), a bare xmlTextReader
// pass (bare) or a SAX2 parse with empty callbacks (sax, the floor) like ISO20022Benchmarks', `count` times
// (default 10,000) over the file (default Benchmarks/ISO20022Benchmarks/pacs008_3k.xml); ratio alternates
// decode and the SAX2 floor in rounds of 200 and gives the median of the rounds' ratios.
import ISO20022
import PaymentModel
import LibXML2Floor

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "decode"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 10_000 : 10_000
let defaultPath: String = {
    let source = #filePath  // .../Benchmarks/Sources/ISO20022DecodeLoop/main.swift
    var parts = source.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/Benchmarks/ISO20022Benchmarks/pacs008_3k.xml"
}()
let path = arguments.count > 3 ? arguments[3] : defaultPath

guard let file = fopen(path, "rb") else {
    fputs("cannot open \(path)\n", stderr)
    exit(1)
}
var bytes: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 4096)
while true {
    let read = fread(&chunk, 1, chunk.count, file)
    if read <= 0 { break }
    bytes.append(contentsOf: chunk[0..<read])
}
fclose(file)

let codec = ISO20022Codec()
// Also the warm-up: the first decode loads the schema and mapping tables (some 50 ms), which
// the timed loop must not spread over its messages.
let decoded = try codec.decode(bytes)
var sink = 0
if mode == "ratio" {
    // The decode against the SAX2 floor in the same moments: rounds of 200 of each, back to
    // back, so that both see the machine in the same state (this VM's speed drifts by a factor of
    // two over minutes); the median of the rounds' ratios, and each side's fastest round.
    var ratios: [Double] = []
    var fastest = (sax: UInt64.max, decode: UInt64.max)
    for _ in 0..<max(count / 200, 1) {
        var begin = clock_gettime_nsec_np_portable()
        for _ in 0..<200 { sink &+= BareSAX.pass(bytes) }
        let sax = (clock_gettime_nsec_np_portable() - begin) / 200
        begin = clock_gettime_nsec_np_portable()
        for _ in 0..<200 { sink &+= try codec.decode(bytes).remittanceInformation.count }
        let decode = (clock_gettime_nsec_np_portable() - begin) / 200
        ratios.append(Double(decode) / Double(sax))
        fastest = (min(fastest.sax, sax), min(fastest.decode, decode))
    }
    ratios.sort()
    let median = ratios[ratios.count / 2]
    print("ratio: \(ratios.count) rounds of 200, decode ÷ SAX2 floor median \(Double(Int(median * 1000)) / 1000), "
          + "fastest rounds \(fastest.decode) ns ÷ \(fastest.sax) ns, sink \(sink)")
    exit(0)
}
let start = clock_gettime_nsec_np_portable()
for _ in 0..<count {
    switch mode {
    case "bare":
        sink &+= BareReader.pass(bytes)
    case "sax":
        sink &+= BareSAX.pass(bytes)
    case "parse":
        do {
            sink &+= try codec.parse(bytes).elements.count
        } catch {
            fputs("parse failed: \(error)\n", stderr)
            exit(1)
        }
    case "batch":
        do {
            sink &+= try codec.decodeBatch(bytes).count
        } catch {
            fputs("batch decode failed: \(error)\n", stderr)
            exit(1)
        }
    case "encode":
        do {
            sink &+= try ISO20022Codec.encode(decoded, as: .pacs008).utf8.count
        } catch {
            fputs("encode failed: \(error)\n", stderr)
            exit(1)
        }
    default:
        do {
            let message = try codec.decode(bytes)
            sink &+= message.remittanceInformation.count
        } catch {
            fputs("decode failed: \(error)\n", stderr)
            exit(1)
        }
    }
}
let elapsed = clock_gettime_nsec_np_portable() - start
print("\(mode): \(count) × \(bytes.count) bytes in \(elapsed / 1_000_000) ms, \(elapsed / UInt64(max(count, 1))) ns/message, sink \(sink)")

func clock_gettime_nsec_np_portable() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
