import ISO20022
import ISO8583
public import Transport

/// What `capture import` needs to know that a pcap does not say.
public struct CaptureImportOptions: Sendable {
    /// The port the switch or host listened on: its side of each conversation is the server's.
    public var serverPort: UInt16
    public var framing: FrameFormat
    public var framingName: String
    public var wire: CaptureWire
    public var name: String

    public init(serverPort: UInt16, framing: FrameFormat, framingName: String, wire: CaptureWire, name: String) {
        self.serverPort = serverPort
        self.framing = framing
        self.framingName = framingName
        self.wire = wire
        self.name = name
    }
}

extension Capture {
    /// A capture made from a pcap or pcapng file: each TCP conversation with the server port is a
    /// session, the client's frames are sends and the server's are exact expectations.
    ///
    /// Card data is replaced (see ``CardDataScrubber``) and listed under each frame's `masked`.
    /// - Returns: The capture and notes for the operator: gaps, retransmissions, bytes that do not
    ///   make a whole frame, frames that do not decode, packets that could not be read.
    public static func imported(from file: [UInt8], options: CaptureImportOptions) throws -> (capture: Capture, notes: [String]) {
        let packets = try PacketCapture.packets(in: file)
        var notes: [String] = []
        var reassembler = TCPReassembler(serverPorts: [options.serverPort])
        for packet in packets {
            do {
                guard let segment = try TCPSegment.parse(packet),
                      segment.source.port == options.serverPort || segment.destination.port == options.serverPort else { continue }
                reassembler.add(segment)
            } catch {
                notes.append("skipped: \(error.reason) (packets are numbered from 0)")
            }
        }
        let dialect: Dialect?
        if case .iso8583(let name) = options.wire { dialect = try Dialect.shipped(name) } else { dialect = nil }
        var sessions: [CaptureSession] = []
        for conversation in reassembler.finish() where conversation.server.port == options.serverPort {
            var importer = ConversationImporter(options: options, dialect: dialect, conversation: conversation)
            let steps = importer.steps()
            notes += importer.notes.map { "\(conversation.client) -> \(conversation.server): \($0)" }
            guard !steps.isEmpty else { continue }
            sessions.append(CaptureSession(name: "\(conversation.client) -> \(conversation.server)", framing: options.framing,
                                           framingName: options.framingName, wire: options.wire, steps: steps))
        }
        guard !sessions.isEmpty else {
            throw ReplayError("no TCP conversation with port \(options.serverPort) carries a whole frame (\(packets.count) packets read)")
        }
        return (Capture(name: options.name, description: "imported from a packet capture by payswitch capture import", sessions: sessions), notes)
    }
}

/// Cuts one conversation's streams into frames and turns them into steps.
struct ConversationImporter {
    let options: CaptureImportOptions
    let dialect: Dialect?
    let conversation: TCPConversation
    var notes: [String] = []
    private var pending: [TCPDirection: [UInt8]] = [:]
    private var delivered: [TCPDirection: Int] = [:]
    private var broken: Set<TCPDirection> = []
    private var lastRequest: ISO8583Message?

    init(options: CaptureImportOptions, dialect: Dialect?, conversation: TCPConversation) {
        self.options = options
        self.dialect = dialect
        self.conversation = conversation
    }

