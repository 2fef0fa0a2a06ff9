@testable import AdminEndpoint
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import NIOCore
import Prometheus
import Switch
import Synchronization
import Testing
import TestSupport

/// The routes, through hummingbird's in-process router test mode, over a switch the test controls.
struct AdminRouteTests {
    let administration = FakeAdministration()
    let registry = PrometheusCollectorRegistry()

    /// Runs `test` against the server's application without binding a socket.
    func withClient(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let server = AdminServer(port: 0, administration: administration, registry: registry, logger: Logger(label: "admin-test"))
        try await server.makeApplication().test(.router) { client in try await test(client) }
    }

    @Test func healthAnswersOK() async throws {
        try await withClient { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
        }
    }

    @Test func readyFollowsTheSwitch() async throws {
        let administration = administration
        try await withClient { client in
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body) == #"{"ready":true}"#)

            administration.state.withLock { $0.ready = false }
            let notReady = try await client.execute(uri: "/ready", method: .get)
            #expect(notReady.status == .serviceUnavailable)
            #expect(String(buffer: notReady.body) == #"{"ready":false}"#)
        }
    }

    @Test func acceptedReloadAnswers200() async throws {
        let administration = administration
        let accepted = ReloadOutcome(accepted: true, rulesVersion: "sha256:abc", problems: [])
        administration.state.withLock { $0.outcome = accepted }
        try await withClient { client in
            let response = try await client.execute(uri: "/reload", method: .post)
            #expect(response.status == .ok)
            #expect(try JSONDecoder().decode(ReloadOutcome.self, from: Data(response.body.readableBytesView)) == accepted)
            // Sorted keys: the body is the same bytes every time.
            #expect(String(buffer: response.body) == #"{"accepted":true,"problems":[],"rulesVersion":"sha256:abc"}"#)
        }
        #expect(administration.state.withLock { $0.reloadCount } == 1)
    }

    @Test func refusedReloadAnswers422WithTheProblems() async throws {
        let administration = administration
        let refused = ReloadOutcome(
            accepted: false, rulesVersion: "sha256:old",
            problems: ["rules.yaml:12:5: unknown channel 'visa-2'", "rules.yaml:30:1: duplicate rule 'fallback'"]
        )
        administration.state.withLock { $0.outcome = refused }
        try await withClient { client in
            let first = try await client.execute(uri: "/reload", method: .post)
            #expect(first.status == .unprocessableContent)
            #expect(try JSONDecoder().decode(ReloadOutcome.self, from: Data(first.body.readableBytesView)) == refused)
            let second = try await client.execute(uri: "/reload", method: .post)
            #expect(second.status == .unprocessableContent)
        }
        #expect(administration.state.withLock { $0.reloadCount } == 2)
    }

    @Test func channelsAreTheSwitchReports() async throws {
        let reports = [
            ChannelReport(
                name: "visa", breaker: "closed", inFlight: 3, maximumInFlight: 64, successRate: 0.98,
                links: [
                    LinkReport(address: "10.0.0.1:5000", state: "signed-on", missedEchoes: 0),
                    LinkReport(address: "10.0.0.2:5000", state: "connecting", missedEchoes: 2),
                ]
            ),
            ChannelReport(name: "sepa", breaker: "open", inFlight: 0, maximumInFlight: 16, successRate: nil, links: []),
        ]
        administration.state.withLock { $0.reports = reports }
        try await withClient { client in
            let response = try await client.execute(uri: "/channels", method: .get)
            #expect(response.status == .ok)
            #expect(try JSONDecoder().decode([ChannelReport].self, from: Data(response.body.readableBytesView)) == reports)
        }
    }

    @Test func clusterIsTheNodesReportOr404Alone() async throws {
        try await withClient { client in
            let response = try await client.execute(uri: "/cluster", method: .get)
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body).contains("not a node of a cluster"))
        }
        let report = ClusterReport(
            node: "a", epoch: 3, fenced: false, takeovers: 1, ageSeconds: 0.4, journalLag: 2,
            nodes: [ClusterNodeReport(node: "a", epoch: 3, state: "alive", heartbeatAgeSeconds: 0.4, leaseLeftSeconds: 4.6),
                    ClusterNodeReport(node: "b", epoch: 8, state: "dead", heartbeatAgeSeconds: 12, leaseLeftSeconds: -7)],
            queues: [ClusterQueueReport(channel: "issuer", depth: 500, oldestSeconds: 2.5, holder: "a", holdLeftSeconds: 4.1)])
        administration.state.withLock { $0.cluster = report }
        try await withClient { client in
            let response = try await client.execute(uri: "/cluster", method: .get)
            #expect(response.status == .ok)
            #expect(try JSONDecoder().decode(ClusterReport.self, from: Data(response.body.readableBytesView)) == report)
        }
    }

    @Test func noChannelsIsAnEmptyArray() async throws {
        try await withClient { client in
            let response = try await client.execute(uri: "/channels", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "[]")
        }
    }

    @Test func metricsExposeTheRegistry() async throws {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "payswitch", subsystem: "admin", metricName: "test", unitName: "total", helpText: "Counted by the test."
        )).increment(by: Int64(3))
        try await withClient { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
            let text = String(buffer: response.body)
            #expect(text.contains("# TYPE payswitch_admin_test_total counter\n"))
            #expect(text.contains("\npayswitch_admin_test_total 3\n"))
        }
    }

    @Test func swiftMetricsTimersGetTheLatencyBuckets() async throws {
        // What the switch does: emit through swift-metrics. The factory is made here rather than
        // bootstrapped, so no test depends on the process-wide MetricsSystem.
        let factory = AdminMetrics.makeFactory(registry: registry)
        let timer = Metrics.Timer(label: "payswitch_admin_test_seconds", factory: factory)
        timer.recordMicroseconds(700)
        try await withClient { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: response.body)
            // 0.7 ms is above the 0.5 ms bucket and inside the 1 ms one; the top bucket is 10 s.
            #expect(text.contains(#"payswitch_admin_test_seconds_bucket{le="0.0005"} 0"#))
            #expect(text.contains(#"payswitch_admin_test_seconds_bucket{le="0.001"} 1"#))
            #expect(text.contains(#"payswitch_admin_test_seconds_bucket{le="10.0"} 1"#))
        }
    }

    @Test func unknownPathIs404() async throws {
        try await withClient { client in
            let unknown = try await client.execute(uri: "/nothing-here", method: .get)
            #expect(unknown.status == .notFound)
            let belowAKnownPath = try await client.execute(uri: "/channels/visa", method: .get)
            #expect(belowAKnownPath.status == .notFound)
        }
    }

    @Test func wrongMethodIs405() async throws {
        let administration = administration
        try await withClient { client in
            let getReload = try await client.execute(uri: "/reload", method: .get)
            #expect(getReload.status == .methodNotAllowed)
            #expect(getReload.headers[.allow] == "POST")
            let postHealth = try await client.execute(uri: "/health", method: .post)
            #expect(postHealth.status == .methodNotAllowed)
            #expect(postHealth.headers[.allow] == "GET, HEAD")
            let deleteMetrics = try await client.execute(uri: "/metrics", method: .delete)
            #expect(deleteMetrics.status == .methodNotAllowed)
        }
        // A GET must never reload.
        #expect(administration.state.withLock { $0.reloadCount } == 0)
    }

    @Test func headOnAGetRouteAnswersWithoutABody() async throws {
        try await withClient { client in
            let response = try await client.execute(uri: "/health", method: .head)
            #expect(response.status == .ok)
            #expect(response.body.readableBytes == 0)
        }
    }
}

