public import Transport

/// A conformance capture: sessions of frames sent to a switch or host and the answers expected back.
///
/// Read from and written to YAML (`conformance/README.md` documents the format, and
/// `conformance/capture.schema.json` is its JSON Schema). Card data in a capture is a test card or a
/// same-length replacement listed under the frame's `masked`; nothing we write holds a real one.
public struct Capture: Sendable {
    /// The format version this code reads and writes.
    public static let formatVersion = 1

    /// A short title, for reports.
    public var name: String
    public var description: String?
    public var sessions: [CaptureSession]

    public init(name: String, description: String? = nil, sessions: [CaptureSession]) {
        self.name = name
        self.description = description
        self.sessions = sessions
    }
}

/// One connection: its wire settings and the frames sent and expected on it, in order.
public struct CaptureSession: Sendable {
    public var name: String
    /// The switch listener the session is for, when replayed with `--config`; any when nil.
    public var listener: String?
    public var framing: FrameFormat
    /// The framing as written (a preset name), kept to write the capture back.
    public var framingName: String
    public var wire: CaptureWire
    public var steps: [CaptureStep]

    public init(name: String, listener: String? = nil, framing: FrameFormat, framingName: String, wire: CaptureWire, steps: [CaptureStep]) {
        self.name = name
        self.listener = listener
        self.framing = framing
        self.framingName = framingName
        self.wire = wire
        self.steps = steps
    }
}

/// What the frames of a session carry.
public enum CaptureWire: Sendable, Hashable {
    /// ISO 8583 in the named dialect (a shipped one, or a spec file relative to the capture).
    case iso8583(dialect: String)
    case iso20022
}

/// One step of a session: a frame to send, an answer to expect, or the connection's end.
public struct CaptureStep: Sendable {
    public enum Action: Sendable {
        case send(FrameContent)
        case expect(AnswerExpectation)
        /// The peer closes the connection (after garbage past its limit, say).
        case expectClose
        /// Nothing arrives for the given time.
        case expectSilence(Duration)
    }

    public var action: Action
    /// Time from the session's start at which the step happens, as recorded; replay keeps these
    /// gaps unless asked to go as fast as possible.
    public var at: Duration?
    /// How long to wait for an expected answer.
    public var within: Duration?
    /// Fields (or `scan`) whose values are replacements for card data, noted when the capture was written.
    public var masked: [String]
    /// Where the step was written: `file:line:column`, for reports.
    public var location: String

    public init(action: Action, at: Duration? = nil, within: Duration? = nil, masked: [String] = [], location: String = "") {
        self.action = action
        self.at = at
        self.within = within
        self.masked = masked
        self.location = location
    }
}

/// The content of a frame: ISO 8583 fields, an ISO 20022 document, or bytes as they are.
public enum FrameContent: Sendable, Hashable {
    /// An ISO 8583 message by field: text for text and numeric fields, hexadecimal for binary ones.
    case iso8583(mti: String, fields: [(number: Int, value: String)])
    case xml(String)
    /// The payload as hexadecimal (malformed frames, or frames kept byte for byte).
    case hex([UInt8])
    /// Bytes written to the socket as they are, outside the framing (a broken length prefix).
    case raw([UInt8])

    public static func == (lhs: FrameContent, rhs: FrameContent) -> Bool {
        switch (lhs, rhs) {
        case let (.iso8583(a, x), .iso8583(b, y)):
            return a == b && x.map(\.number) == y.map(\.number) && x.map(\.value) == y.map(\.value)
        case let (.xml(a), .xml(b)): return a == b
        case let (.hex(a), .hex(b)), let (.raw(a), .raw(b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case let .iso8583(mti, fields):
            hasher.combine(mti)
            for field in fields { hasher.combine(field.number); hasher.combine(field.value) }
        case let .xml(text): hasher.combine(text)
        case let .hex(bytes), let .raw(bytes): hasher.combine(bytes)
        }
    }
}

/// What an answer must look like.
public struct AnswerExpectation: Sendable {
    public enum Form: Sendable {
        /// The payload, byte for byte.
        case bytes([UInt8])
        /// An ISO 8583 answer checked field by field (`39`, subfields `48.1`, EMV tags `55.9F26`).
        case iso8583(mti: ValueExpectation?, fields: [(key: String, expectation: ValueExpectation)], onlyListed: Bool)
        /// An ISO 20022 answer checked path by path below the message element (`TxInfAndSts/TxSts`,
        /// `AppHdr/BizMsgIdr`, `IntrBkSttlmAmt@Ccy`, `CdtTrfTxInf[2]/PmtId/TxId`).
        case iso20022(message: String?, paths: [(key: String, expectation: ValueExpectation)])
    }

    public var form: Form

    public init(form: Form) { self.form = form }
}

/// The expectation for one value.
public enum ValueExpectation: Sendable, Hashable {
    case equals(String)
    /// Present, any value (`"*"`).
    case any
    case absent
    /// The whole value matches the regular expression.
    case pattern(String)
    /// Equal to the same field or path of the last request sent on the session.
    case echo
}
