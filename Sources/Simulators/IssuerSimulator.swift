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
        /// Whether ``IssuerSimulator/received`` keeps what arrives (tests read it); without it and
        /// without a record file, no record is made, so answering costs no more than it must.
        public var keepsRecords: Bool
        public var loops: Int
        /// Connection limits and timeouts of the listener (its host and port are the ones above).
        public var listener: ListenerOptions
        /// PINs checked: a request whose PIN block does not hold the expected PIN under the zone key
        /// is answered "incorrect PIN" (55, or 117 in 1993 dialects).
        public var pinCheck: PINCheck?
        /// The books approvals and reversals go to, written as a clearing file (ISO 8583); nil:
        /// none are kept, and every reversal is accepted.
        public var clearing: ClearingBook?

        public init(host: String = "127.0.0.1", port: UInt16 = 0, format: FrameFormat, wire: WireProtocol, tls: TLSContext? = nil,
                    behaviour: IssuerBehaviour = IssuerBehaviour(), recordFile: String? = nil, keepsRecords: Bool = true,
                    loops: Int = EventLoopGroup.defaultCount, listener: ListenerOptions = ListenerOptions(), pinCheck: PINCheck? = nil,
                    clearing: ClearingBook? = nil) {
            self.clearing = clearing
            self.listener = listener
            self.pinCheck = pinCheck
            self.host = host
            self.port = port
            self.format = format
            self.wire = wire
            self.tls = tls
            self.behaviour = behaviour
            self.recordFile = recordFile
            self.keepsRecords = keepsRecords
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
    /// The mapping of the ISO 8583 dialect spoken (nil for ISO 20022), looked up once.
    let mapping: ISO8583Mapping?
    private let listener: Mutex<Listener?> = Mutex(nil)
    private let state = Mutex(SharedState())
    /// The behaviour answering now: the configuration's until ``setBehaviour(_:)`` replaces it.
    private let currentBehaviour: Mutex<IssuerBehaviour>
    /// Bumped by ``setBehaviour(_:)``, so each loop rereads the behaviour only when it changed.
    private let behaviourGeneration = Atomic<Int>(0)
    /// One per event loop, indexed by ``EventLoop/index``: answering takes no shared lock.
    private let loopStates: [LoopState]
    private let recorder: Recorder?

    struct SharedState {
        var received: [ReceivedMessage] = []
        var connections: [ObjectIdentifier: Connection] = [:]
        var connectionCount = 0
    }

    /// What one event loop keeps: its share of the counters (merged when read), the behaviour it
    /// last read, a request sequence, and the buffer answers are encoded into.
    final class LoopState: @unchecked Sendable {
        // Invariant: everything but `counters` is touched only on the loop's queue.
        let counters = Mutex(Counters())
        var behaviour: IssuerBehaviour
        var behaviourGeneration = 0
        var sequence = 0
        let answerBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: LoopState.answerBufferSize, alignment: 16)

        /// Large enough for any ISO 8583 answer to a frame the framings accept; a bigger one is
        /// encoded into an array instead.
        static let answerBufferSize = 64 * 1024

        init(behaviour: IssuerBehaviour) { self.behaviour = behaviour }
        deinit { answerBuffer.deallocate() }
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
        self.loopStates = group.loops.map { _ in LoopState(behaviour: configuration.behaviour) }
        if case .iso8583(let dialect) = configuration.wire {
            mapping = try ISO8583Mapping.shipped(for: dialect)
        } else {
            mapping = nil
        }
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
        configuration.clearing?.flush()
    }

    /// What was done with requests so far, all loops together.
    public var counters: Counters {
        loopStates.reduce(into: Counters()) { total, loop in total.add(loop.counters.withLock { $0 }) }
    }

    /// The behaviour answering now.
    public var behaviour: IssuerBehaviour { currentBehaviour.withLock { $0 } }

    /// Replaces the behaviour from the next request on, on every connection (open ones included):
    /// `faults.drop = 1` makes a host that is still connected but answers nothing.
    public func setBehaviour(_ behaviour: IssuerBehaviour) {
        currentBehaviour.withLock { $0 = behaviour }
        behaviourGeneration.add(1, ordering: .releasing)
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
        let loop = loopStates[connection.loop.index]
        // One behaviour for the whole request, even if it is replaced meanwhile.
        let generation = behaviourGeneration.load(ordering: .acquiring)
        if generation != loop.behaviourGeneration {
            loop.behaviour = behaviour
            loop.behaviourGeneration = generation
        }
        let behaviour = loop.behaviour
        loop.sequence += 1
        // Unique across loops without a shared counter.
        let sequence = (loop.sequence - 1) * loopStates.count + connection.loop.index + 1
        let recording = configuration.keepsRecords || recorder != nil
        var exchange: Exchange
        do {
            switch configuration.wire {
            case .iso8583(let dialect):
                exchange = try answerISO8583(frame.payload, dialect: dialect, sequence: sequence, behaviour: behaviour,
                                             recording: recording, into: loop.answerBuffer)
            case .iso20022:
                exchange = try answerISO20022([UInt8](frame.payload), sequence: sequence, behaviour: behaviour)
            }
        } catch {
            // The error text names field, offset and reason, never a sensitive value.
            logger.error("undecodable request", metadata: ["remote": "\(connection.remoteAddress)", "error": "\(error)"])
            loop.counters.withLock { $0.received += 1; $0.undecodable += 1 }
            if recording { record(ReceivedMessage(message: "?", problem: "\(error)")) }
            return
        }
        let fault = exchange.answer == nil || !behaviour.faultsApply(mti: exchange.mti, name: exchange.messageName) ? nil
            : drawFault(session, behaviour.faults)
        if recording, var record = exchange.record {
            record.fault = fault
            self.record(record)
        }
        if let approval = exchange.approval { configuration.clearing?.approve(approval, delivered: fault == nil) }
        guard let answer = exchange.answer else {
            loop.counters.withLock { $0.received += 1 }
            return
        }
        loop.counters.withLock { counters in
            counters.received += 1
            switch fault {
            case .drop?: counters.dropped += 1
            case .close?: counters.closed += 1
            case .garbage?: counters.garbage += 1
            case .stopReading?: counters.stoppedReading += 1
            case .late?: counters.late += 1
            case nil: counters.answered += 1
            }
        }
        switch fault {
        case .drop?:
            break
        case .close?:
            connection.close()
        case .garbage?:
            IssuerSimulator.garbage.withUnsafeBytes { send($0, header: frame.header, on: connection) }
        case .stopReading?:
            session.stoppedReading = true
            connection.pauseReading()
        case .late?:
            later(behaviour.lateMilliseconds, answer, header: frame.header, loop: loop, on: connection)
        case nil:
            let delay = session.random.milliseconds(behaviour.latency)
            if delay <= 0 {
                answer.withBytes(in: loop.answerBuffer) { send($0, header: frame.header, on: connection) }
            } else {
                later(delay, answer, header: frame.header, loop: loop, on: connection)
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

    /// Sends `answer` after `milliseconds`: the answer and header are copied, as the buffers they
    /// are in now are reused by the next request.
    private func later(_ milliseconds: Double, _ answer: AnswerBytes, header: UnsafeRawBufferPointer, loop: LoopState,
                       on connection: Connection) {
        let payload = answer.withBytes(in: loop.answerBuffer) { [UInt8]($0) }
        let header = [UInt8](header)
        connection.loop.queue.asyncAfter(deadline: .now() + .microseconds(Int(milliseconds * 1000))) { [self] in
            payload.withUnsafeBytes { payload in header.withUnsafeBytes { send(payload, header: $0, on: connection) } }
        }
    }

    private func send(_ payload: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer, on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(connection.loop.queue))
        if header.isEmpty {
            try? connection.send(payload: payload)
        } else {
            connection.reply(payload: payload, to: header)
        }
    }

    private func record(_ message: ReceivedMessage) {
        if configuration.keepsRecords {
            state.withLock { shared in
                if shared.received.count >= IssuerSimulator.recordLimit { shared.received.removeFirst(shared.received.count / 2) }
                shared.received.append(message)
            }
        }
        recorder?.write(message)
    }

    /// A decoded request: its record (nil when none is kept) and the answer to send (nil when it needs none).
    struct Exchange {
        var record: ReceivedMessage?
        var answer: AnswerBytes?
        /// An approval for the clearing book, booked once it is known whether its answer goes out.
        var approval: ClearingBook.Entry? = nil
        /// What was received: an ISO 8583 MTI, or an ISO 20022 message name (for `faultsOn`).
        var mti: MTI? = nil
        var messageName: String? = nil
    }

    /// An encoded answer: in the loop's answer buffer, or (ISO 20022, oversize) in an array.
    enum AnswerBytes {
        case inLoopBuffer(count: Int)
        case array([UInt8])

        func withBytes<R>(in buffer: UnsafeMutableRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
            switch self {
            case .inLoopBuffer(let count): return body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            case .array(let bytes): return bytes.withUnsafeBytes(body)
            }
        }
    }
}

extension IssuerSimulator.Counters: CounterSet {
    static var counterFields: [WritableKeyPath<Self, Int>] {
        [
            \.received, \.answered, \.undecodable, \.dropped, \.late, \.closed, \.garbage, \.stoppedReading,
        ]
    }
}