    mutating func steps() -> [CaptureStep] {
        var steps: [CaptureStep] = []
        if conversation.retransmittedBytes > 0 { notes.append("\(conversation.retransmittedBytes) retransmitted or overlapping bytes dropped") }
        for chunk in conversation.chunks {
            let before = delivered[chunk.direction, default: 0]
            delivered[chunk.direction] = before + chunk.bytes.count
            // The framing cannot be trusted across a hole: start again at the bytes after it.
            for gap in conversation.gaps where gap.direction == chunk.direction && gap.streamOffset == before && before > 0 {
                notes.append("\(gap.missingBytes) bytes missing \(Self.name(gap.direction)) after byte \(gap.streamOffset) (packet \(gap.packetIndex + 1)); \(pending[chunk.direction]?.count ?? 0) bytes before it dropped")
                pending[chunk.direction] = []
            }
            guard !broken.contains(chunk.direction) else { continue }
            pending[chunk.direction, default: []] += chunk.bytes
            // Times count from the first data, not the handshake: replay starts there too.
            let origin = conversation.chunks.first?.timestampNanoseconds ?? conversation.firstTimestampNanoseconds
            // Timestamps come from the file: a difference that does not fit counts as none.
            let (offset, overflow) = chunk.timestampNanoseconds.subtractingReportingOverflow(origin)
            let at = Duration.nanoseconds(overflow ? 0 : max(0, offset))
            while let payload = nextPayload(chunk.direction) {
                steps.append(step(payload, direction: chunk.direction, at: at))
            }
        }
        for (direction, bytes) in pending where !bytes.isEmpty && !broken.contains(direction) {
            notes.append("\(bytes.count) bytes \(Self.name(direction)) after the last whole frame left out")
        }
        return steps
    }

    static func name(_ direction: TCPDirection) -> String { direction == .fromClient ? "from the client" : "from the server" }

    mutating func nextPayload(_ direction: TCPDirection) -> [UInt8]? {
        guard let bytes = pending[direction], !bytes.isEmpty else { return nil }
        let next = bytes.withUnsafeBytes { buffer in Result { () throws(FramingError) in try options.framing.nextFrame(in: buffer) } }
        switch next {
        case .success(let bounds):
            guard let bounds else { return nil }
            pending[direction] = Array(bytes[bounds.frameCount...])
            return Array(bytes[bounds.payloadRange])
        case .failure(let error):
            notes.append("the framing breaks \(Self.name(direction)): \(error.reason); the rest of that stream is left out")
            broken.insert(direction)
            return nil
        }
    }

    mutating func step(_ payload: [UInt8], direction: TCPDirection, at: Duration) -> CaptureStep {
        var masked: [String] = []
        let isRequest = direction == .fromClient
        if let dialect {
            if let message = try? ISO8583Message(decoding: payload, dialect: dialect) {
                let fields: [(number: Int, value: String)]
                (fields, masked) = CardDataScrubber.fields(of: message, dialect: dialect)
                if isRequest {
                    lastRequest = message
                    return CaptureStep(action: .send(.iso8583(mti: message.mti.description, fields: fields)), at: at, masked: masked)
                }
                // An answer's card data is expected to echo the request's; any other sensitive value is only required present.
                let expectations = fields.map { field -> (key: String, expectation: ValueExpectation) in
                    let key = String(field.number)
                    if masked.contains(key) { return (key, lastRequest?.string(field.number) == message.string(field.number) ? .echo : .any) }
                    // A host makes these up anew for every answer: the approval code, and a reference it assigned.
                    if field.number == 38 || (field.number == 37 && lastRequest?.contains(37) == false) {
                        return (key, .pattern("[0-9A-Za-z ]{\(field.value.count)}"))
                    }
                    return (key, .equals(field.value))
                }
                return CaptureStep(action: .expect(AnswerExpectation(form: .iso8583(mti: .equals(message.mti.description), fields: expectations, onlyListed: true))),
                                   at: at)
            }
            notes.append("a frame \(Self.name(direction)) does not decode as \(dialect.name); kept as bytes")
        } else if let text = String(validating: payload, as: UTF8.self), (try? ISO20022Codec().parse(payload)) != nil {
            var bytes = Array(text.utf8)
            if CardDataScrubber.scrubDigitRuns(&bytes) { masked.append("scan") }
            let document = String(decoding: bytes, as: UTF8.self)
            if isRequest { return CaptureStep(action: .send(.xml(document)), at: at, masked: masked) }
            let expectation = AnswerExpectation(form: .iso20022(message: nil, paths: [])).recorded(bytes, dialect: nil, request: .none)
            return CaptureStep(action: .expect(expectation), at: at, masked: masked)
        }
        var bytes = payload
        if CardDataScrubber.scrubDigitRuns(&bytes) { masked.append("scan") }
        return CaptureStep(action: isRequest ? .send(.hex(bytes)) : .expect(AnswerExpectation(form: .bytes(bytes))), at: at, masked: masked)
    }
}
