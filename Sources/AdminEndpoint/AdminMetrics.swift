import Metrics
public import Prometheus
import Synchronization

/// Where the switch's metrics become Prometheus metrics.
///
/// The switch and its modules never import Prometheus: they emit through swift-metrics (`Counter`,
/// `Timer`, `Gauge`, `Meter`, `Recorder`), which reach whatever factory the process bootstrapped.
/// ``bootstrap()`` installs a `PrometheusMetricsFactory` over one registry, and ``AdminServer``
/// serves that registry at `GET /metrics`.
public enum AdminMetrics {
    /// The buckets every swift-metrics `Timer` gets, from 0.5 ms to 10 s.
    ///
    /// swift-prometheus's defaults start at 5 ms, where a switch's own processing (well under a
    /// millisecond) and a fast host (a few milliseconds) would all fall in the first bucket; the top
    /// of 10 s is above the longest host timeout, so a timed-out request still lands in a bucket.
    public static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10),
    ]

    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Creates the process's registry and bootstraps swift-metrics with a Prometheus factory over it.
    ///
    /// `MetricsSystem.bootstrap` may run only once per process (a second call traps), so later calls
    /// return the first registry and bootstrap nothing. Call it before anything creates a metric: a
    /// metric made earlier goes to swift-metrics' no-op factory and stays there.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        bootstrapped.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(makeFactory(registry: created))
            registry = created
            return created
        }
    }

    /// The factory ``bootstrap()`` installs: Prometheus over `registry`, with ``durationBuckets`` for timers.
    ///
    /// Public so that a test can route a factory to a registry of its own without the global bootstrap.
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        return factory
    }
}
