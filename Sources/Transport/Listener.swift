import Dispatch
public import Logging
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Where and how a listener accepts.
public struct ListenerOptions: Sendable {
    public var host: String
    /// 0 picks a free port; ``Listener/start()`` returns it.
    public var port: UInt16
    public var backlog: Int32
    /// Connections held at once; more are accepted and closed at once, with a logged reason.
    public var maximumConnections: Int
    /// Connections held at once from one remote address: in the tens by default, so that one
    /// client cannot hold every slot of an internet-facing listener.
    public var maximumConnectionsPerAddress: Int
    /// Settings for each accepted connection (idle and TLS handshake timeouts on by default).
    public var connection: ConnectionOptions

    /// The default connections held at once from one address.
    public static let defaultMaximumConnectionsPerAddress = 32

    public init(host: String = "127.0.0.1", port: UInt16 = 0, backlog: Int32 = 4096, maximumConnections: Int = 10_000,
                maximumConnectionsPerAddress: Int = ListenerOptions.defaultMaximumConnectionsPerAddress,
                connection: ConnectionOptions = ConnectionOptions()) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
        self.connection = connection
    }
}

/// Accepts TCP connections and hands each, framed (and TLS-wrapped when configured), to a loop.
public final class Listener: Sendable {
    private struct Counts {
        var total = 0
        var byAddress: [String: Int] = [:]
    }

    public let group: EventLoopGroup
    public let format: FrameFormat
    public let options: ListenerOptions
    private let tls: TLSContext?
    private let logger: Logger
    private let makeHandlers: @Sendable (Connection) -> Connection.Handlers
    private let counts = Mutex(Counts())
    private let acceptQueue = DispatchQueue(label: "payswitch.accept")
    private let source = Mutex<DispatchSource?>(nil)
    /// Accept failures (out of descriptors): the source pauses instead of spinning, and the log
    /// says so once per ``acceptErrorLogInterval``.
    private let acceptTrouble = Mutex(AcceptTrouble())

    private struct AcceptTrouble {
        var paused = false
        var pause = Listener.minimumAcceptPause
        var lastLogged: UInt64 = 0
        var unlogged = 0
    }

    static let minimumAcceptPause: Duration = .milliseconds(50)
    static let maximumAcceptPause: Duration = .seconds(1)
    static let acceptErrorLogInterval: Duration = .seconds(10)

    /// - Parameter makeHandlers: Called on the connection's queue for each accepted connection.
    public init(group: EventLoopGroup, format: FrameFormat, tls: TLSContext? = nil, options: ListenerOptions = ListenerOptions(),
                logger: Logger = Logger(label: "payswitch.transport"),
                makeHandlers: @escaping @Sendable (Connection) -> Connection.Handlers) {
        self.group = group
        self.format = format
        self.tls = tls
        self.options = options
        self.logger = logger
        self.makeHandlers = makeHandlers
    }

