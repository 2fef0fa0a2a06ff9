// Codec benchmarks: decode, encode and round trip (decode then encode) of
//   - the typical financial request (0200, 20 fields with track 2 and ICC data; 1200 in iso93ascii)
//     in every shipped dialect, and
//   - an 87-field message spread over the primary and secondary bitmaps in iso87binary.
//
// Each measured iteration runs the operation 1,000 times (scalingFactor .kilo), so the table shows
// time, allocations and throughput per single operation. Messages and frames are built and checked
// before measurement (Fixtures.swift); the closures only decode or encode.
import Benchmark
import ISO8583

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    for name in Dialect.shippedNames {
        let mti = name.hasPrefix("iso93") ? "1200" : "0200"
        registerCodecBenchmarks(label: "\(mti) \(name)") { try Fixture.typical(name) }
    }
    registerCodecBenchmarks(label: "87-field iso87binary") { try Fixture.large("iso87binary") }
}

/// Registers "decode <label>", "encode <label>" and "round trip <label>".
///
/// The fixture is built when the benchmarks are registered. If that fails (a dialect that does not
/// load, a value the codec refuses), the three benchmarks are skipped with a message on stderr
/// instead of failing the whole run.
func registerCodecBenchmarks(label: String, fixture makeFixture: () throws -> Fixture) {
    let fixture: Fixture
    do {
        fixture = try makeFixture()
    } catch {
        fputs("ISO8583Benchmarks: skipping decode/encode/round trip \(label): \(error)\n", stderr)
        return
    }
    let dialect = fixture.dialect
    let frame = fixture.frame
    let message = fixture.message

    Benchmark("decode \(label)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ISO8583Message(decoding: frame, dialect: dialect))
        }
    }

    Benchmark("encode \(label)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try message.encoded(as: dialect))
        }
    }

    Benchmark("round trip \(label)") { benchmark in
        for _ in benchmark.scaledIterations {
            let decoded = try ISO8583Message(decoding: frame, dialect: dialect)
            blackHole(try decoded.encoded(as: dialect))
        }
    }
}
