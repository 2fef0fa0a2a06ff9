import Foundation
import TestSupport
import Synchronization
import Testing
import Transport

/// Real loopback connections: framing, limits, closes, backpressure, reconnects.
@Suite(.serialized)
struct ConnectionTests {
    let group = EventLoopGroup(count: 2)

    func connect(_ port: UInt16, format: FrameFormat, observed: Observed, tls: TLSContext? = nil,
                 options: ConnectionOptions = ConnectionOptions(), timeout: Duration = .seconds(5)) throws -> Connection {
        try Connection.connect(host: "127.0.0.1", port: port, loop: group.nextLoop(), format: format, tls: tls,
                               options: options, timeout: timeout, handlers: observed.handlers(echo: false))
    }

    @Test(arguments: FrameFormat.presets.map(\.0))
    func everyPresetEchoesABurst(preset: String) throws {
        let format = FrameFormat.preset(named: preset)!
        let server = try EchoServer(group: group, format: format)
        let client = Observed()
        let connection = try connect(server.port, format: format, observed: client)
        #expect(eventually { client.activeCount == 1 })
        let payloads = (0..<50).map { index in (0..<(index * 37 % 700 + 1)).map { UInt8(truncatingIfNeeded: $0 + 4 + index) % 250 + 4 } }
        connection.execute { connection in
            for payload in payloads { payload.withUnsafeBytes { try? connection.send(payload: $0) } }
        }
        #expect(eventually { client.frames.count == payloads.count })
        #expect(client.frames == payloads)
        connection.execute { $0.close() }
        #expect(eventually { server.observed.closes == [.peerClosed] })
        server.listener.stop()
    }

    @Test func oversizeFrameClosesTheConnectionWithAReason() throws {
        var format = FrameFormat.bin2
        format.maximumFrameSize = 1024
        let server = try EchoServer(group: group, format: format)
        let client = Observed()
        var big = FrameFormat.bin2
        big.maximumFrameSize = 1 << 20
        let connection = try connect(server.port, format: big, observed: client)
        #expect(eventually { client.activeCount == 1 })
        let payload = [UInt8](repeating: 0x41, count: 5000)
        connection.execute { connection in payload.withUnsafeBytes { try? connection.send(payload: $0) } }
        #expect(eventually { server.observed.closes.count == 1 })
        guard case .framing(let error)? = server.observed.closes.first else {
            Issue.record("expected a framing close, got \(server.observed.closes)")
            return
        }
        #expect(error.kind == .frameTooLarge)
        #expect(server.observed.frames.isEmpty)
        #expect(eventually { client.closes == [.peerClosed] })
    }

    @Test func peerClosingMidFrameDeliversNothing() throws {
        let server = try EchoServer(group: group, format: .bin2)
        let fd = try RawClient.connect(server.port)
        RawClient.send(fd, [0x00, 0x10, 1, 2, 3])  // announces 16 bytes, sends 3
        close(fd)
        #expect(eventually { server.observed.closes == [.peerClosed] })
        #expect(server.observed.frames.isEmpty)
    }

    @Test(arguments: [FrameFormat.KeepAlive.echo, .ignore])
    func keepAliveIsAnsweredOrIgnoredAndNeverDelivered(mode: FrameFormat.KeepAlive) throws {
        var format = FrameFormat.bin2
        format.keepAlive = mode
        let server = try EchoServer(group: group, format: format)
        let fd = try RawClient.connect(server.port)
        defer { close(fd) }
        // A keep-alive, then a real frame: the answer to the frame proves the keep-alive was handled first.
        RawClient.send(fd, [0x00, 0x00, 0x00, 0x02, 0x41, 0x42])
        let expected: [UInt8] = (mode == .echo ? [0x00, 0x00] : []) + [0x00, 0x02, 0x41, 0x42]
        #expect(RawClient.receive(fd, count: expected.count) == expected)
        #expect(server.observed.frames == [[0x41, 0x42]])
    }

