import Dispatch
import Foundation
import Logging
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

    init(group: EventLoopGroup, format: FrameFormat, tls: TLSContext? = nil, options: ListenerOptions = ListenerOptions(), echo: Bool = true,
         logger: Logger = Logger(label: "payswitch.transport")) throws {
        let observed = self.observed
        listener = Listener(group: group, format: format, tls: tls, options: options, logger: logger) { _ in observed.handlers(echo: echo) }
        port = try listener.start()
    }
}

