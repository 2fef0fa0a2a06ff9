import Dispatch
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One received frame, valid only during the callback that delivers it (it points into the loop's
/// read buffer or the connection's pending bytes: no copy is made).
public struct Frame {
    /// The header or TPDU bytes (empty when the format has none).
    public let header: UnsafeRawBufferPointer
    /// The message.
    public let payload: UnsafeRawBufferPointer
}

/// Why a connection closed.
public enum CloseReason: Sendable, CustomStringConvertible, Equatable {
    /// The peer closed its side (EOF) or reset.
    case peerClosed
    /// We closed it.
    case local
    /// Nothing was read or written for longer than the idle timeout.
    case idleTimeout
    /// The TLS handshake did not finish within the handshake timeout.
    case handshakeTimeout
    /// The peer sent bytes that break the framing (for example an oversize frame).
    case framing(FramingError)
    /// TLS failed: handshake, certificate or protocol; the whole OpenSSL error queue is kept.
    case tls(TLSError)
    /// A system call failed.
    case io(SocketError)
    /// The peer stopped reading and our buffer for it reached its hard limit.
    case peerNotReading
    /// The connect timed out or was refused.
    case connectFailed(String)

    public var description: String {
        switch self {
        case .peerClosed: return "peer closed the connection"
        case .local: return "closed locally"
        case .idleTimeout: return "idle timeout"
        case .handshakeTimeout: return "TLS handshake timeout"
        case .framing(let error): return "\(error)"
        case .tls(let error): return "\(error)"
        case .io(let error): return "\(error)"
        case .peerNotReading: return "peer stopped reading: outbound buffer full"
        case .connectFailed(let reason): return "connect failed: \(reason)"
        }
    }
}

/// Settings of one connection. The defaults suit an internet-facing listener: a silent peer or a
/// stalled handshake cannot hold a slot for long. Loosening them is explicit.
public struct ConnectionOptions: Sendable {
    /// Close after this long without a byte read or written (nil: never).
    public var idleTimeout: Duration?
    /// Close a TLS connection whose handshake has not finished after this long (nil: never).
    public var handshakeTimeout: Duration?
    /// How long ``Connection/close(reason:)`` waits for queued frames to be written before it
    /// closes anyway.
    public var closeFlushTimeout: Duration
    /// Above this many bytes waiting to go out, the connection reports itself not writable, so its
    /// feeders pause reading.
    public var highWaterMark: Int
    /// Below this, writable again.
    public var lowWaterMark: Int
    /// At this many bytes waiting, the peer is taken to have stopped reading and is closed.
    public var outboundLimit: Int
    /// The kernel's send and receive buffer sizes (nil: the system's, which autotunes to megabytes).
    public var socketBufferSize: Int32?

    public static let defaultIdleTimeout: Duration = .seconds(120)
    public static let defaultHandshakeTimeout: Duration = .seconds(10)

    public init(idleTimeout: Duration? = ConnectionOptions.defaultIdleTimeout,
                handshakeTimeout: Duration? = ConnectionOptions.defaultHandshakeTimeout, closeFlushTimeout: Duration = .seconds(2),
                highWaterMark: Int = 256 * 1024, lowWaterMark: Int = 64 * 1024,
                outboundLimit: Int = 4 * 1024 * 1024, socketBufferSize: Int32? = nil) {
        self.idleTimeout = idleTimeout
        self.handshakeTimeout = handshakeTimeout
        self.closeFlushTimeout = closeFlushTimeout
        self.highWaterMark = highWaterMark
        self.lowWaterMark = lowWaterMark
        self.outboundLimit = outboundLimit
        self.socketBufferSize = socketBufferSize
    }
}

/// A framed TCP connection (optionally TLS) driven by read and write `DispatchSource`s on its loop.
///
/// Invariant: every mutable property is touched only on `loop.queue`; each entry point checks with
/// `dispatchPrecondition`. Callers on other threads use ``execute(_:)``. The file descriptor is
/// closed exactly once, in the last source's cancel handler, and no source is released suspended.
public final class Connection: @unchecked Sendable {
    /// Callbacks, all run on the connection's queue (hence `@unchecked Sendable`: they are built
    /// anywhere but only ever called there).
    public struct Handlers: @unchecked Sendable {
        /// A frame arrived (keep-alives are handled by the connection and not delivered).
        public var onFrame: (Connection, Frame) -> Void
        /// The connection closed; called exactly once.
        public var onClose: (Connection, CloseReason) -> Void
        /// The connection is ready for frames (after connect and TLS handshake).
        public var onActive: (Connection) -> Void
        /// The outbound buffer crossed the high (false) or low (true) water mark.
        public var onWritabilityChanged: (Connection, Bool) -> Void

        public init(
            onFrame: @escaping (Connection, Frame) -> Void, onClose: @escaping (Connection, CloseReason) -> Void = { _, _ in },
            onActive: @escaping (Connection) -> Void = { _ in },
            onWritabilityChanged: @escaping (Connection, Bool) -> Void = { _, _ in }
        ) {
            self.onFrame = onFrame
            self.onClose = onClose
            self.onActive = onActive
            self.onWritabilityChanged = onWritabilityChanged
        }
    }

    /// The loop this connection is pinned to.
    public let loop: EventLoop
    /// The framing on this connection.
    public let format: FrameFormat
    /// The peer's address.
    public let remoteAddress: String
    let fd: Int32
    let options: ConnectionOptions
    var handlers: Handlers?
    var tls: TLSSession?

    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?
    private var readSuspended = false
    private var readPausedByUser = false
    private var writeSuspended = true
    private var outbound = OutboundBuffer()
    /// TLS only: frames sent since the last flush, not yet encrypted.
    private var tlsPlaintext = OutboundBuffer()
    /// Splits plaintext into frames, keeping an unfinished one between reads.
    private var decoder: FrameDecoder
    private var inEvent = false
    /// Whether this connection waits in its loop's ``EventLoop/pendingFlush``.
    private var isFlushQueued = false
    private var delivering = false
    /// Set once the connection is to close when its queued bytes are written: after the peer's
    /// EOF, or a local close with frames still queued (bounded by ``ConnectionOptions/closeFlushTimeout``).
    private var closeAfterFlush: CloseReason?
    private(set) var isClosed = false
    private(set) public var isActive = false
    private(set) public var isWritable = true
    private var lastActivity: UInt64 = 0
    /// Called when the connection closes, before the user's handler: listeners release their counts.
    var onCloseInternal: (() -> Void)?
    /// While an outbound connect is in progress: the source waiting for it, the handlers to start
    /// with, and how it ended (nil: connected). The source counts in ``liveSources`` so the fd
    /// stays open until its cancel handler has run.
    var connectSource: (any DispatchSourceWrite)?
    var connectHandlers: Handlers?
    var connectFailure: String?
    var liveSources = 0

    init(fd: Int32, loop: EventLoop, format: FrameFormat, remoteAddress: String, options: ConnectionOptions, tls: TLSSession?) {
        self.fd = fd
        self.loop = loop
        self.format = format
        self.remoteAddress = remoteAddress
        self.options = options
        self.tls = tls
        self.decoder = FrameDecoder(format: format)
        Socket.setNoDelay(fd)
        if let size = options.socketBufferSize { Socket.setBufferSizes(fd, bytes: size) }
    }

    deinit {
        // Normally released by close(); a connection dropped without one must not leak its buffers.
        outbound.release()
        tlsPlaintext.release()
    }

    /// Starts reading; for TLS, starts the handshake. Call once, on the loop's queue.
    func start(handlers: Handlers) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        self.handlers = handlers
        lastActivity = DispatchTime.now().uptimeNanoseconds
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: loop.queue)
        // The handlers hold the connection strongly; cancelling the sources releases them.
        source.setEventHandler { [self] in readable() }
        source.setCancelHandler { [self] in sourceCancelled() }
        readSource = source
        liveSources += 1
        source.activate()
        if options.idleTimeout != nil { loop.watchIdle(self) }
        if tls != nil, let timeout = options.handshakeTimeout {
            loop.queue.asyncAfter(deadline: .now() + timeout.dispatchInterval) { [weak self] in
                guard let self, !self.isClosed, !self.isActive else { return }
                self.close(reason: .handshakeTimeout)
            }
        }
        if let tls {
            // A client speaks first; a server waits for the ClientHello.
            if tls.isClient { runEvent { advanceHandshake() } }
        } else {
            becomeActive()
        }
    }

    /// Runs `body` on the connection's queue with the connection; safe from any thread. Frames sent
    /// inside are flushed together at the end.
    public func execute(_ body: @escaping @Sendable (Connection) -> Void) {
        loop.queue.async { [self] in runEvent { body(self) } }
    }

    /// Runs an event's work, then flushes once; frames it appended to other connections of the
    /// loop are written when the loop's outermost event ends.
    @inline(__always)
    private func runEvent(_ body: () -> Void) {
        inEvent = true
        loop.eventDepth += 1
        body()
        inEvent = false
        if !isClosed { flush() }
        loop.endEvent()
    }

    // MARK: Reading

    private func readable() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        runEvent {
            // A bounded number of reads per event keeps one busy peer from starving the loop's others.
            for _ in 0..<4 {
                let count = read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count)
                if count > 0 {
                    lastActivity = DispatchTime.now().uptimeNanoseconds
                    received(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<count]))
                    if isClosed || readSuspended || count < loop.readBuffer.count { return }
                    continue
                }
                if count == 0 {
                    peerClosed()
                    return
                }
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: return
                case ECONNRESET: close(reason: .peerClosed)
                default: close(reason: .io(SocketError("read")))
                }
                return
            }
        }
    }

    /// The peer half-closed: answer what is queued, then close.
    private func peerClosed() {
        suspendReading()
        if outbound.isEmpty && tlsPlaintext.isEmpty && (tls?.hasPendingOutput != true) {
            finishClose(reason: .peerClosed)
        } else {
            closeAfterFlush = .peerClosed
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        if let tls {
            do throws(TLSError) {
                try tls.feed(bytes)
                if !tls.isHandshakeComplete {
                    advanceHandshake()
                    if !tls.isHandshakeComplete || isClosed { return }
                }
                if try tls.readPlaintext(into: loop.plaintextBuffer, { plaintext in deliver(plaintext) }) {
                    peerClosed()
                }
            } catch {
                close(reason: .tls(error))
            }
            drainTLSOutput()
        } else {
            deliver(bytes)
        }
    }

    private func advanceHandshake() {
        guard let tls else { return }
        do throws(TLSError) {
            if try tls.handshake() { becomeActive() }
        } catch {
            drainTLSOutput()
            flush()
            close(reason: .tls(error))
            return
        }
        drainTLSOutput()
    }

    private func becomeActive() {
        isActive = true
        handlers?.onActive(self)
    }

    /// Splits plaintext into frames and hands each to the handler, in place when possible.
    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        delivering = true
        defer { delivering = false }
        do throws(FramingError) {
            try decoder.decode(bytes) { frame in handle(frame) }
        } catch {
            close(reason: .framing(error))
        }
    }

    /// Answers a keep-alive or passes a frame on; false when delivery must stop (paused or closed).
    private func handle(_ frame: Frame) -> Bool {
        if frame.payload.isEmpty {
            if format.keepAlive == .echo { reply(payload: frame.payload, to: frame.header) }
        } else {
            handlers?.onFrame(self, frame)
        }
        return !isClosed && !readPausedByUser
    }

    /// Stops reading until ``resumeReading()``: backpressure from whoever this connection feeds.
    public func pauseReading() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        readPausedByUser = true
        suspendReading()
    }

    /// Resumes reading after ``pauseReading()``, delivering frames already buffered first.
    public func resumeReading() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard readPausedByUser, !isClosed else { return }
        readPausedByUser = false
        // Inside a frame callback the decoder is mid-call and carries on by itself.
        if !delivering && decoder.pendingCount > 0 {
            runEvent {
                delivering = true
                defer { delivering = false }
                do throws(FramingError) {
                    try decoder.drain { frame in handle(frame) }
                } catch {
                    close(reason: .framing(error))
                }
            }
        }
        if closeAfterFlush == nil && !readPausedByUser && readSuspended {
            readSuspended = false
            readSource?.resume()
        }
    }

    private func suspendReading() {
        guard !readSuspended, let readSource else { return }
        readSuspended = true
        readSource.suspend()
    }

    // MARK: Writing

    /// Sends one frame: the payload with the format's prefix, header and trailer. On the queue.
    ///
    /// - Parameter header: The header or TPDU to send (zeros when nil and the format has one).
    /// - Throws: When the payload cannot be framed (too large): nothing is sent.
    public func send(payload: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer? = nil) throws(FramingError) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        // After a local close nothing new goes out; answers to frames read before a peer's EOF still do.
        guard !isClosed, closeAfterFlush != .local else { return }
        let frameCount = format.frameCount(payloadCount: payload.count)
        if tls != nil {
            try format.checkFits(payloadCount: payload.count)
            // Framed as plaintext now, encrypted with the event's other frames when it flushes:
            // one SSL_write (and TLS record) for a burst instead of one per frame.
            try tlsPlaintext.append(byteCount: frameCount) { output throws(FramingError) in
                try format.writeFrame(payload: payload, header: header, into: output)
            }
        } else {
            try outbound.append(byteCount: frameCount) { output throws(FramingError) in
                try format.writeFrame(payload: payload, header: header, into: output)
            }
        }
        afterAppend()
    }

    /// Answers a received frame: a TPDU header is swapped, other headers echoed.
    public func reply(payload: UnsafeRawBufferPointer, to header: UnsafeRawBufferPointer) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        withUnsafeTemporaryAllocation(byteCount: max(header.count, 1), alignment: 1) { swapped in
            let replyHeader = UnsafeMutableRawBufferPointer(rebasing: swapped[0..<header.count])
            format.replyHeader(to: header, into: replyHeader)
            do throws(FramingError) {
                try send(payload: payload, header: UnsafeRawBufferPointer(replyHeader))
            } catch {
                // An echo can always be framed like the frame it answers; anything else is a local bug.
                close(reason: .framing(error))
            }
        }
    }

    /// Sends a frame from any thread: at once on the connection's queue (written when the loop's
    /// current event ends), else handed to its loop, which sends such frames in batches. A frame
    /// that cannot be framed (too large) is dropped, as ``send(payload:header:)`` would refuse it.
    public func sendFromAnyThread(_ payload: [UInt8], header: [UInt8]? = nil) {
        handOver(HandedOverFrame(connection: self, payload: payload, header: header, isReply: false))
    }

    /// Answers a received frame from any thread, like ``reply(payload:to:)`` (a TPDU is swapped),
    /// at once on the connection's queue and otherwise handed to its loop like ``sendFromAnyThread(_:header:)``.
    public func replyFromAnyThread(_ payload: [UInt8], to header: [UInt8]) {
        handOver(HandedOverFrame(connection: self, payload: payload, header: header, isReply: true))
    }

    private func handOver(_ frame: HandedOverFrame) {
        if loop.isCurrent {
            sendHandedOver(frame)
        } else {
            loop.hand(frame)
        }
    }

    /// Sends a handed-over frame, on the queue.
    func sendHandedOver(_ frame: HandedOverFrame) {
        frame.payload.withUnsafeBytes { payload in
            guard let header = frame.header else { try? send(payload: payload); return }
            header.withUnsafeBytes { header in
                if frame.isReply {
                    reply(payload: payload, to: header)
                } else {
                    try? send(payload: payload, header: header)
                }
            }
        }
    }

    /// Encrypts the frames sent since the last flush into the outbound buffer.
    private func encryptPlaintext() {
        guard !tlsPlaintext.isEmpty else { return }
        // Moved out first: a TLS failure closes the connection inside, which releases the buffers.
        var pending = OutboundBuffer()
        swap(&pending, &tlsPlaintext)
        pending.drainAll { writeTLS($0) }
        // Kept for the next burst unless the connection closed meanwhile.
        if tlsPlaintext.capacity == 0 && !isClosed { swap(&pending, &tlsPlaintext) }
        pending.release()
    }

    private func writeTLS(_ plaintext: UnsafeRawBufferPointer) {
        guard let tls else { return }
        do throws(TLSError) {
            try tls.write(plaintext)
        } catch {
            close(reason: .tls(error))
            return
        }
        drainTLSOutput()
    }

    private func drainTLSOutput() {
        // After close the outbound buffer is released; appending would allocate one nobody frees.
        guard !isClosed else { return }
        tls?.drainCiphertext { outbound.append($0) }
    }

    private func afterAppend() {
        let waiting = outbound.count + tlsPlaintext.count
        if waiting >= options.outboundLimit {
            close(reason: .peerNotReading)
            return
        }
        if isWritable && waiting > options.highWaterMark {
            isWritable = false
            handlers?.onWritabilityChanged(self, false)
        }
        if inEvent { return }
        if loop.eventDepth > 0 {
            // Inside another connection's event on this loop: one write when that event ends.
            if !isFlushQueued {
                isFlushQueued = true
                loop.pendingFlush.append(self)
            }
        } else {
            flush()
        }
    }

    /// Writes what an event of the loop appended (``EventLoop/endEvent()``).
    func flushQueued() {
        isFlushQueued = false
        if !isClosed { flush() }
    }

    /// Writes what is waiting, in one gathered call; arms the write source when the socket is full.
    private func flush() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed else { return }
        if tls != nil {
            encryptPlaintext()
            guard !isClosed else { return }
        }
        if !outbound.isEmpty {
            guard outbound.flush(to: fd) != nil else {
                close(reason: errno == EPIPE || errno == ECONNRESET ? .peerClosed : .io(SocketError("sendmsg")))
                return
            }
            lastActivity = DispatchTime.now().uptimeNanoseconds
        }
        if outbound.isEmpty {
            if !writeSuspended {
                writeSuspended = true
                writeSource?.suspend()
            }
            if let reason = closeAfterFlush {
                finishClose(reason: reason)
                return
            }
        } else if writeSuspended {
            armWriteSource()
        }
        if !isWritable && outbound.count < options.lowWaterMark {
            isWritable = true
            handlers?.onWritabilityChanged(self, true)
        }
    }

    private func armWriteSource() {
        if writeSource == nil {
            // Created on first need: most connections never fill their socket buffer.
            let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
            source.setEventHandler { [self] in runEvent {} }
            source.setCancelHandler { [self] in sourceCancelled() }
            writeSource = source
            liveSources += 1
        }
        writeSuspended = false
        writeSource?.resume()
    }

    // MARK: Closing

    /// Closes the connection; `onClose` runs once with `reason`. On the queue.
    ///
    /// A local close (the default reason) stops reading and first writes what is queued (with
    /// TLS, after close_notify), plain or TLS alike, waiting at most
    /// ``ConnectionOptions/closeFlushTimeout``; any other reason closes at once.
    public func close(reason: CloseReason = .local) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed else { return }
        if let source = connectSource {
            // Closed while connecting: the connect source's cancel handler closes the fd.
            connectSource = nil
            source.cancel()
        }
        if handlers == nil, let pending = connectHandlers {
            handlers = pending
            connectHandlers = nil
        }
        // Already closing once flushed: that close stands.
        if reason == .local && closeAfterFlush != nil { return }
        guard reason == .local, isActive else { return finishClose(reason: reason) }
        if let tls {
            encryptPlaintext()
            if isClosed { return }
            tls.shutdown()
            drainTLSOutput()
        }
        _ = outbound.flush(to: fd)
        guard !outbound.isEmpty else { return finishClose(reason: reason) }
        suspendReading()
        closeAfterFlush = reason
        isActive = false
        if writeSuspended { armWriteSource() }
        loop.queue.asyncAfter(deadline: .now() + options.closeFlushTimeout.dispatchInterval) { [self] in
            finishClose(reason: reason)
        }
    }

    /// Closes now, whatever is queued; `onClose` runs once.
    private func finishClose(reason: CloseReason) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed else { return }
        isClosed = true
        isActive = false
        loop.unwatchIdle(self)
        readSource?.cancel()
        writeSource?.cancel()
        // Cancelled sources must be resumed once to run their cancel handlers and be released.
        if readSuspended {
            readSuspended = false
            readSource?.resume()
        }
        if writeSuspended, writeSource != nil {
            writeSuspended = false
            writeSource?.resume()
        }
        if liveSources == 0 { Glibc.close(fd) }
        outbound.release()
        tlsPlaintext.release()
        onCloseInternal?()
        let handlers = self.handlers
        self.handlers = nil
        handlers?.onClose(self, reason)
    }

    func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 {
            readSource = nil
            writeSource = nil
            tls = nil
            Glibc.close(fd)
        }
    }

    /// Writes bytes straight to the socket, past TLS and framing: for tests that play a broken peer.
    @_spi(Testing)
    public func writeRawBytesForTesting(_ bytes: [UInt8]) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Writes bytes to the socket as they are, past framing, from any thread, after what
    /// is already queued (inside TLS when there is TLS): how a conformance replay plays a peer whose
    /// length prefix is broken.
    public func sendUnframedFromAnyThread(_ bytes: [UInt8]) {
        loop.queue.async { [self] in
            guard !isClosed, closeAfterFlush != .local else { return }
            // Through the same buffer as frames, so the bytes keep their place after them.
            if tls != nil {
                bytes.withUnsafeBytes { tlsPlaintext.append($0) }
            } else {
                bytes.withUnsafeBytes { outbound.append($0) }
            }
            afterAppend()
        }
    }

    /// Whether the idle timeout has passed (on the queue).
    func isIdle(now: UInt64) -> Bool {
        guard let timeout = options.idleTimeout else { return false }
        return now &- lastActivity > UInt64(timeout.nanoseconds)
    }

    /// Bytes waiting to be written (for tests and metrics).
    public var outboundCount: Int {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        return outbound.count
    }
}