    @Test func thousandConcurrentConnections() throws {
        // All from 127.0.0.1: the per-address limit is loosened on purpose.
        let server = try EchoServer(group: group, format: .bin2, options: ListenerOptions(maximumConnectionsPerAddress: 1000))
        let client = Observed()
        var connections: [Connection] = []
        // A generous connect timeout: on a loaded 2-core machine a thousand handshakes can queue.
        for _ in 0..<1000 { connections.append(try connect(server.port, format: .bin2, observed: client, timeout: .seconds(60))) }
        #expect(eventually(within: 60) { client.activeCount == 1000 }, "closes: \(client.closes.prefix(3))")
        // A connect completes in the kernel before the server has accepted it: wait for the server too.
        #expect(eventually { server.listener.connectionCount == 1000 })
        let message = Array("0200 hello from one of a thousand".utf8)
        for connection in connections {
            connection.execute { connection in
                for _ in 0..<5 { message.withUnsafeBytes { try? connection.send(payload: $0) } }
            }
        }
        #expect(eventually(within: 30) { client.frames.count == 5000 })
        #expect(client.frames.allSatisfy { $0 == message })
        for connection in connections { connection.execute { $0.close() } }
        #expect(eventually(within: 30) { server.listener.connectionCount == 0 })
        server.listener.stop()
    }

    @Test func listenerLimitsRefuseExtraConnections() throws {
        let server = try EchoServer(group: group, format: .bin2, options: ListenerOptions(maximumConnections: 3))
        let client = Observed()
        var connections: [Connection] = []
        for _ in 0..<5 { connections.append(try connect(server.port, format: .bin2, observed: client)) }
        #expect(eventually { client.closes.count == 2 })
        #expect(server.listener.connectionCount == 3)
        for connection in connections { connection.execute { $0.close() } }
        #expect(eventually { server.listener.connectionCount == 0 })
    }

    @Test func idleConnectionIsClosed() throws {
        let options = ListenerOptions(connection: ConnectionOptions(idleTimeout: .milliseconds(300)))
        let server = try EchoServer(group: group, format: .bin2, options: options)
        let client = Observed()
        _ = try connect(server.port, format: .bin2, observed: client)
        #expect(eventually { server.observed.closes == [.idleTimeout] })
        #expect(eventually { client.closes == [.peerClosed] })
    }

    @Test func slowReaderStopsTheWriterAndIsCutOff() throws {
        // The server floods a client that never reads: writability drops, then the hard limit closes it.
        let flood = Observed()
        let options = ConnectionOptions(highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024, outboundLimit: 1 << 20)
        let listener = Listener(group: group, format: .bin4, options: ListenerOptions(connection: options)) { _ in
            var handlers = flood.handlers(echo: false)
            handlers.onActive = { connection in
                let chunk = [UInt8](repeating: 0x55, count: 32 * 1024)
                for _ in 0..<200 { chunk.withUnsafeBytes { try? connection.send(payload: $0) } }
            }
            return handlers
        }
        let port = try listener.start()
        let fd = try RawClient.connect(port, receiveBuffer: 4096)
        defer { close(fd) }
        #expect(eventually { flood.closes == [.peerNotReading] })
        #expect(flood.state.withLock { $0.writability.first } == false)
        listener.stop()
    }

    @Test func outboundLinkReconnectsWithBackoff() throws {
        // Find a free port, then start the listener on it only after the link has failed a few times.
        let probe = try EchoServer(group: group, format: .bin2)
        let port = probe.port
        probe.listener.stop()
        usleep(20_000)
        let client = Observed()
        let link = OutboundLink(host: "127.0.0.1", port: port, loop: group.nextLoop(), format: .bin2,
                                connectTimeout: .milliseconds(500), backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))) { _ in
            client.handlers(echo: false)
        }
        link.start()
        #expect(eventually { client.closes.count >= 2 })
        let server = try EchoServer(group: group, format: .bin2, options: ListenerOptions(port: port))
        #expect(eventually { client.activeCount == 1 })
        #expect(client.closes.allSatisfy { if case .connectFailed = $0 { true } else { false } })
        link.stop()
        #expect(eventually { server.observed.closes.count == 1 })
        server.listener.stop()
    }

    @Test func backoffGrowsCapsAndJitters() {
        var random = SystemRandomNumberGenerator()
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), multiplier: 2, jitter: 0.5)
        let delays = (0..<8).map { backoff.delay(attempt: $0, using: &random) }
        #expect(delays[0] <= .milliseconds(100) && delays[0] >= .milliseconds(50))
        #expect(delays[3] <= .milliseconds(800) && delays[3] >= .milliseconds(400))
        #expect(delays[7] <= .seconds(2) && delays[7] >= .seconds(1))
    }
}

