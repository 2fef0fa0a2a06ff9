import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
@_spi(Testing) import Transport

/// Regressions from the hardening review: forwarding inside a frame callback, closes during a
/// connect, flushing on a local close, safe listener defaults, handshake timeouts, TLS leaks.
@Suite(.serialized)
struct TransportHardeningTests {
    static func serverTLS() throws -> TLSContext {
        try TLSContext(.server(certificateChainFile: TestCertificates.path("server.pem"), privateKeyFile: TestCertificates.path("server.key")),
                       isClient: false)
    }

    static func clientTLS() throws -> TLSContext {
        try TLSContext(.client(trustedCAFile: TestCertificates.path("ca.pem"), serverName: "localhost"), isClient: true)
    }

    /// The relay's upstream connection, made when the inbound one is active.
    final class Upstream: @unchecked Sendable {
        let lock = Mutex<Connection?>(nil)
        var connection: Connection? { lock.withLock { $0 } }
    }

    /// A relay forwards each frame it receives, copied as a switch re-encodes it, to an upstream
    /// connection on the same loop or another, inside the callback that delivered it. Once, a TLS
    /// upstream built its record in the loop's read buffer and overwrote the frames not yet
    /// delivered from it: 1 of 20 arrived.
    @Test(arguments: [false, true], [false, true])
    func forwardingInsideTheFrameCallbackKeepsEveryFrame(inboundTLS: Bool, upstreamTLS: Bool) throws {
        for sameLoop in [true, false] {
            let group = EventLoopGroup(count: 2)
            let upstreamServer = try EchoServer(group: group, format: .bin2, tls: upstreamTLS ? Self.serverTLS() : nil, echo: false)
            defer { upstreamServer.listener.stop() }
            let upstream = Upstream()
            let upstreamObserved = Observed()
            let upstreamTLSContext = upstreamTLS ? try Self.clientTLS() : nil
            let relay = Listener(group: group, format: .bin2, tls: inboundTLS ? try Self.serverTLS() : nil) { inbound in
                Connection.Handlers(
                    onFrame: { inbound, frame in
                        // A copy, as a switch that re-encodes: the payload is not in the read buffer.
                        let copy = Array(frame.payload)
                        guard let target = upstream.connection else { Issue.record("no upstream yet"); return }
                        if target.loop === inbound.loop {
                            copy.withUnsafeBytes { try? target.send(payload: $0) }
                        } else {
                            target.sendFromAnyThread(copy)
                        }
                    },
                    onActive: { inbound in
                        let loop = sameLoop ? inbound.loop : group.loops.first { $0 !== inbound.loop }!
                        let connection = try? Connection.connect(host: "127.0.0.1", port: upstreamServer.port, loop: loop, format: .bin2,
                                                                 tls: upstreamTLSContext, handlers: upstreamObserved.handlers(echo: false))
                        upstream.lock.withLock { $0 = connection }
                    })
            }
            let relayPort = try relay.start()
            defer { relay.stop() }
            let client = Observed()
            let connection = try Connection.connect(host: "127.0.0.1", port: relayPort, loop: group.loops[0], format: .bin2,
                                                    tls: inboundTLS ? try Self.clientTLS() : nil, handlers: client.handlers(echo: false))
            #expect(eventually { client.activeCount == 1 && upstreamObserved.activeCount == 1 })
            // 200 frames gathered into one write: many frames per read on the relay.
            let payloads = (0..<200).map { index in Array("frame \(index) ".utf8) + [UInt8](repeating: UInt8(index % 200 + 32), count: index % 90) }
            connection.execute { connection in
                for payload in payloads { payload.withUnsafeBytes { try? connection.send(payload: $0) } }
            }
            #expect(eventually { upstreamServer.observed.frames.count == payloads.count },
                    "inbound TLS \(inboundTLS), upstream TLS \(upstreamTLS), same loop \(sameLoop): \(upstreamServer.observed.frames.count) frames")
            #expect(upstreamServer.observed.frames == payloads, "same loop \(sameLoop)")
            connection.execute { $0.close() }
            upstream.connection?.execute { $0.close() }
            #expect(eventually { !client.closes.isEmpty })
        }
    }

    /// A listening socket that accepts nothing, its backlog full, so a connect to it stays in progress.
    struct StalledListener {
        let fd: Int32
        let port: UInt16
        let fillers: [Int32]

        init() throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let socket = fd
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
            listen(socket, 0)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
            port = UInt16(bigEndian: address.sin_port)
            // Linux queues backlog + 1 connections; the next waits in SYN retries.
            fillers = try (0..<1).map { _ in try RawClient.connect(UInt16(bigEndian: address.sin_port)) }
        }

        func close() {
            for filler in fillers { Foundation.close(filler) }
            Foundation.close(fd)
        }
    }

    /// A close during a connect used to close the fd under a registered source and never call onClose.
    @Test func closeDuringAConnectClosesOnce() throws {
        let stalled = try StalledListener()
        defer { stalled.close() }
        let group = EventLoopGroup(count: 1)
        let observed = Observed()
        let connection = try Connection.connect(host: "127.0.0.1", port: stalled.port, loop: group.loops[0], format: .bin2,
                                                timeout: .seconds(30), handlers: observed.handlers(echo: false))
        usleep(100_000)
        #expect(observed.activeCount == 0 && observed.closes.isEmpty, "the connect should still be in progress")
        connection.execute { $0.close() }
        #expect(eventually { observed.closes == [.local] })
        usleep(100_000)
        #expect(observed.closes == [.local] && observed.activeCount == 0)
    }

    /// `OutboundLink.stop()` during a connect left the link up once the connect finished.
    @Test func linkStoppedDuringAConnectStaysDown() throws {
        let stalled = try StalledListener()
        defer { stalled.close() }
        let group = EventLoopGroup(count: 1)
        let observed = Observed()
        let link = OutboundLink(host: "127.0.0.1", port: stalled.port, loop: group.loops[0], format: .bin2, connectTimeout: .seconds(30)) { _ in
            observed.handlers(echo: false)
        }
        link.start()
        usleep(100_000)
        link.stop()
        // Let the stalled connects through: a connect still under way would now complete.
        _ = fcntl(stalled.fd, F_SETFL, fcntl(stalled.fd, F_GETFL) | O_NONBLOCK)
        for _ in 0..<4 {
            let accepted = accept(stalled.fd, nil, nil)
            if accepted >= 0 { Foundation.close(accepted) }
        }
        // A stalled connect completes at its next SYN retransmission, about a second after it began.
        #expect(!eventually(within: 2.5) { observed.activeCount > 0 })
        #expect(observed.closes.count == 1)
        let up = Mutex(true)
        let done = DispatchSemaphore(value: 0)
        group.loops[0].queue.async { up.withLock { $0 = link.connection != nil }; done.signal() }
        done.wait()
        #expect(up.withLock { $0 } == false)
    }

    /// A local close writes what is queued first, plain as TLS (plain dropped it).
    @Test(arguments: [false, true])
    func localCloseFlushesQueuedFrames(tls: Bool) throws {
        let group = EventLoopGroup(count: 1)
        let frameCount = 200, payload = [UInt8](repeating: 0x41, count: 8_000)
        let options = ConnectionOptions(socketBufferSize: 8192)
        let listener = Listener(group: group, format: .bin2, tls: tls ? try Self.serverTLS() : nil, options: ListenerOptions(connection: options)) { _ in
            Connection.Handlers(onFrame: { connection, _ in
                // 1.6 MB answered, then closed at once: far more than the socket takes in one go.
                payload.withUnsafeBytes { bytes in
                    for _ in 0..<frameCount { try? connection.send(payload: bytes) }
                }
                connection.close()
            })
        }
        let port = try listener.start()
        defer { listener.stop() }
        let client = Observed()
        let connection = try Connection.connect(host: "127.0.0.1", port: port, loop: group.loops[0], format: .bin2,
                                                tls: tls ? try Self.clientTLS() : nil, handlers: client.handlers(echo: false))
        #expect(eventually { client.activeCount == 1 })
        connection.execute { connection in Array("go".utf8).withUnsafeBytes { try? connection.send(payload: $0) } }
        #expect(eventually { !client.closes.isEmpty })
        #expect(client.frames.count == frameCount)
        #expect(client.closes == [.peerClosed])
    }

    @Test func listenerDefaultsAreSafeForTheInternet() {
        let options = ListenerOptions()
        #expect((8...99).contains(options.maximumConnectionsPerAddress))
        #expect(options.connection.idleTimeout.map { $0 <= .seconds(300) } == true)
        #expect(options.connection.handshakeTimeout.map { $0 <= .seconds(30) } == true)
    }

    /// One address cannot hold every slot: past the per-address limit, connections are refused.
    @Test func oneAddressCannotTakeEverySlot() throws {
        let group = EventLoopGroup(count: 1)
        let server = try EchoServer(group: group, format: .bin2)
        defer { server.listener.stop() }
        let limit = ListenerOptions.defaultMaximumConnectionsPerAddress
        let clients = try (0..<(limit + 8)).map { _ in try RawClient.connect(server.port) }
        defer { for fd in clients { close(fd) } }
        #expect(eventually { server.listener.connectionCount == limit })
        usleep(100_000)
        #expect(server.listener.connectionCount == limit)
    }

    /// A TLS client that connects and says nothing is cut off after the handshake timeout.
    @Test func silentTLSClientIsCutOffByTheHandshakeTimeout() throws {
        let group = EventLoopGroup(count: 1)
        var options = ListenerOptions()
        options.connection.handshakeTimeout = .milliseconds(300)
        let server = try EchoServer(group: group, format: .bin2, tls: Self.serverTLS(), options: options)
        defer { server.listener.stop() }
        let fd = try RawClient.connect(server.port)
        defer { close(fd) }
        #expect(eventually(within: 3) { server.observed.closes == [.handshakeTimeout] })
        #expect(RawClient.receive(fd, count: 1).isEmpty)
    }

    /// Connections that finish the handshake and then send garbage: each is closed with a TLS
    /// error, and (under LeakSanitizer, tools/sanitize.sh) none leaks its outbound buffer, which a
    /// close followed by a drain once re-allocated. PAYSWITCH_BAD_TLS_CONNECTIONS sets the count.
    @Test func garbageAfterTheHandshakeClosesWithATLSError() throws {
        let count = ProcessInfo.processInfo.environment["PAYSWITCH_BAD_TLS_CONNECTIONS"].flatMap(Int.init) ?? 200
        let group = EventLoopGroup(count: 2)
        var options = ListenerOptions()
        options.maximumConnectionsPerAddress = 1_000
        // Every close is a logged TLS failure: keep the test's output readable.
        var quiet = Logger(label: "payswitch.transport")
        quiet.logLevel = .critical
        let server = try EchoServer(group: group, format: .bin2, tls: Self.serverTLS(), options: options, logger: quiet)
        defer { server.listener.stop() }
        let clientTLS = try Self.clientTLS()
        let batch = 50
        var done = 0
        while done < count {
            let observed = Observed()
            let connections = try (0..<min(batch, count - done)).map { _ in
                try Connection.connect(host: "127.0.0.1", port: server.port, loop: group.nextLoop(), format: .bin2, tls: clientTLS,
                                       handlers: observed.handlers(echo: false))
            }
            #expect(eventually(within: 30) { observed.activeCount + observed.closes.count >= connections.count })
            // Past the handshake, write raw bytes that are no TLS record.
            for connection in connections { connection.execute { $0.writeRawBytesForTesting(Array(repeating: 0x17, count: 64)) } }
            #expect(eventually(within: 30) { observed.closes.count == connections.count })
            done += connections.count
        }
        #expect(eventually(within: 30) { server.observed.closes.count == count })
        #expect(server.observed.closes.allSatisfy { if case .tls = $0 { true } else { false } })
        #expect(eventually { server.listener.connectionCount == 0 })
    }
}
