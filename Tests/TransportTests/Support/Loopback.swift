import Dispatch
import Foundation
import Synchronization
import Transport

/// What a test side observed, shared across queues.
final class Observed: Sendable {
    struct State {
        var frames: [[UInt8]] = []
        var closes: [CloseReason] = []
        var active = 0
        var writability: [Bool] = []
    }

    let state = Mutex(State())

    var frames: [[UInt8]] { state.withLock { $0.frames } }
    var closes: [CloseReason] { state.withLock { $0.closes } }
    var activeCount: Int { state.withLock { $0.active } }

    /// Handlers that record everything; `echo` answers each frame with the same payload.
    func handlers(echo: Bool) -> Connection.Handlers {
        Connection.Handlers(
            onFrame: { connection, frame in
                self.state.withLock { $0.frames.append(Array(frame.payload)) }
                if echo { connection.reply(payload: frame.payload, to: frame.header) }
            },
            onClose: { _, reason in self.state.withLock { $0.closes.append(reason) } },
            onActive: { _ in self.state.withLock { $0.active += 1 } },
            onWritabilityChanged: { _, writable in self.state.withLock { $0.writability.append(writable) } })
    }
}

/// Polls `condition` every 2 ms until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}

/// An echo listener on 127.0.0.1 and a place to see what it saw.
struct EchoServer {
    let listener: Listener
    let port: UInt16
    let observed = Observed()

    init(group: EventLoopGroup, format: FrameFormat, tls: TLSContext? = nil, options: ListenerOptions = ListenerOptions(), echo: Bool = true) throws {
        let observed = self.observed
        listener = Listener(group: group, format: format, tls: tls, options: options) { _ in observed.handlers(echo: echo) }
        port = try listener.start()
    }
}

/// A plain blocking socket, for peers that must misbehave in ways our own Connection never would.
enum RawClient {
    struct Failure: Error {}

    static func connect(_ port: UInt16, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw Failure() }
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads exactly `count` bytes, or what arrived before the 5 s receive timeout or EOF.
    static func receive(_ fd: Int32, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}
