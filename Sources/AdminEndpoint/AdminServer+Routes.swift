import Dispatch
import Foundation
import Hummingbird
import NIOCore
import Prometheus
import Switch

extension AdminServer {
    /// The admin routes over `administration` and `registry`; built once per server, then frozen by
    /// `buildResponder()`.
    static func makeRouter(
        administration: any SwitchAdministration,
        registry: PrometheusCollectorRegistry
    ) -> Router<BasicRequestContext> {
        // HEAD on the GET routes comes for free: health checkers that only look at the status use it.
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)

        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        router.get("/health") { _, _ in
            // Answering at all is the proof of life: nothing here asks the switch anything.
            try jsonResponse(Health(status: "ok"))
        }
        router.get("/ready") { _, _ in
            let ready = administration.isReady
            return try jsonResponse(Readiness(ready: ready), status: ready ? .ok : .serviceUnavailable)
        }
        router.post("/reload") { _, _ in
            let outcome = await reloadOffTheEventLoop(administration)
            return try jsonResponse(outcome, status: outcome.accepted ? .ok : .unprocessableContent)
        }
        router.get("/channels") { _, _ in
            try jsonResponse(administration.channelReports())
        }
        router.get("/cluster") { _, _ in
            guard let report = administration.clusterReport() else {
                return try jsonResponse(Problem(error: "this switch is not a node of a cluster (no cluster: in its configuration)"), status: .notFound)
            }
            return try jsonResponse(report)
        }

        addMethodNotAllowed(to: router, path: "/metrics", allowed: .get)
        addMethodNotAllowed(to: router, path: "/health", allowed: .get)
        addMethodNotAllowed(to: router, path: "/ready", allowed: .get)
        addMethodNotAllowed(to: router, path: "/reload", allowed: .post)
        addMethodNotAllowed(to: router, path: "/channels", allowed: .get)
        addMethodNotAllowed(to: router, path: "/cluster", allowed: .get)
        return router
    }

    /// Answers 405 on `path` for the common methods other than `allowed` (hummingbird's router alone
    /// answers 404 for a known path with the wrong method).
    private static func addMethodNotAllowed(to router: Router<BasicRequestContext>, path: RouterPath, allowed: HTTPRequest.Method) {
        let allow = allowed == .get ? "GET, HEAD" : allowed.rawValue
        let others: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch]
            .filter { $0 != allowed && !(allowed == .get && $0 == .head) }
        for method in others {
            router.on(path, method: method) { _, _ in
                Response(status: .methodNotAllowed, headers: [.allow: allow])
            }
        }
    }

    /// Runs `reload()` on a serial queue of its own and waits for it without holding an event loop or
    /// a cooperative thread: it reads and validates files, and two reloads asked at once run one
    /// after the other.
    private static func reloadOffTheEventLoop(_ administration: any SwitchAdministration) async -> ReloadOutcome {
        await withCheckedContinuation { continuation in
            reloadQueue.async { continuation.resume(returning: administration.reload()) }
        }
    }

    private static let reloadQueue = DispatchQueue(label: "payswitch.admin.reload")
}

/// The body of `GET /health`.
struct Health: Codable, Equatable, Sendable {
    var status: String
}

/// The body of an answer that found nothing to report.
struct Problem: Codable, Equatable, Sendable {
    var error: String
}

/// The body of `GET /ready`.
struct Readiness: Codable, Equatable, Sendable {
    var ready: Bool
}

/// `value` as a JSON response with sorted keys, so answers compare byte for byte between runs.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(value)
    return Response(
        status: status,
        headers: [.contentType: "application/json; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
    )
}
