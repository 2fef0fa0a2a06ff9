import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ISO20022
import ISO8583
import Synchronization
public import Transport

/// How a replay runs.
public struct ReplayOptions: Sendable {
    /// Ignore the recorded `at` times and send each frame as soon as the previous step is done.
    public var asFastAsPossible: Bool
    /// How long an expectation waits for its answer when the step names no `within`.
    public var defaultWithin: Duration
    public var connectTimeout: Duration
    /// TLS towards the target, when it listens with TLS.
    public var tls: TLSContext?
    /// Keep every frame sent and received (card data replaced) in ``SessionOutcome/exchanged``.
    public var keepsExchange: Bool

    public init(asFastAsPossible: Bool = false, defaultWithin: Duration = .seconds(5), connectTimeout: Duration = .seconds(5),
                tls: TLSContext? = nil, keepsExchange: Bool = false) {
        self.asFastAsPossible = asFastAsPossible
        self.defaultWithin = defaultWithin
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.keepsExchange = keepsExchange
    }
}

/// What happened at one step of a replayed session.
public struct StepOutcome: Sendable {
    public var location: String
    /// `send 0200`, `expect 0210`, `expect close` …
    public var summary: String
    /// Empty when the step passed.
    public var differences: [String]
    /// The answer received at an expect step (for `--record`).
    public var answer: [UInt8]?

    public var passed: Bool { differences.isEmpty }
}

/// The result of one replayed session.
public struct SessionOutcome: Sendable {
    public var capture: String
    public var session: String
    public var steps: [StepOutcome]
    public var elapsed: Duration
    /// Frames that arrived after the last step, unexpected.
    public var unexpectedFrames: Int
    /// Every frame sent and received, framed, card data replaced, with wall-clock times: for
    /// `replay --pcap`; empty unless ``ReplayOptions/keepsExchange``.
    public var exchanged: [TCPChunk] = []

    public var passed: Bool { unexpectedFrames == 0 && steps.allSatisfy(\.passed) }

    /// A session that could not start: `reason` at `location`.
    public static func failed(capture: String, session: String, location: String, reason: String) -> SessionOutcome {
        SessionOutcome(capture: capture, session: session, steps: [StepOutcome(location: location, summary: "start", differences: [reason])],
                       elapsed: .zero, unexpectedFrames: 0)
    }

    public var failures: [String] {
        steps.filter { !$0.passed }.flatMap { step in step.differences.map { "\(step.location): \(step.summary): \($0)" } }
            + (unexpectedFrames > 0 ? ["\(unexpectedFrames) frame(s) arrived that no step expected"] : [])
    }
}

/// Replays capture sessions against a host, each on its own connection, and judges the answers.
public final class ReplayRunner: Sendable {
    let group: EventLoopGroup
    public let options: ReplayOptions

    public init(options: ReplayOptions, group: EventLoopGroup = EventLoopGroup(count: 1)) {
        self.options = options
        self.group = group
    }