/// The server on a real socket: bind, answer over plain TCP, stop.
struct AdminServerLiveTests {
    @Test func servesHealthOnAnEphemeralPortAndStops() async throws {
        let server = AdminServer(
            port: 0, administration: FakeAdministration(), registry: PrometheusCollectorRegistry(),
            logger: Logger(label: "admin-live-test")
        )
        let port = try await server.start()
        #expect(port > 0)
        await #expect(throws: AdminServerError.alreadyStarted) { try await server.start() }

        let answer = try await Self.get("/health", port: port)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.hasSuffix("\r\n\r\n{\"status\":\"ok\"}"))

        await server.stop()
        // Stopped means the port no longer accepts.
        #expect(throws: RawClient.Failure.self) { try RawClient.connect(UInt16(port)) }
        await server.stop()
    }

    @Test func blockingStartAndStopFromAPlainThread() async throws {
        let server = AdminServer(
            port: 0, administration: FakeAdministration(), registry: PrometheusCollectorRegistry(),
            logger: Logger(label: "admin-blocking-test")
        )
        // The blocking calls are for threads outside Swift concurrency, as a CLI's main thread is.
        let port = try await Self.onOwnThread { try server.startBlocking() }
        let answer = try await Self.get("/health", port: port)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        try await Self.onOwnThread { server.stopBlocking() }
        #expect(throws: RawClient.Failure.self) { try RawClient.connect(UInt16(port)) }
    }

    /// One HTTP/1.1 request written by hand; the whole answer, read until the server closes.
    static func get(_ path: String, port: Int) async throws -> String {
        try await onOwnThread {
            let fd = try RawClient.connect(UInt16(port))
            defer { close(fd) }
            RawClient.send(fd, Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8))
            return String(decoding: RawClient.receive(fd, count: 64 * 1024), as: UTF8.self)
        }
    }

    /// Runs blocking `work` on a thread of its own. The route handlers run on Swift's cooperative
    /// pool (two threads on a two-core machine): a test blocking those threads in `recv` would starve
    /// the very server it waits for.
    static func onOwnThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}

/// A switch whose readiness, channel reports and reload outcome the test sets, counting reloads.
final class FakeAdministration: SwitchAdministration {
    struct State {
        var ready = true
        var reports: [ChannelReport] = []
        var outcome = ReloadOutcome(accepted: true, rulesVersion: "sha256:0", problems: [])
        var reloadCount = 0
        var cluster: ClusterReport?
    }

    let state = Mutex(State())

    var isReady: Bool { state.withLock { $0.ready } }

    func channelReports() -> [ChannelReport] { state.withLock { $0.reports } }

    func clusterReport() -> ClusterReport? { state.withLock { $0.cluster } }

    func reload() -> ReloadOutcome {
        state.withLock { state in
            state.reloadCount += 1
            return state.outcome
        }
    }
}
