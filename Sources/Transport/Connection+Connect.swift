import Dispatch
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

extension Connection {
    /// Opens an outbound connection: a non-blocking connect with a timeout, then (with TLS) the
    /// handshake. `handlers.onActive` runs when frames may be sent; a failure closes with
    /// ``CloseReason/connectFailed(_:)`` or ``CloseReason/tls(_:)``.
    ///
    /// - Returns: The connection, already on its way; its handlers run on `loop`'s queue.
    @discardableResult
    public static func connect(
        host: String, port: UInt16, loop: EventLoop, format: FrameFormat, tls: TLSContext? = nil,
        options: ConnectionOptions = ConnectionOptions(), timeout: Duration = .seconds(10), handlers: Handlers
    ) throws(SocketError) -> Connection {
        _ = Socket.ignoreSIGPIPE
        let address = try Socket.address(host: host, port: port)
        let session: TLSSession?
        do throws(TLSError) {
            session = try tls?.makeSession()
        } catch {
            throw SocketError("TLS session: \(error)", errno: EINVAL)
        }
        let fd = try Socket.makeTCP()
        let connection = Connection(fd: fd, loop: loop, format: format, remoteAddress: "\(host):\(port)", options: options, tls: session)
        let connected: Bool
        do throws(SocketError) {
            connected = try Socket.startConnect(fd, to: address)
        } catch {
            Glibc.close(fd)
            throw error
        }
        loop.queue.async {
            if connected {
                connection.start(handlers: handlers)
            } else {
                connection.awaitConnect(timeout: timeout, handlers: handlers)
            }
        }
        return connection
    }

    /// Waits for the socket to become writable (connect done), or the timeout.
    private func awaitConnect(timeout: Duration, handlers: Handlers) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        connectHandlers = handlers
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [self] in
            let error = Socket.connectResult(fd)
            finishConnect(failure: error == 0 ? nil : String(cString: strerror(error)))
        }
        source.setCancelHandler { [self] in connectSourceCancelled() }
        connectSource = source
        liveSources += 1
        source.activate()
        loop.queue.asyncAfter(deadline: .now() + timeout.dispatchInterval) { [self] in
            finishConnect(failure: "no answer within \(timeout)")
        }
    }

    /// Ends the connect wait once; the source's cancel handler then starts or fails the connection.
    private func finishConnect(failure: String?) {
        guard let source = connectSource else { return }
        connectSource = nil
        connectFailure = failure
        source.cancel()
    }

    /// The connect source is gone (the fd is no longer watched): start, fail, or, when the
    /// connection was closed meanwhile, let the fd close with this last source.
    private func connectSourceCancelled() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed, let handlers = connectHandlers else { return sourceCancelled() }
        connectHandlers = nil
        liveSources -= 1
        if let failure = connectFailure {
            self.handlers = handlers
            close(reason: .connectFailed(failure))
        } else {
            start(handlers: handlers)
        }
    }
}