    /// Binds, listens and starts accepting; returns the bound port.
    public func start() throws(SocketError) -> UInt16 {
        let fd = try Socket.listen(host: options.host, port: options.port, backlog: options.backlog)
        let port = Socket.localPort(fd)
        // The concrete class is Sendable; the existential is not.
        let acceptSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue) as! DispatchSource
        acceptSource.setEventHandler { [self] in acceptPending(fd) }
        acceptSource.setCancelHandler { Glibc.close(fd) }
        source.withLock { $0 = acceptSource }
        acceptSource.activate()
        logger.info("listening", metadata: ["address": "\(options.host):\(port)", "framing": "\(format)", "tls": "\(tls != nil)"])
        return port
    }

    /// Stops accepting; open connections stay open.
    public func stop() {
        source.withLock { source in
            source?.cancel()
            // A cancelled source runs its cancel handler (which closes the socket) only once resumed.
            acceptTrouble.withLock { trouble in
                if trouble.paused {
                    trouble.paused = false
                    source?.resume()
                }
            }
            source = nil
        }
    }

    /// Connections currently held.
    public var connectionCount: Int { counts.withLock { $0.total } }

    private func acceptPending(_ fd: Int32) {
        dispatchPrecondition(condition: .onQueue(acceptQueue))
        while true {
            let accepted: (fd: Int32, remote: String)?
            do throws(SocketError) {
                accepted = try Socket.accept(fd)
            } catch {
                // EMFILE and the like: the pending connection stays in the backlog, so the source
                // would fire again at once. Pause it and retry on a timer; existing connections carry on.
                pauseAccepting(after: error)
                return
            }
            guard let (client, remote) = accepted else { return }
            acceptTrouble.withLock { $0.pause = Listener.minimumAcceptPause }
            let refusal: String? = counts.withLock { counts in
                if counts.total >= options.maximumConnections { return "listener limit of \(options.maximumConnections) connections reached" }
                if counts.byAddress[remote, default: 0] >= options.maximumConnectionsPerAddress {
                    return "limit of \(options.maximumConnectionsPerAddress) connections from one address reached"
                }
                counts.total += 1
                counts.byAddress[remote, default: 0] += 1
                return nil
            }
            if let refusal {
                logger.warning("refusing connection", metadata: ["remote": "\(remote)", "reason": "\(refusal)"])
                Glibc.close(client)
                continue
            }
            let session: TLSSession?
            do throws(TLSError) {
                session = try tls?.makeSession()
            } catch {
                logger.error("TLS session setup failed", metadata: ["error": "\(error)"])
                release(remote)
                Glibc.close(client)
                continue
            }
            let loop = group.nextLoop()
            let connection = Connection(fd: client, loop: loop, format: format, remoteAddress: remote,
                                        options: options.connection, tls: session)
            connection.onCloseInternal = { [self] in release(remote) }
            loop.queue.async { [self] in
                var handlers = makeHandlers(connection)
                let userClose = handlers.onClose
                handlers.onClose = { [logger] connection, reason in
                    switch reason {
                    case .peerClosed, .local: logger.debug("connection closed", metadata: ["remote": "\(remote)", "reason": "\(reason)"])
                    default: logger.warning("connection closed", metadata: ["remote": "\(remote)", "reason": "\(reason)"])
                    }
                    userClose(connection, reason)
                }
                connection.start(handlers: handlers)
            }
        }
    }

    /// Suspends the accept source for a while (doubling up to a second while failures go on) and
    /// logs at most once per interval, with how many failures went unlogged.
    private func pauseAccepting(after error: SocketError) {
        dispatchPrecondition(condition: .onQueue(acceptQueue))
        let now = DispatchTime.now().uptimeNanoseconds
        let (pause, log, unlogged): (Duration, Bool, Int) = acceptTrouble.withLock { trouble in
            let pause = trouble.pause
            trouble.pause = min(trouble.pause * 2, Listener.maximumAcceptPause)
            let log = trouble.lastLogged == 0 || now &- trouble.lastLogged >= UInt64(Listener.acceptErrorLogInterval.nanoseconds)
            let unlogged = trouble.unlogged
            if log {
                trouble.lastLogged = now
                trouble.unlogged = 0
            } else {
                trouble.unlogged += 1
            }
            return (pause, log, unlogged)
        }
        if log {
            logger.error("accept failed; pausing accepts", metadata: [
                "error": "\(error)", "pause": "\(pause)", "failuresSinceLastLog": "\(unlogged)",
            ])
        }
        // Lock order everywhere: source, then acceptTrouble.
        source.withLock { source in
            guard let source else { return }
            acceptTrouble.withLock { $0.paused = true }
            source.suspend()
        }
        acceptQueue.asyncAfter(deadline: .now() + pause.dispatchInterval) { [self] in
            source.withLock { source in
                acceptTrouble.withLock { trouble in
                    guard trouble.paused, let source else { return }
                    trouble.paused = false
                    source.resume()
                }
            }
        }
    }

    private func release(_ remote: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.byAddress[remote, default: 1] - 1
            counts.byAddress[remote] = left == 0 ? nil : left
        }
    }
}

extension Listener {
    /// A port of 127.0.0.1 that was free a moment ago (bound, read, released): nothing listens on
    /// it, so a connect there is refused. For hosts that must be down in tests and replays.
    public static func unusedLoopbackPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }
}
