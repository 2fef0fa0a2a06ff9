// Routing decision benchmarks: one static decision (`RoutingSnapshot.decide`) over a rule set of
// 1,000 rules whose BIN tests come from a table of 100,000 BIN ranges, all generated from a fixed
// seed when the benchmarks are registered (RuleFixture.swift). Each measured iteration decides
// 1,000 times (scalingFactor .kilo), so the table shows time and allocations per decision.
import Benchmark
import PaymentModel
import Routing

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    let fixture = RuleFixture(rules: 1_000, binRanges: 100_000, seed: 0x5EED)
    let snapshot = fixture.snapshot
    let context = RoutingContext(hour: 14, minute: 30)

    let cases = [
        // The typical card purchase: a BIN in one issuer group, two rules test that group.
        ("decide typical card purchase (1,000 rules, 100k BIN ranges)", fixture.typicalMessage),
        // A message no rule matches: every candidate the index leaves is evaluated, then the default.
        ("decide unmatched card (default action)", fixture.unmatchedMessage),
        // A credit transfer routed by creditor agent BIC, with a weighted split on the UETR.
        ("decide credit transfer with split", fixture.transferMessage),
    ]
    for (name, message) in cases {
        Benchmark(name) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(snapshot.decide(message, context))
            }
        }
    }

    // The reference: reading the same rules top to bottom.
    let ruleSet = fixture.ruleSet
    Benchmark("reference top-to-bottom evaluator, typical card purchase") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ruleSet.firstMatch(fixture.typicalMessage, context))
        }
    }
}