    /// Plays `session` against `host:port` and returns what each step saw. Never throws: a failed
    /// connect or a bad frame is a failed step.
    public func run(_ session: CaptureSession, of capture: String, host: String, port: UInt16) -> SessionOutcome {
        let started = ContinuousClock.now
        var outcome = SessionOutcome(capture: capture, session: session.name, steps: [], elapsed: .zero, unexpectedFrames: 0)
        let dialect: Dialect?
        switch session.wire {
        case .iso8583(let name):
            do {
                dialect = try Dialect.shipped(name)
            } catch {
                outcome.steps.append(StepOutcome(location: session.steps.first?.location ?? "", summary: "dialect", differences: ["\(error)"]))
                return outcome
            }
        case .iso20022:
            dialect = nil
        }
        let scrub: (@Sendable ([UInt8]) -> [UInt8])? = if options.keepsExchange {
            { [dialect] payload in CardDataScrubber.scrubbed(payload, dialect: dialect) }
        } else {
            nil
        }
        let mailbox = Mailbox(keeping: scrub)
        let connection: Connection
        do {
            connection = try Connection.connect(
                host: host, port: port, loop: group.nextLoop(), format: session.framing, tls: options.tls,
                options: ConnectionOptions(idleTimeout: nil), timeout: options.connectTimeout,
                handlers: Connection.Handlers(
                    onFrame: { connection, frame in mailbox.deliver(Array(frame.payload), header: Array(frame.header), format: connection.format) },
                    onClose: { _, reason in mailbox.close(reason) },
                    onActive: { _ in mailbox.activate() }))
        } catch {
            outcome.steps.append(StepOutcome(location: session.steps.first?.location ?? "", summary: "connect \(host):\(port)",
                                             differences: ["\(error)"]))
            return outcome
        }
        defer { connection.execute { $0.close() } }
        if let problem = mailbox.awaitActive(until: .now + options.connectTimeout) {
            outcome.steps.append(StepOutcome(location: session.steps.first?.location ?? "", summary: "connect \(host):\(port)", differences: [problem]))
            return outcome
        }
        var request = SentRequest.none
        for step in session.steps {
            if !options.asFastAsPossible, let at = step.at {
                let due = started + at
                if due > .now { Thread.sleep(forTimeInterval: Double((due - .now).wholeNanoseconds) / 1e9) }
            }
            let within = step.within ?? options.defaultWithin
            switch step.action {
            case .send(let content):
                do {
                    let (bytes, sent) = try Self.encode(content, dialect: dialect)
                    if case .raw = content {
                        connection.sendUnframedFromAnyThread(bytes)
                        mailbox.keep(.fromClient, bytes, format: nil)
                    } else {
                        connection.sendFromAnyThread(bytes)
                        mailbox.keep(.fromClient, bytes, format: session.framing)
                    }
                    request = sent
                    outcome.steps.append(StepOutcome(location: step.location, summary: "send \(Self.describe(content))", differences: []))
                } catch {
                    outcome.steps.append(StepOutcome(location: step.location, summary: "send", differences: ["the frame cannot be built: \(error)"]))
                    outcome.elapsed = .now - started
                    return outcome
                }
            case .expect(let expectation):
                switch mailbox.next(until: .now + within) {
                case .frame(let payload):
                    let differences = expectation.differences(in: payload, dialect: dialect, request: request)
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect \(Self.describe(payload, dialect: dialect))",
                                                     differences: differences, answer: payload))
                case .closed(let reason):
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect", differences: ["no answer: the connection closed (\(reason))"]))
                case .timedOut:
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect",
                                                     differences: ["no answer within \(Self.seconds(within)) s"]))
                }
            case .expectClose:
                switch mailbox.next(until: .now + within) {
                case .closed:
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect close", differences: []))
                case .frame(let payload):
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect close",
                                                     differences: ["a frame arrived (\(Self.describe(payload, dialect: dialect))) instead of the close"]))
                case .timedOut:
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect close",
                                                     differences: ["the connection was still open after \(Self.seconds(within)) s"]))
                }
            case .expectSilence(let quiet):
                if case .frame(let payload) = mailbox.next(until: .now + quiet) {
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect silence",
                                                     differences: ["a frame arrived: \(Self.describe(payload, dialect: dialect))"]))
                } else {
                    outcome.steps.append(StepOutcome(location: step.location, summary: "expect silence", differences: []))
                }
            }
        }
        outcome.unexpectedFrames = mailbox.pendingFrames
        outcome.elapsed = .now - started
        outcome.exchanged = mailbox.exchanged
        return outcome
    }

    /// The payload to send and the request later `echo` expectations compare with.
    static func encode(_ content: FrameContent, dialect: Dialect?) throws -> ([UInt8], SentRequest) {
        switch content {
        case let .iso8583(mtiText, fields):
            guard let dialect, let mti = MTI(mtiText) else { throw ReplayError("an ISO 8583 frame needs an ISO 8583 session") }
            let message = try ISO8583Message(mti: mti, texts: fields.map { ($0.number, $0.value) }, dialect: dialect)
            return (try message.encoded(as: dialect), .iso8583(message))
        case .xml(let text):
            let bytes = Array(text.utf8)
            return (bytes, (try? ISO20022Codec().parse(bytes)).map { SentRequest.iso20022($0) } ?? .none)
        case .hex(let bytes):
            if let dialect, let message = try? ISO8583Message(decoding: bytes, dialect: dialect) { return (bytes, .iso8583(message)) }
            if dialect == nil, let document = try? ISO20022Codec().parse(bytes) { return (bytes, .iso20022(document)) }
            return (bytes, .none)
        case .raw(let bytes):
            return (bytes, .none)
        }
    }

    static func describe(_ content: FrameContent) -> String {
        switch content {
        case .iso8583(let mti, _): return mti
        case .xml: return "ISO 20022 document"
        case .hex(let bytes): return "\(bytes.count) bytes"
        case .raw(let bytes): return "\(bytes.count) unframed bytes"
        }
    }

    static func describe(_ payload: [UInt8], dialect: Dialect?) -> String {
        if let dialect, let message = try? ISO8583Message(decoding: payload, dialect: dialect) {
            return message.mti.description + (message.string(39).map { " (DE 39 \($0))" } ?? "")
        }
        if dialect == nil, let document = try? ISO20022Codec().parse(payload) { return document.definition.rawValue }
        return "\(payload.count) bytes"
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// An error of the replay itself (not a failed expectation).
public struct ReplayError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Frames and the close of one connection, handed from its loop to the replaying thread.
final class Mailbox: Sendable {
    enum Next { case frame([UInt8]), closed(String), timedOut }

    private struct State {
        var frames: [[UInt8]] = []
        var closed: String?
        var active = false
        var exchanged: [TCPChunk] = []
    }

    private let state = Mutex(State())
    private let signal = DispatchSemaphore(value: 0)
    /// Turns a payload into what the kept exchange holds (card data replaced); nil keeps nothing.
    private let keeping: (@Sendable ([UInt8]) -> [UInt8])?

    init(keeping: (@Sendable ([UInt8]) -> [UInt8])?) {
        self.keeping = keeping
    }

    func deliver(_ payload: [UInt8], header: [UInt8], format: FrameFormat) {
        // Kept before the frame is handed over: the session may end as soon as it has it.
        keep(.fromServer, payload, header: header, format: format)
        state.withLock { $0.frames.append(payload) }
        signal.signal()
    }

    /// Keeps a copy of a frame (card data replaced), framed by `format`; bytes sent outside the
    /// framing (`format` nil) as they are, their digit runs scrubbed.
    func keep(_ direction: TCPDirection, _ payload: [UInt8], header: [UInt8]? = nil, format: FrameFormat?) {
        guard let keeping else { return }
        let bytes: [UInt8]
        if let format {
            bytes = format.framed(keeping(payload), header: header)
        } else {
            var raw = payload
            _ = CardDataScrubber.scrubDigitRuns(&raw)
            bytes = raw
        }
        let chunk = TCPChunk(direction: direction, timestampNanoseconds: Self.wallClock(), bytes: bytes)
        state.withLock { $0.exchanged.append(chunk) }
    }

    var exchanged: [TCPChunk] { state.withLock { $0.exchanged } }

    static func wallClock() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    func close(_ reason: CloseReason) {
        state.withLock { $0.closed = $0.closed ?? reason.description }
        signal.signal()
    }

    func activate() {
        state.withLock { $0.active = true }
        signal.signal()
    }

    var pendingFrames: Int { state.withLock { $0.frames.count } }

    /// Nil once the connection is up, or why it did not come up.
    func awaitActive(until deadline: ContinuousClock.Instant) -> String? {
        while true {
            let (active, closed) = state.withLock { ($0.active, $0.closed) }
            if active { return nil }
            if let closed { return closed }
            guard wait(until: deadline) else { return "not connected in time" }
        }
    }

    /// The next frame, else the close, else a timeout at `deadline`.
    func next(until deadline: ContinuousClock.Instant) -> Next {
        while true {
            let found: Next? = state.withLock { state in
                if !state.frames.isEmpty { return .frame(state.frames.removeFirst()) }
                return state.closed.map { .closed($0) }
            }
            if let found { return found }
            guard wait(until: deadline) else { return .timedOut }
        }
    }

    private func wait(until deadline: ContinuousClock.Instant) -> Bool {
        let left = deadline - .now
        guard left > .zero else { return false }
        return signal.wait(timeout: .now() + .nanoseconds(Int(left.wholeNanoseconds))) == .success
    }
}

extension FrameFormat {
    /// `payload` with this format's prefix, header (zeros when nil) and trailer; the payload alone
    /// when it cannot be framed (the replay reports that at the send).
    func framed(_ payload: [UInt8], header: [UInt8]?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: frameCount(payloadCount: payload.count))
        let header = header ?? []
        let written = payload.withUnsafeBytes { payloadBytes in
            header.withUnsafeBytes { headerBytes in
                out.withUnsafeMutableBytes { output in
                    (try? writeFrame(payload: payloadBytes, header: headerBytes.isEmpty ? nil : headerBytes, into: output)) != nil
                }
            }
        }
        return written ? out : payload
    }
}

extension Duration {
    /// Whole nanoseconds, for Dispatch and sleeps.
    var wholeNanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
