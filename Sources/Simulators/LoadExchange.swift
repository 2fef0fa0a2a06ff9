/// What a load generator sends and how it reads and checks the answers: ISO 8583 templates for
/// the POS simulator, ISO 20022 messages for the acquirer simulator.
///
/// Each request carries its sequence number in fields the answer echoes (RRN, EndToEndId), so
/// answers are matched to requests whatever order they come in.
public protocol LoadExchange: Sendable {
    associatedtype Answer

    /// The relative weight of each request variant (template) in the mix.
    var weights: [Int] { get }

    /// Writes request `sequence` of `variant` into `buffer`, replacing its contents.
    func request(_ sequence: Int, variant: Int, into buffer: inout [UInt8])

    /// Reads an answer frame, or says why it is none.
    func read(_ payload: UnsafeRawBufferPointer) -> AnswerReading<Answer>

    /// What is wrong with `answer` as the answer to request `sequence` of `variant`, or nil.
    func mismatch(_ answer: Answer, sequence: Int, variant: Int) -> String?

    /// The answer's response code, for the counts per code.
    func code(_ answer: Answer) -> ResponseCode
}

/// An answer as read: the sequence number it answers and the answer, or why it is unreadable.
public enum AnswerReading<Answer> {
    case answer(sequence: Int, Answer)
    case undecodable(String)
}

/// A response code of up to 16 ASCII characters (`00`, `116`, `RJCT/AM04`) kept without
/// allocating, so counting codes costs nothing per answer. `-` when the answer has none.
public struct ResponseCode: Hashable, Sendable, CustomStringConvertible, Comparable {
    private var high: UInt64 = 0
    private var low: UInt64 = 0

    public static let none = ResponseCode("-")

    public init(_ text: some StringProtocol) {
        self.init(bytes: text.utf8)
    }

    public init(bytes: some Sequence<UInt8>) {
        var index = 0
        for byte in bytes where index < 16 {
            if index < 8 {
                high |= UInt64(byte) << (56 - 8 * index)
            } else {
                low |= UInt64(byte) << (56 - 8 * (index - 8))
            }
            index += 1
        }
    }

    public var description: String {
        var bytes: [UInt8] = []
        for word in [high, low] {
            for shift in stride(from: 56, through: 0, by: -8) {
                let byte = UInt8(truncatingIfNeeded: word >> UInt64(shift))
                if byte == 0 { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (lhs: ResponseCode, rhs: ResponseCode) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
