import AdminEndpoint
import Metrics
import Prometheus
import Testing

/// Reading counters back from the Prometheus text the admin endpoint serves.
struct MetricSampleTests {
    /// A value read from the text becomes a count only when it is a whole number that fits.
    @Test(arguments: [("m 3", 3), ("m 1.5", nil), ("m +Inf", nil), ("m NaN", nil), ("m 1e30", nil)] as [(String, Int?)])
    func aSampleIsACountOnlyWhenItsValueIsAWholeNumberThatFits(line: String, count: Int?) {
        let samples = MetricSample.parse(line)
        #expect(samples.count == 1)
        #expect(samples.first?.count == count)
    }

    @Test func samplesOfARegistryCarryTheirLabelsAndValues() {
        // What the switch does: emit through swift-metrics, here into a registry of the test's own.
        let registry = PrometheusCollectorRegistry()
        let factory = AdminMetrics.makeFactory(registry: registry)
        Counter(label: "payswitch_answers_total", dimensions: [("channel", "issuer-a"), ("result", "0000")], factory: factory)
            .increment(by: 12)
        Counter(label: "payswitch_answers_total", dimensions: [("channel", "-"), ("result", "1061")], factory: factory).increment()
        Counter(label: "payswitch_requests_total", dimensions: [("listener", "pos")], factory: factory).increment(by: 13)

        let answers = AdminMetrics.samples(named: "payswitch_answers_total", in: registry)
        #expect(Set(answers) == [
            MetricSample(name: "payswitch_answers_total", labels: ["channel": "issuer-a", "result": "0000"], value: 12),
            MetricSample(name: "payswitch_answers_total", labels: ["channel": "-", "result": "1061"], value: 1),
        ])
        #expect(AdminMetrics.samples(named: "payswitch_requests_total", in: registry).map(\.value) == [13])
        #expect(AdminMetrics.samples(named: "payswitch_nothing", in: registry).isEmpty)
    }

    @Test func textWithEscapesTimestampsAndCommentsReads() {
        let text = """
            # HELP demo_total A counter.
            # TYPE demo_total counter
            demo_total{path="C:\\\\dir",quote="say \\"hi\\"",line="a\\nb"} 3 1700000000000
            demo_total 4.5
            demo_bucket{le="+Inf"} 7

            not a sample line
            """
        let samples = MetricSample.parse(text)
        #expect(samples == [
            MetricSample(name: "demo_total", labels: ["path": "C:\\dir", "quote": "say \"hi\"", "line": "a\nb"], value: 3),
            MetricSample(name: "demo_total", value: 4.5),
            MetricSample(name: "demo_bucket", labels: ["le": "+Inf"], value: 7),
        ])
        #expect(MetricSample.parse(text, named: "demo_bucket").count == 1)
    }

    @Test func brokenLinesAreSkipped() {
        #expect(MetricSample.parse("demo{a=\"unterminated} 1\ndemo{a=b} 2\ndemo{a=\"x\"} many\n").isEmpty)
    }
}
