import ISO8583
import SecurityModule

/// The message authentication code of a channel's link: every ISO 8583 message but network
/// management carries it in its last data element, DE 64 (DE 128 when it has a secondary bitmap),
/// computed over the frame up to that element. ISO 9797-1 algorithm 3 under a TDES key, AES-CMAC
/// (its first 8 bytes) under an AES key.
struct LinkMAC: Sendable {
    let module: any PaymentSecurityModule
    /// The MAC key's name in the security module.
    let key: String
    /// How long after a key change answers under the old key still verify.
    let grace: Duration

    init(key: String, module: any PaymentSecurityModule, grace: Duration = .zero) throws(SecurityError) {
        let described = try module.describe(key)
        guard described.usage == .mac else {
            throw SecurityError(operation: "setting up a link MAC", reason: "a \(described.usage.rawValue) key is not a MAC key")
        }
        guard described.cipher == .aes || described.length == 16 else {
            throw SecurityError(operation: "setting up a link MAC", reason: "the retail MAC takes a double-length TDES key")
        }
        self.module = module
        self.key = key
        self.grace = grace
    }

    /// 8 bytes of MAC over `data`.
    func compute(_ data: ArraySlice<UInt8>) throws(SecurityError) -> [UInt8] {
        try module.mac(data, key: key)
    }

    /// The element that carries the MAC of `message`.
    static func field(of message: ISO8583Message) -> Int {
        message.fieldNumbers.contains { $0 > 64 && $0 != 128 } ? 128 : 64
    }

    /// The frame of `message` in `dialect` with its MAC (any MAC it came with is replaced: it was
    /// the sender's, under another key).
    func signed(_ message: ISO8583Message, dialect: Dialect) throws -> [UInt8] {
        var unsigned = message
        unsigned.remove(64)
        unsigned.remove(128)
        guard !unsigned.fieldNumbers.contains(where: { $0 > 128 }) else {
            throw SwitchError("a message with data elements beyond 128 cannot carry a MAC in its last element")
        }
        let field = LinkMAC.field(of: unsigned)
        unsigned.set(field, bytes: [UInt8](repeating: 0, count: 8))
        let zeroed = try unsigned.encoded(as: dialect)
        var framed = try ISO8583Message(decoding: zeroed, dialect: dialect)
        guard let place = framed.wireBytes(field) else { throw SwitchError("DE \(field) is missing from the encoded frame") }
        let mac = try compute(zeroed[..<place.startIndex])
        if framed.overwriteBytes(field, with: mac), let frame = framed.receivedFrame { return frame }
        // A dialect that keeps binary elements as hexadecimal text: encoded again.
        unsigned.set(field, bytes: mac)
        return try unsigned.encoded(as: dialect)
    }

    /// The frame of a message already encoded (a stored reversal), signed.
    func signed(frame: [UInt8], dialect: Dialect) throws -> [UInt8] {
        try signed(try ISO8583Message(decoding: frame, dialect: dialect), dialect: dialect)
    }

    /// Whether a received message's MAC is the one its frame gives under this key (or the key it
    /// replaced, within the grace period).
    func verifies(_ message: ISO8583Message, frame: [UInt8]) -> Bool {
        let field = message.contains(128) ? 128 : 64
        guard let carried = message.bytes(field), carried.count == 8, let place = message.wireBytes(field) else { return false }
        return module.verifyMAC(carried, of: frame[..<place.startIndex], key: key, grace: grace)
    }
}
