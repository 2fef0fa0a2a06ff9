// The switch's per-message work on the typical 0200 (PerMessageFixture): decode to the canonical
// message, the routing decision over specs/routing/example.yaml, the message and frame for the
// destination dialect (iso87bcd), and the whole chain. Each measured iteration runs the operation
// 1,000 times (scalingFactor .kilo), so the table shows time and allocations per message.
import Benchmark
import ISO8583
import PerMessageFixture

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

    for name in ["iso87binary", "iso87ascii"] {
        let fixture: PerMessageFixture
        do {
            fixture = try PerMessageFixture(source: name)
        } catch {
            fputs("PerMessageBenchmarks: skipping \(name): \(error)\n", stderr)
            continue
        }
        let frame = fixture.frame
        let dialect = fixture.source
        Benchmark("decode 0200 \(name) (lazy, for comparison)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ISO8583Message(decoding: frame, dialect: dialect))
            }
        }
        Benchmark("decode to canonical 0200 \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try fixture.canonical())
            }
        }
        Benchmark("decode, canonical, route, encode iso87bcd: 0200 \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try fixture.chain())
            }
        }
        guard name == "iso87binary" else { continue }
        // The steps after decoding do not depend on the source dialect: measured once.
        let payment = fixture.payment
        Benchmark("route decide and channels (example.yaml)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(fixture.decide(payment))
            }
        }
        Benchmark("route Router.route (example.yaml, channel health)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(fixture.route(payment))
            }
        }
        Benchmark("canonical to iso87bcd message and frame") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try fixture.forward(payment))
            }
        }
    }
}
