import Dispatch
import Foundation
public import ISO8583
import ISO20022
public import Logging
public import PaymentModel
import Synchronization
public import Transport

/// What a simulator speaks on the wire, inside the framing.
public enum WireProtocol: Sendable {
    /// ISO 8583 in this dialect.
    case iso8583(Dialect)
    /// ISO 20022 XML, one document per frame.
    case iso20022
}

/// A simulated card issuer or bank host: answers each request by its ``IssuerBehaviour`` (result,
/// latency, faults), answers network management and reversals, and records what it received.
///
/// ISO 8583: 0100/0200 are answered by the rules (DE 39 in the dialect's form, DE 38 on
/// approvals), 0800 with 0810, reversals and advices (0400/0420, 0120/0220) with their responses.
/// ISO 20022: pacs.008 and pacs.028 are answered with pacs.002, camt.056 with camt.029. Answers
/// never carry track data, PIN block or chip data, and the records mask the PAN.
///
/// The behaviour can be replaced while the simulator runs (``setBehaviour(_:)``), so a test or the
/// demo can inject an outage and end it on connections that stay open.
public final class IssuerSimulator: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: UInt16
        public var format: FrameFormat
        public var wire: WireProtocol
        public var tls: TLSContext?
        public var behaviour: IssuerBehaviour
        /// A file to append each received message to, as a JSON line (PAN masked).
        public var recordFile: String?
        public var loops: Int
        /// Connection limits and timeouts of the listener (its host and port are the ones above).
        public var listener: ListenerOptions

        public init(host: String = "127.0.0.1", port: UInt16 = 0, format: FrameFormat, wire: WireProtocol, tls: TLSContext? = nil,
                    behaviour: IssuerBehaviour = IssuerBehaviour(), recordFile: String? = nil, loops: Int = EventLoopGroup.defaultCount,
                    listener: ListenerOptions = ListenerOptions()) {
            self.listener = listener
            self.host = host
            self.port = port
            self.format = format
            self.wire = wire
            self.tls = tls
            self.behaviour = behaviour
            self.recordFile = recordFile
            self.loops = loops
        }
    }

    /// What the simulator did with requests, by outcome.
    public struct Counters: Sendable, Equatable {
        public var received = 0
        public var answered = 0
        public var undecodable = 0
        public var dropped = 0
        public var late = 0
        public var closed = 0
        public var garbage = 0
        public var stoppedReading = 0
    }

    public let configuration: Configuration
    let logger: Logger
    let group: EventLoopGroup
    let results: ResultCodeTable
    private let listener: Mutex<Listener?> = Mutex(nil)
    private let state = Mutex(SharedState())
    /// The behaviour answering now: the configuration's until ``setBehaviour(_:)`` replaces it.
    private let currentBehaviour: Mutex<IssuerBehaviour>
    private let recorder: Recorder?

    struct SharedState {
        var counters = Counters()
        var received: [ReceivedMessage] = []
        var connections: [ObjectIdentifier: Connection] = [:]
        var connectionCount = 0
        var sequence = 0
    }

    /// Records kept in memory for ``received`` (the oldest are dropped beyond this).
    static let recordLimit = 100_000

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "payswitch.sim.issuer"),
                results: ResultCodeTable = .shipped) throws {
        self.configuration = configuration
        self.logger = logger
        self.results = results
        self.group = EventLoopGroup(count: configuration.loops)
        self.currentBehaviour = Mutex(configuration.behaviour)
        self.recorder = try configuration.recordFile.map { try Recorder(path: $0, logger: logger) }
    }

    /// Starts listening; returns the bound port.
    public func start() throws -> UInt16 {
        var options = configuration.listener
        options.host = configuration.host
        options.port = configuration.port
        let listener = Listener(group: group, format: configuration.format, tls: configuration.tls,
                                options: options, logger: logger) { [self] connection in
            let session = Session(seed: sessionSeed())
            state.withLock { $0.connections[ObjectIdentifier(connection)] = connection }
            return Connection.Handlers(
                onFrame: { [self] connection, frame in received(frame, on: connection, session) },
                onClose: { [self] connection, _ in
                    _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
                })
        }
        let port = try listener.start()
        self.listener.withLock { $0 = listener }
        logger.info("issuer simulator listening", metadata: ["port": "\(port)"])
        return port
    }

    /// Stops accepting and closes every connection.
    public func stop() {
        // The listener's handler factory holds the simulator: dropping the listener ends that cycle.
        listener.withLock { listener in
            listener?.stop()
            listener = nil
        }
        let open = state.withLock { Array($0.connections.values) }
        for connection in open { connection.execute { $0.close() } }
        recorder?.flush()
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// The behaviour answering now.
    public var behaviour: IssuerBehaviour { currentBehaviour.withLock { $0 } }

    /// Replaces the behaviour from the next request on, on every connection (open ones included):
    /// `faults.drop = 1` makes a host that is still connected but answers nothing.
    public func setBehaviour(_ behaviour: IssuerBehaviour) {
        currentBehaviour.withLock { $0 = behaviour }
    }

    /// The messages received so far, oldest first (at most the last 100,000).
    public var received: [ReceivedMessage] { state.withLock { $0.received } }

    private func sessionSeed() -> UInt64 {
        let seed = behaviour.seed
        return state.withLock { shared in
            shared.connectionCount += 1
            return seed &+ UInt64(shared.connectionCount) &* 0x9E37_79B9
        }
    }

    /// Per-connection state, touched only on the connection's queue.
    final class Session: @unchecked Sendable {
        var random: SimulatorRandom
        var stoppedReading = false
        init(seed: UInt64) { random = SimulatorRandom(seed: seed) }
    }

    // MARK: Answering

    private func received(_ frame: Frame, on connection: Connection, _ session: Session) {
        guard !session.stoppedReading else { return }
        let payload = [UInt8](frame.payload)
        let header = [UInt8](frame.header)
        let sequence = state.withLock { shared in
            shared.counters.received += 1
            shared.sequence += 1
            return shared.sequence
        }
        // One behaviour for the whole request, even if it is replaced meanwhile.
        let behaviour = self.behaviour
        var exchange: Exchange
        do {
            switch configuration.wire {
            case .iso8583(let dialect): exchange = try answerISO8583(payload, dialect: dialect, sequence: sequence, behaviour: behaviour)
            case .iso20022: exchange = try answerISO20022(payload, sequence: sequence, behaviour: behaviour)
            }
        } catch {
            // The error text names field, offset and reason, never a sensitive value.
            logger.error("undecodable request", metadata: ["remote": "\(connection.remoteAddress)", "error": "\(error)"])
            count { $0.undecodable += 1 }
            record(ReceivedMessage(message: "?", problem: "\(error)"))
            return
        }
        let fault = exchange.answer == nil ? nil : drawFault(session, behaviour.faults)
        exchange.record.fault = fault
        record(exchange.record)
        guard let answer = exchange.answer else { return }
        switch fault {
        case .drop?:
            count { $0.dropped += 1 }
        case .close?:
            count { $0.closed += 1 }
            connection.close()
        case .garbage?:
            count { $0.garbage += 1 }
            send(IssuerSimulator.garbage, header: header, on: connection)
        case .stopReading?:
            count { $0.stoppedReading += 1 }
            session.stoppedReading = true
            connection.pauseReading()
        case .late?:
            count { $0.late += 1 }
            later(behaviour.lateMilliseconds, on: connection) { [self] in send(answer, header: header, on: connection) }
        case nil:
            count { $0.answered += 1 }
            let delay = session.random.milliseconds(behaviour.latency)
            if delay <= 0 {
                send(answer, header: header, on: connection)
            } else {
                later(delay, on: connection) { [self] in send(answer, header: header, on: connection) }
            }
        }
    }

    /// A frame that decodes as neither ISO 8583 nor XML.
    static let garbage: [UInt8] = [0x00, 0xFF] + Array("GARBAGE".utf8)

    private func drawFault(_ session: Session, _ faults: IssuerBehaviour.Faults) -> ReceivedMessage.Fault? {
        guard faults.total > 0 else { return nil }
        var draw = session.random.unit()
        for (rate, fault) in [(faults.drop, ReceivedMessage.Fault.drop), (faults.late, .late), (faults.close, .close),
                              (faults.garbage, .garbage), (faults.stopReading, .stopReading)] {
            if draw < rate { return fault }
            draw -= rate
        }
        return nil
    }

    private func later(_ milliseconds: Double, on connection: Connection, _ body: @escaping @Sendable () -> Void) {
        connection.loop.queue.asyncAfter(deadline: .now() + .microseconds(Int(milliseconds * 1000)), execute: body)
    }

    private func send(_ payload: [UInt8], header: [UInt8], on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(connection.loop.queue))
        payload.withUnsafeBytes { payload in
            header.withUnsafeBytes { header in
                if header.isEmpty {
                    try? connection.send(payload: payload)
                } else {
                    connection.reply(payload: payload, to: header)
                }
            }
        }
    }

    private func count(_ change: (inout Counters) -> Void) {
        state.withLock { change(&$0.counters) }
    }

    private func record(_ message: ReceivedMessage) {
        state.withLock { shared in
            if shared.received.count >= IssuerSimulator.recordLimit { shared.received.removeFirst(shared.received.count / 2) }
            shared.received.append(message)
        }
        recorder?.write(message)
    }

    /// A decoded request: its record and the answer to send (nil when it needs none).
    struct Exchange {
        var record: ReceivedMessage
        var answer: [UInt8]?
    }
}
