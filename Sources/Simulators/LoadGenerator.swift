import Dispatch
import Foundation
import Histogram
public import Logging
import Synchronization
public import Transport

/// Drives a host with requests over many connections, open or closed loop, matches every answer
/// to its request and reports throughput, HDR latency and every kind of failure.
///
/// Each connection is confined to its loop's queue: its in-flight table, histogram and counters
/// are touched only there, and read at the end (and once a second for progress) with `sync`.
public final class LoadGenerator<Exchange: LoadExchange>: Sendable {
    public typealias Configuration = LoadConfiguration

    public let configuration: Configuration
    let exchange: Exchange
    let logger: Logger
    let group: EventLoopGroup
    /// The next sequence number to send.
    private let sequence = Atomic<Int>(0)
    private let sending = Atomic<Bool>(true)
    private let outstanding = Atomic<Int>(0)
    private let stopRequested = Atomic<Bool>(false)
    /// The cumulative weights of the variants, for drawing one.
    let cumulativeWeights: [Int]

    public init(_ configuration: Configuration, exchange: Exchange, logger: Logger = Logger(label: "payswitch.sim.load")) {
        self.configuration = configuration
        self.exchange = exchange
        self.logger = logger
        self.group = EventLoopGroup(count: configuration.loops)
        var total = 0
        cumulativeWeights = exchange.weights.map { weight in
            total += max(weight, 0)
            return total
        }
    }

    /// Asks a running ``run(progress:)`` to stop sending and report (from a signal handler's queue).
    public func requestStop() { stopRequested.store(true, ordering: .relaxed) }