/// Backpressure end to end: an echo server that pauses reading while its peer does not read.
@Suite(.serialized)
struct BackpressureTests {
    let group = EventLoopGroup(count: 2)

    @Test func echoServerPausesWhileThePeerDoesNotReadAndResumesAfter() throws {
        let observed = Observed()
        // Small kernel buffers, so our own buffer (not the kernel's) is what fills.
        let options = ConnectionOptions(highWaterMark: 32 * 1024, lowWaterMark: 8 * 1024, outboundLimit: 8 << 20, socketBufferSize: 8192)
        let listener = Listener(group: group, format: .bin2, options: ListenerOptions(connection: options)) { _ in
            var handlers = observed.handlers(echo: true)
            let record = handlers.onWritabilityChanged
            handlers.onWritabilityChanged = { connection, writable in
                record(connection, writable)
                // The feeder here is the connection itself: stop taking requests while answers pile up.
                if writable { connection.resumeReading() } else { connection.pauseReading() }
            }
            return handlers
        }
        let port = try listener.start()
        defer { listener.stop() }
        let fd = try RawClient.connect(port, receiveBuffer: 4096)
        defer { close(fd) }
        // 300 requests of 1 KiB, sent without reading a single answer.
        let frame: [UInt8] = [0x04, 0x00] + [UInt8](repeating: 0x42, count: 1024)
        var bytes: [UInt8] = []
        for _ in 0..<300 { bytes += frame }
        let stream = bytes
        let writer = Thread {
            var offset = 0
            while offset < stream.count {
                let n = stream[offset...].withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, 65536), Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                offset += n
            }
        }
        writer.start()
        #expect(eventually { observed.state.withLock { $0.writability.first } == false })
        usleep(200_000)
        let stalled = observed.frames.count
        usleep(200_000)
        // Paused: the server takes nothing more while its answers cannot go out, long before all
        // 300 requests (without the pause it would read them all into its 8 MiB buffer).
        #expect(observed.frames.count == stalled)
        #expect(stalled < 250)
        // Now read everything: the server resumes and answers all 300.
        let echoes = RawClient.receive(fd, count: 300 * frame.count)
        #expect(echoes.count == 300 * frame.count)
        #expect(observed.frames.count == 300)
        #expect(observed.state.withLock { $0.writability.contains(true) })
        #expect(observed.closes.isEmpty)
    }

    /// Frames handed over from other threads are sent in batches (one queue hop and one write for
    /// many; through TLS, one encryption): every one arrives whole and in its sender's order.
    @Test(arguments: [false, true])
    func framesHandedOverFromOtherThreadsArriveInOrder(useTLS: Bool) throws {
        let serverTLS = try useTLS ? TLSContext(.server(certificateChainFile: TestCertificates.path("server.pem"),
                                                     privateKeyFile: TestCertificates.path("server.key"), clientCAFile: nil),
                                             isClient: false) : nil
        let clientTLS = try useTLS ? TLSContext(.client(trustedCAFile: TestCertificates.path("ca.pem"), serverName: "localhost",
                                                     certificateChainFile: nil, privateKeyFile: nil), isClient: true) : nil
        let server = try EchoServer(group: group, format: .bin2, tls: serverTLS)
        defer { server.listener.stop() }
        let client = Observed()
        let connection = try Connection.connect(host: "127.0.0.1", port: server.port, loop: group.nextLoop(), format: .bin2, tls: clientTLS,
                                                timeout: .seconds(5), handlers: client.handlers(echo: false))
        #expect(eventually { client.activeCount == 1 })
        let senders = 4, each = 500
        DispatchQueue.concurrentPerform(iterations: senders) { sender in
            for index in 0..<each { connection.sendFromAnyThread([UInt8(sender), UInt8(index >> 8), UInt8(index & 0xFF)]) }
        }
        #expect(eventually { client.frames.count == senders * each })
        let frames = client.frames
        for sender in 0..<senders {
            let sequence = frames.filter { $0.count == 3 && $0[0] == UInt8(sender) }.map { Int($0[1]) << 8 | Int($0[2]) }
            #expect(sequence == Array(0..<each))
        }
        connection.execute { $0.close() }
        #expect(eventually { server.observed.closes == [.peerClosed] })
    }
}
