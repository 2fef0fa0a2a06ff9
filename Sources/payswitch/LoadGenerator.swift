import Dispatch
import Foundation
import ISO8583
import Synchronization
import Transport

/// A closed-loop load generator over our own transport (plain or TLS).
///
/// Each connection keeps `window` frames in flight and sends the next on each answer; answers are
/// matched in order per connection, so latency is measured per frame.
final class LoadGenerator: Sendable {
    struct Result: CustomStringConvertible {
        let seconds: Double
        let completed: Int
        let errors: Int
        let latencies: [UInt64]

        var messagesPerSecond: Double { Double(completed) / seconds }

        func percentile(_ fraction: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]) / 1000
        }

        var description: String {
            String(format: "tps=%.0f p50_us=%.0f p99_us=%.0f p999_us=%.0f done=%d errors=%d",
                   messagesPerSecond, percentile(0.5), percentile(0.99), percentile(0.999), completed, errors)
        }
    }

    private struct Shared {
        var completed = 0
        var errors = 0
        var latencies: [UInt64] = []
        var active = 0
    }

    let port: UInt16
    let format: FrameFormat
    let tls: TLSContext?
    let connections: Int
    let window: Int
    let payload: [UInt8]
    let stanOffset: Int
    let group: EventLoopGroup
    private let shared = Mutex(Shared())
    private let stopped = Atomic<Bool>(false)
    private let stan = Atomic<Int>(0)

    init(port: UInt16, format: FrameFormat, tls: TLSContext?, connections: Int, window: Int, payload: [UInt8], stanOffset: Int, loops: Int) {
        self.port = port
        self.format = format
        self.tls = tls
        self.connections = connections
        self.window = window
        self.payload = payload
        self.stanOffset = stanOffset
        self.group = EventLoopGroup(count: loops)
    }

    func run(seconds: Double) throws -> Result {
        var opened: [Connection] = []
        for _ in 0..<connections {
            let state = PerConnection(window: window)
            opened.append(try Connection.connect(
                host: "127.0.0.1", port: port, loop: group.nextLoop(), format: format, tls: tls, timeout: .seconds(5),
                handlers: Connection.Handlers(
                    onFrame: { [self] connection, frame in answered(connection, frame, state) },
                    onClose: { [self] _, _ in
                        // A close before the end of the run is an error of the run.
                        if !stopped.load(ordering: .relaxed) { shared.withLock { $0.errors += 1 } }
                    },
                    onActive: { [self] connection in
                        shared.withLock { $0.active += 1 }
                        for _ in 0..<window { sendOne(connection, state) }
                    })))
        }
        // Count only after every connection is up.
        let deadline = Date().addingTimeInterval(10)
        while shared.withLock({ $0.active }) < connections && Date() < deadline { usleep(1000) }
        shared.withLock { $0.completed = 0; $0.latencies.removeAll() }
        let measuredStart = DispatchTime.now().uptimeNanoseconds
        usleep(UInt32(seconds * 1_000_000))
        stopped.store(true, ordering: .relaxed)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - measuredStart) / 1e9
        var result = shared.withLock { Result(seconds: elapsed, completed: $0.completed, errors: $0.errors, latencies: $0.latencies) }
        for connection in opened { connection.execute { $0.close() } }
        result = Result(seconds: result.seconds, completed: result.completed, errors: result.errors, latencies: result.latencies.sorted())
        return result
    }

    /// In-flight send times of one connection (touched only on its queue).
    final class PerConnection: @unchecked Sendable {
        var sentAt: [UInt64]
        var head = 0
        var tail = 0
        var latencies: [UInt64] = []
        init(window: Int) { sentAt = [UInt64](repeating: 0, count: window) }
    }

    private func sendOne(_ connection: Connection, _ state: PerConnection) {
        var message = payload
        if stanOffset >= 0 && stanOffset + 6 <= message.count {
            var value = stan.add(1, ordering: .relaxed).newValue % 1_000_000
            for index in stride(from: stanOffset + 5, through: stanOffset, by: -1) {
                message[index] = UInt8(0x30 + value % 10)
                value /= 10
            }
        }
        state.sentAt[state.tail % window] = DispatchTime.now().uptimeNanoseconds
        state.tail += 1
        message.withUnsafeBytes { try? connection.send(payload: $0) }
    }

    private func answered(_ connection: Connection, _ frame: Frame, _ state: PerConnection) {
        let now = DispatchTime.now().uptimeNanoseconds
        let latency = now - state.sentAt[state.head % window]
        state.head += 1
        state.latencies.append(latency)
        if state.latencies.count >= 256 { flushStats(state) }
        if !stopped.load(ordering: .relaxed) { sendOne(connection, state) } else { flushStats(state) }
    }

    private func flushStats(_ state: PerConnection) {
        let batch = state.latencies
        state.latencies.removeAll(keepingCapacity: true)
        guard !batch.isEmpty else { return }
        shared.withLock { shared in
            shared.completed += batch.count
            if shared.latencies.count < 20_000_000 { shared.latencies.append(contentsOf: batch) }
        }
    }

    /// The sample 0200 in iso87ascii, when no template is given.
    static let sample0200: [UInt8] = (try? SampleMessages.financialRequest.encoded(as: Dialect.shipped("iso87ascii"))) ?? Array("0200".utf8)
}