    /// Connects, sends until the limit, waits for the last answers (at most the timeout) and reports.
    /// `progress` is called about once a second from the calling thread.
    public func run(progress: ((LoadProgress) -> Void)? = nil) -> LoadReport {
        let clients = (0..<max(configuration.connections, 1)).map { index in
            Client(generator: self, random: SimulatorRandom(seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        }
        var connectFailures = 0
        var connectProblems: [String] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for client in clients {
            do {
                try client.connect()
            } catch {
                connectFailures += 1
                if connectProblems.count < 5 { connectProblems.append("\(error)") }
            }
        }
        // Wait (bounded) for every connection to be up before the clock starts counting.
        let upBy = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
        while clients.contains(where: { $0.isConnecting }) && DispatchTime.now().uptimeNanoseconds < upBy { usleep(1000) }
        let sendStart = DispatchTime.now().uptimeNanoseconds
        for client in clients { client.begin(at: sendStart) }

        var lastProgress = sendStart
        let timeout = UInt64(configuration.timeoutMilliseconds * 1_000_000)
        while true {
            usleep(10_000)
            let now = DispatchTime.now().uptimeNanoseconds
            let stopSending: Bool
            switch configuration.limit {
            case .seconds(let seconds): stopSending = Double(now - sendStart) / 1e9 >= seconds
            case .count(let count): stopSending = sequence.load(ordering: .relaxed) >= count
            }
            if stopSending || stopRequested.load(ordering: .relaxed) || clients.allSatisfy({ $0.isClosed }) { break }
            if let progress, now - lastProgress >= 1_000_000_000 {
                progress(LoadGenerator.progress(of: clients, seconds: Double(now - lastProgress) / 1e9, total: Double(now - sendStart) / 1e9))
                lastProgress = now
            }
        }
        sending.store(false, ordering: .relaxed)
        // A send that read `sending` as true just before may not have counted itself in
        // `outstanding` yet; once each client's queue has run past it, the drain below sees it.
        for client in clients { client.barrier() }
        let sendEnd = DispatchTime.now().uptimeNanoseconds
        // Drain: the answers still on their way, for at most one timeout.
        let drainBy = sendEnd + timeout + 50_000_000
        while outstanding.load(ordering: .relaxed) > 0 && DispatchTime.now().uptimeNanoseconds < drainBy && !clients.allSatisfy({ $0.isClosed }) {
            usleep(1000)
        }
        var report = LoadReport()
        report.connections = configuration.connections
        report.connectFailures = connectFailures
        report.problems = connectProblems
        for client in clients { client.finish(into: &report) }
        let end = max(report.lastAnswerAt, sendStart + 1)
        report.seconds = Double(max(end, sendEnd) - sendStart) / 1e9
        report.sendingSeconds = Double(sendEnd - sendStart) / 1e9
        report.totalSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    // MARK: Per connection

    /// One connection's state, confined to its loop's queue.
    final class Client: @unchecked Sendable {
        unowned let generator: LoadGenerator
        var random: SimulatorRandom
        var connection: Connection?
        var buffer: [UInt8] = []
        var inFlight: [Int: (sentAt: UInt64, variant: Int)] = [:]
        /// Requests that timed out, so a late answer is told apart from a stray one.
        var expired: Set<Int> = []
        var stats = LoadReport.Counts()
        var interval = LoadReport.Counts()
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var intervalHistogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        var codes: [ResponseCode: Int] = [:]
        var mismatches: [String] = []
        var lastAnswerAt: UInt64 = 0
        var timer: (any DispatchSourceTimer)?
        var openLoopStart: UInt64 = 0
        var openLoopSent = 0
        let state = Atomic<Int>(0)  // 0 connecting, 1 active, 2 closed

        init(generator: LoadGenerator, random: SimulatorRandom) {
            self.generator = generator
            self.random = random
        }

        var isConnecting: Bool { state.load(ordering: .relaxed) == 0 }
        var isClosed: Bool { state.load(ordering: .relaxed) == 2 }

        func connect() throws {
            let configuration = generator.configuration
            do {
                connection = try Connection.connect(
                    host: configuration.host, port: configuration.port, loop: generator.group.nextLoop(), format: configuration.format,
                    tls: configuration.tls, timeout: .seconds(5),
                    handlers: Connection.Handlers(
                        onFrame: { [self] _, frame in answered(frame) },
                        onClose: { [self] _, reason in closed(reason) },
                        onActive: { [self] _ in state.store(1, ordering: .relaxed) }))
            } catch {
                state.store(2, ordering: .relaxed)
                throw error
            }
        }

        /// Starts sending (closed loop: the window; open loop: the pacing timer) and the timeout sweep.
        func begin(at start: UInt64) {
            guard let connection, !isClosed else { return }
            connection.execute { [self] connection in
                let configuration = generator.configuration
                let timer = DispatchSource.makeTimerSource(queue: connection.loop.queue)
                switch configuration.mode {
                case .closedLoop(let window):
                    for _ in 0..<max(window, 1) { sendNext() }
                    timer.schedule(deadline: .now() + .milliseconds(10), repeating: .milliseconds(10))
                    timer.setEventHandler { [self] in sweep() }
                case .openLoop(let perSecond):
                    openLoopStart = start
                    let share = perSecond / Double(max(configuration.connections, 1))
                    timer.schedule(deadline: .now(), repeating: .milliseconds(1))
                    timer.setEventHandler { [self] in
                        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - openLoopStart) / 1e9
                        // Catch up after a stall, but never by more than 100 ms worth at once.
                        let due = min(Int(elapsed * share) - openLoopSent, max(Int(share / 10), 1))
                        if due > 0 { for _ in 0..<due { sendNext() } }
                        openLoopSent += max(due, 0)
                        sweep()
                    }
                }
                self.timer = timer
                timer.activate()
            }
        }

        func sendNext() {
            guard generator.sending.load(ordering: .relaxed), let connection, !isClosed else { return }
            let sequence = generator.sequence.add(1, ordering: .relaxed).oldValue
            if case .count(let count) = generator.configuration.limit, sequence >= count { return }
            let variant = drawVariant()
            generator.exchange.request(sequence, variant: variant, into: &buffer)
            inFlight[sequence] = (DispatchTime.now().uptimeNanoseconds, variant)
            generator.outstanding.add(1, ordering: .relaxed)
            stats.sent += 1
            let sent = buffer.withUnsafeBytes { bytes in (try? connection.send(payload: bytes)) != nil }
            if !sent {
                inFlight[sequence] = nil
                generator.outstanding.subtract(1, ordering: .relaxed)
                stats.sendFailures += 1
                interval.sendFailures += 1
            }
        }

        private func drawVariant() -> Int {
            let weights = generator.cumulativeWeights
            guard weights.count > 1, let total = weights.last, total > 0 else { return 0 }
            let draw = Int(random.next() % UInt64(total))
            return weights.firstIndex { draw < $0 } ?? 0
        }

        func answered(_ frame: Frame) {
            let now = DispatchTime.now().uptimeNanoseconds
            switch generator.exchange.read(frame.payload) {
            case .undecodable(let reason):
                stats.undecodable += 1
                interval.undecodable += 1
                if mismatches.count < 5 { mismatches.append("undecodable answer: \(reason)") }
            case .answer(let sequence, let answer):
                guard let request = inFlight.removeValue(forKey: sequence) else {
                    if expired.remove(sequence) != nil {
                        stats.late += 1
                        interval.late += 1
                    } else {
                        stats.unexpected += 1
                        interval.unexpected += 1
                    }
                    return
                }
                generator.outstanding.subtract(1, ordering: .relaxed)
                let latency = now - request.sentAt
                _ = histogram.record(latency)
                _ = intervalHistogram.record(latency)
                lastAnswerAt = now
                codes[generator.exchange.code(answer), default: 0] += 1
                if let problem = generator.exchange.mismatch(answer, sequence: sequence, variant: request.variant) {
                    stats.mismatched += 1
                    interval.mismatched += 1
                    if mismatches.count < 5 { mismatches.append("request \(sequence): \(problem)") }
                } else {
                    stats.matched += 1
                    interval.matched += 1
                }
                if case .closedLoop = generator.configuration.mode { sendNext() }
            }
        }

        /// Counts the requests past their timeout (and, in a closed loop, sends their replacements).
        func sweep() {
            let now = DispatchTime.now().uptimeNanoseconds
            let timeout = UInt64(generator.configuration.timeoutMilliseconds * 1_000_000)
            guard !inFlight.isEmpty else { return }
            var replacements = 0
            for (sequence, request) in inFlight where now - request.sentAt > timeout {
                inFlight[sequence] = nil
                if expired.count < 1_000_000 { expired.insert(sequence) }
                generator.outstanding.subtract(1, ordering: .relaxed)
                stats.timedOut += 1
                interval.timedOut += 1
                replacements += 1
            }
            if case .closedLoop = generator.configuration.mode {
                for _ in 0..<replacements { sendNext() }
            }
        }

        func closed(_ reason: CloseReason) {
            let lost = inFlight.count
            inFlight.removeAll()
            generator.outstanding.subtract(lost, ordering: .relaxed)
            stats.lostOnClose += lost
            interval.lostOnClose += lost
            if generator.sending.load(ordering: .relaxed) {
                stats.closedByPeer += 1
                if mismatches.count < 5 { mismatches.append("connection closed while sending: \(reason)") }
            }
            timer?.cancel()
            timer = nil
            state.store(2, ordering: .relaxed)
        }

        /// Returns once everything queued on this connection's loop before the call has run.
        func barrier() {
            connection?.loop.queue.sync {}
        }

        /// Adds this connection's figures to `report` and closes it.
        func finish(into report: inout LoadReport) {
            guard let connection else { return }
            let take = { [self] in
                timer?.cancel()
                timer = nil
                // What is still unanswered after the drain has timed out.
                stats.timedOut += inFlight.count
                inFlight.removeAll()
                report.add(stats, histogram: histogram, codes: codes, problems: mismatches, lastAnswerAt: lastAnswerAt)
                connection.close()
            }
            connection.loop.queue.sync(execute: take)
        }

        /// The interval's figures since the last call (progress line).
        func takeInterval() -> (LoadReport.Counts, Histogram<UInt64>) {
            guard let connection else { return (LoadReport.Counts(), intervalHistogram) }
            return connection.loop.queue.sync {
                let taken = (interval, intervalHistogram)
                interval = LoadReport.Counts()
                intervalHistogram.reset()
                return taken
            }
        }
    }

    /// Sums the clients' figures since the last call into a progress line.
    static func progress(of clients: [Client], seconds: Double, total: Double) -> LoadProgress {
        var counts = LoadReport.Counts()
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        for client in clients {
            let (interval, part) = client.takeInterval()
            counts.add(interval)
            histogram.add(part)
        }
        return LoadProgress(elapsedSeconds: total, answersPerSecond: Double(counts.matched + counts.mismatched) / max(seconds, 1e-9),
                            errors: counts.failures, p99Microseconds: Double(histogram.valueAtPercentile(99)) / 1000)
    }
}

/// How a ``LoadGenerator`` runs: where to, how many connections, open or closed loop, how long.
public struct LoadConfiguration: Sendable {
    /// Closed loop keeps `window` requests in flight per connection; open loop sends at a
    /// fixed total rate whatever the answers do.
    public enum Mode: Sendable, Equatable {
        case closedLoop(window: Int)
        case openLoop(perSecond: Double)
    }

    /// When to stop sending.
    public enum Limit: Sendable, Equatable {
        case seconds(Double)
        case count(Int)
    }

    public var host: String
    public var port: UInt16
    public var format: FrameFormat
    public var tls: TLSContext?
    public var connections: Int
    public var mode: Mode
    public var limit: Limit
    /// How long an answer may take before its request counts as timed out.
    public var timeoutMilliseconds: Double
    public var loops: Int
    public var seed: UInt64

    public init(host: String = "127.0.0.1", port: UInt16, format: FrameFormat, tls: TLSContext? = nil, connections: Int = 1,
                mode: Mode = .closedLoop(window: 1), limit: Limit = .count(1), timeoutMilliseconds: Double = 5_000,
                loops: Int = EventLoopGroup.defaultCount, seed: UInt64 = 1) {
        self.host = host
        self.port = port
        self.format = format
        self.tls = tls
        self.connections = connections
        self.mode = mode
        self.limit = limit
        self.timeoutMilliseconds = timeoutMilliseconds
        self.loops = loops
        self.seed = seed
    }
}

/// One progress line's figures.
public struct LoadProgress: Sendable {
    public var elapsedSeconds: Double
    public var answersPerSecond: Double
    public var errors: Int
    public var p99Microseconds: Double

    public var line: String {
        String(format: "%6.1fs  %9.0f TPS  errors %d  p99 %.0f µs", elapsedSeconds, answersPerSecond, errors, p99Microseconds)
    }
}
