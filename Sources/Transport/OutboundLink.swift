import Dispatch
public import Logging

/// How long to wait before each reconnect: exponential, capped, with jitter so a fleet of links
/// does not reconnect in step.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// The delay is drawn from `[delay × (1 − jitter), delay]`.
    public var jitter: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (0 for the first retry).
    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let base = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
        let cap = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        var delay = base
        for _ in 0..<min(attempt, 64) where delay < cap { delay *= multiplier }
        delay = min(delay, cap)
        let factor = 1 - jitter * Double.random(in: 0...1, using: &random)
        return .nanoseconds(Int64(delay * factor * 1e9))
    }
}

/// A long-lived outbound connection to a host that reconnects by itself after any close.
///
/// Invariant: its state is touched only on `loop.queue`.
public final class OutboundLink: @unchecked Sendable {
    public let host: String
    public let port: UInt16
    public let loop: EventLoop
    private let format: FrameFormat
    private let tls: TLSContext?
    private let options: ConnectionOptions
    private let connectTimeout: Duration
    private let backoff: Backoff
    private let logger: Logger
    private let makeHandlers: (Connection) -> Connection.Handlers
    private var random = SystemRandomNumberGenerator()
    private var attempt = 0
    private var stopped = true
    /// The current connection, once active.
    public private(set) var connection: Connection?
    /// The connection being opened, until it is active or closed: ``stop()`` closes it too.
    private var connecting: Connection?

    public init(host: String, port: UInt16, loop: EventLoop, format: FrameFormat, tls: TLSContext? = nil,
                options: ConnectionOptions = ConnectionOptions(), connectTimeout: Duration = .seconds(5), backoff: Backoff = Backoff(),
                logger: Logger = Logger(label: "payswitch.transport"), makeHandlers: @escaping (Connection) -> Connection.Handlers) {
        self.host = host
        self.port = port
        self.loop = loop
        self.format = format
        self.tls = tls
        self.options = options
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.logger = logger
        self.makeHandlers = makeHandlers
    }

    /// Starts connecting (from any thread).
    public func start() {
        loop.queue.async { [self] in
            stopped = false
            attempt = 0
            connectNow()
        }
    }

    /// Closes the link and stops reconnecting (from any thread).
    public func stop() {
        loop.queue.async { [self] in
            stopped = true
            connection?.close()
            connection = nil
            connecting?.close()
            connecting = nil
        }
    }

    private func connectNow() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !stopped else { return }
        var handlers: Connection.Handlers? = nil
        let wrap: (Connection) -> Connection.Handlers = { [self] connection in
            var inner = makeHandlers(connection)
            let userActive = inner.onActive
            let userClose = inner.onClose
            inner.onActive = { [self] connection in
                if connecting === connection { connecting = nil }
                // Stopped while this connect was under way: the link stays down.
                guard !stopped else { return connection.close() }
                attempt = 0
                self.connection = connection
                logger.info("link up", metadata: ["peer": "\(host):\(port)"])
                userActive(connection)
            }
            inner.onClose = { [self] connection, reason in
                if self.connection === connection { self.connection = nil }
                if connecting === connection { connecting = nil }
                userClose(connection, reason)
                scheduleReconnect(after: reason)
            }
            return inner
        }
        do throws(SocketError) {
            // The handlers need the connection, which connect creates: build them lazily.
            connecting = try Connection.connect(
                host: host, port: port, loop: loop, format: format, tls: tls, options: options, timeout: connectTimeout,
                handlers: Connection.Handlers(
                    onFrame: { connection, frame in
                        if handlers == nil { handlers = wrap(connection) }
                        handlers?.onFrame(connection, frame)
                    },
                    onClose: { connection, reason in
                        if handlers == nil { handlers = wrap(connection) }
                        handlers?.onClose(connection, reason)
                    },
                    onActive: { connection in
                        if handlers == nil { handlers = wrap(connection) }
                        handlers?.onActive(connection)
                    },
                    onWritabilityChanged: { connection, writable in
                        if handlers == nil { handlers = wrap(connection) }
                        handlers?.onWritabilityChanged(connection, writable)
                    }))
        } catch {
            scheduleReconnect(after: .io(error))
        }
    }

    private func scheduleReconnect(after reason: CloseReason) {
        guard !stopped else { return }
        let delay = backoff.delay(attempt: attempt, using: &random)
        attempt += 1
        logger.warning("link down, reconnecting", metadata: ["peer": "\(host):\(port)", "reason": "\(reason)", "in": "\(delay)"])
        loop.queue.asyncAfter(deadline: .now() + delay.dispatchInterval) { [self] in
            connectNow()
        }
    }
}
