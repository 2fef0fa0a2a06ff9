import Hummingbird
public import Logging
import NIOCore
public import Prometheus
import ServiceLifecycle
public import Switch
import Synchronization

/// The switch's admin HTTP endpoint: Prometheus metrics, liveness, readiness, reload and channel state.
///
/// It is off the data path: it runs on NIO's event loops and Swift's cooperative pool, never on the
/// switch's own queues, and its only way into the switch is ``SwitchAdministration``. `isReady` and
/// `channelReports()` are called from the handlers directly (they must stay quick); `reload()`, which
/// reads files, runs on a serial queue of its own. The routes:
///
/// | Route | Answer |
/// |---|---|
/// | `GET /metrics` | the registry in the Prometheus text format (`text/plain; version=0.0.4`) |
/// | `GET /health` | 200 `{"status":"ok"}` while the process serves at all |
/// | `GET /ready` | 200 `{"ready":true}`, or 503 `{"ready":false}` while the switch takes no traffic |
/// | `POST /reload` | the ``ReloadOutcome``: 200 when accepted, 422 when refused |
/// | `GET /channels` | the ``ChannelReport``s, a JSON array in configuration order |
///
/// Other paths answer 404; a known path with another method answers 405 with an `Allow` header.
/// Nothing here authenticates a caller: bind it to loopback (the default) or a management network.
///
/// A server starts once and stops once; make a new one to serve again.
public final class AdminServer: Sendable {
    /// The address to bind.
    public let host: String
    /// The port asked for; 0 lets the kernel choose (``start()`` returns the one bound).
    public let port: Int
    let logger: Logger
    /// Built once in `init` and never changed: requests only read it.
    let responder: RouterResponder<BasicRequestContext>
    private let state = Mutex(State.idle)

    private enum State {
        case idle
        /// `group` runs the application in `task`; the task ends once the group has shut down.
        case running(group: ServiceGroup, task: Task<Void, any Error>)
        case stopped
    }

    /// A server for `administration`, exposing `registry` at `/metrics`; nothing is bound until ``start()``.
    public init(
        host: String = "127.0.0.1",
        port: Int,
        administration: any SwitchAdministration,
        registry: PrometheusCollectorRegistry,
        logger: Logger
    ) {
        self.host = host
        self.port = port
        self.logger = logger
        self.responder = Self.makeRouter(administration: administration, registry: registry).buildResponder()
    }

    /// The hummingbird application serving the admin routes on `host:port`.
    ///
    /// `onServerRunning` is called with the listening channel once the socket is bound.
    func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<RouterResponder<BasicRequestContext>> {
        Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "payswitch-admin"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// Binds the socket and serves in a background task; returns the bound port once it accepts connections.
    ///
    /// Throws ``AdminServerError/alreadyStarted`` on a second call, or the bind error (address in use,
    /// permission) when the socket cannot be bound.
    public func start() async throws -> Int {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let application = makeApplication { channel in
            // A listening socket always has a local address; -1 would only mean NIO could not read it.
            portContinuation.yield(channel.localAddress?.port ?? -1)
            portContinuation.finish()
        }
        var configuration = ServiceGroupConfiguration(services: [application], logger: logger)
        // An admin client holding a slow request must not keep the switch from exiting.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)

        let task: Task<Void, any Error> = try state.withLock { state in
            guard case .idle = state else { throw AdminServerError.alreadyStarted }
            let task = Task {
                // Ends the stream when the server fails before binding, so `start` stops waiting.
                defer { portContinuation.finish() }
                try await group.run()
            }
            state = .running(group: group, task: task)
            return task
        }

        for await bound in ports {
            guard bound > 0 else { break }
            logger.info("admin endpoint listening", metadata: ["host": "\(host)", "port": "\(bound)"])
            return bound
        }
        // The group ended without ever running the server: its error says why.
        try await task.value
        throw AdminServerError.notListening
    }

    /// Shuts the server down gracefully: stops accepting, lets requests in progress finish (at most
    /// 5 seconds), closes idle connections. Does nothing if the server never started or already stopped.
    public func stop() async {
        let running = state.withLock { state -> (ServiceGroup, Task<Void, any Error>)? in
            defer { state = .stopped }
            guard case .running(let group, let task) = state else { return nil }
            return (group, task)
        }
        guard let (group, task) = running else { return }
        await group.triggerGracefulShutdown()
        if case .failure(let error) = await task.result {
            logger.warning("admin endpoint stopped with an error", metadata: ["error": "\(error)"])
        }
    }
}

/// Why ``AdminServer/start()`` failed without an error from the network.
public enum AdminServerError: Error, Sendable, Equatable {
    /// `start` was called on a server that had already been started (or stopped).
    case alreadyStarted
    /// The server ended without reporting a listening socket.
    case notListening
}
