// Writing conversations as a pcapng file that Wireshark and tshark dissect like a real capture:
// each conversation becomes a loopback IPv4 TCP connection with handshake, data and close, with
// correct sequence numbers and checksums, so the TCP and ISO 8583 dissectors find nothing wrong.

/// One conversation to write: its two ports and its stream bytes in order.
public struct ExportedConversation: Sendable {
    /// The client's (ephemeral) port; give each conversation that overlaps another in time its own.
    public var clientPort: UInt16
    /// The server's port, e.g. 9100.
    public var serverPort: UInt16
    /// The bytes each side sent, in the order they were sent.
    public var chunks: [TCPChunk]

    /// Makes a conversation to export.
    public init(clientPort: UInt16, serverPort: UInt16, chunks: [TCPChunk]) {
        self.clientPort = clientPort
        self.serverPort = serverPort
        self.chunks = chunks
    }
}

/// Writes conversations as a pcapng capture.
public enum PcapngWriter {
    /// Largest TCP payload per packet: under the 65,535-byte IPv4 limit with headers to spare.
    static let maximumSegment = 65_000
    static let clientMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]  // locally administered
    static let serverMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]
    static let loopback: [UInt8] = [127, 0, 0, 1]

    /// A pcapng file (one section, one Ethernet interface with nanosecond timestamps) holding
    /// each conversation as a TCP connection between 127.0.0.1 ports: a SYN, SYN-ACK and ACK
    /// 1 µs apart before the first chunk, each chunk as PSH/ACK segments of at most 65,000
    /// bytes at the chunk's time, then FIN/ACK from each side and a last ACK. Packets of all
    /// conversations are written in timestamp order; `comment`, if any, becomes the section's
    /// comment.
    public static func write(_ conversations: [ExportedConversation], comment: String? = nil) -> [UInt8] {
        var packets: [SyntheticPacket] = []
        for (number, conversation) in conversations.enumerated() {
            var writer = ConnectionWriter(conversation: conversation, number: number)
            packets.append(contentsOf: writer.frames())
        }
        // Stable: packets with equal timestamps keep conversation and stream order.
        let order = packets.indices.sorted {
            (packets[$0].timestamp, $0) < (packets[$1].timestamp, $1)
        }
        var file = PcapngBuffer()
        file.sectionHeader(comment: comment)
        file.interfaceDescription()
        for index in order { file.enhancedPacket(packets[index]) }
        return file.bytes
    }
}

/// A frame to write and when.
struct SyntheticPacket {
    var timestamp: Int64
    var frame: [UInt8]
}

/// The packets of one conversation, with both sides' sequence numbers kept as TCP would.
struct ConnectionWriter {
    let conversation: ExportedConversation
    let number: Int
    var clientSequence: UInt32
    var serverSequence: UInt32
    var identification: UInt16
    var clock: Int64 = 0
    var packets: [SyntheticPacket] = []

    init(conversation: ExportedConversation, number: Int) {
        self.conversation = conversation
        self.number = number
        // Distinct, arbitrary initial sequence numbers per conversation, as real stacks pick.
        let seed = UInt32(truncatingIfNeeded: number) &* 0x9E37_79B9
        clientSequence = 0x1000_0000 &+ seed
        serverSequence = 0x7000_0000 &+ (seed ^ 0x5A5A_5A5A)
        identification = UInt16(truncatingIfNeeded: number &* 0x1000)
    }

    static let microsecond: Int64 = 1000

    mutating func frames() -> [SyntheticPacket] {
        let first = conversation.chunks.first?.timestampNanoseconds ?? 3 * Self.microsecond
        // The handshake just before the first chunk (never before 1970).
        clock = max(0, first - 3 * Self.microsecond)
        segment(fromClient: true, flags: .syn, payload: [])
        clientSequence &+= 1
        tick()
        segment(fromClient: false, flags: [.syn, .ack], payload: [])
        serverSequence &+= 1
        tick()
        segment(fromClient: true, flags: .ack, payload: [])
        for chunk in conversation.chunks {
            // Never back in time within a connection: Wireshark would see segments out of order.
            clock = max(clock, chunk.timestampNanoseconds)
            let fromClient = chunk.direction == .fromClient
            var start = 0
            while start < chunk.bytes.count {
                let end = min(start + PcapngWriter.maximumSegment, chunk.bytes.count)
                let payload = Array(chunk.bytes[start..<end])
                segment(fromClient: fromClient, flags: [.psh, .ack], payload: payload)
                if fromClient { clientSequence &+= UInt32(payload.count) } else { serverSequence &+= UInt32(payload.count) }
                start = end
            }
        }
        tick()
        segment(fromClient: true, flags: [.fin, .ack], payload: [])
        clientSequence &+= 1
        tick()
        segment(fromClient: false, flags: [.fin, .ack], payload: [])
        serverSequence &+= 1
        tick()
        segment(fromClient: true, flags: .ack, payload: [])
        return packets
    }

    mutating func tick() { clock += Self.microsecond }

    struct Flags: OptionSet {
        let rawValue: UInt8
        static let fin = Flags(rawValue: 0x01)
        static let syn = Flags(rawValue: 0x02)
        static let psh = Flags(rawValue: 0x08)
        static let ack = Flags(rawValue: 0x10)
    }

    /// Appends one Ethernet/IPv4/TCP frame from the given side at the current clock.
    mutating func segment(fromClient: Bool, flags: Flags, payload: [UInt8]) {
        let sourcePort = fromClient ? conversation.clientPort : conversation.serverPort
        let destinationPort = fromClient ? conversation.serverPort : conversation.clientPort
        let sequence = fromClient ? clientSequence : serverSequence
        // The SYN acknowledges nothing; everything after acknowledges all the peer has sent.
        let acknowledgment = flags.contains(.ack) ? (fromClient ? serverSequence : clientSequence) : 0
        let tcpLength = 20 + payload.count
        let ipLength = 20 + tcpLength

        var frame: [UInt8] = []
        frame.reserveCapacity(14 + ipLength)
        frame += fromClient ? PcapngWriter.serverMAC : PcapngWriter.clientMAC  // destination
        frame += fromClient ? PcapngWriter.clientMAC : PcapngWriter.serverMAC  // source
        frame += [0x08, 0x00]

        let ipStart = frame.count
        frame += [0x45, 0x00]
        frame.appendBigEndian(UInt16(ipLength))
        frame.appendBigEndian(identification)
        identification &+= 1
        frame += [0x40, 0x00, 64, 6, 0, 0]  // don't fragment, TTL 64, TCP, checksum placeholder
        frame += PcapngWriter.loopback
        frame += PcapngWriter.loopback
        let ipChecksum = internetChecksum(frame[ipStart..<(ipStart + 20)])
        frame[ipStart + 10] = UInt8(ipChecksum >> 8)
        frame[ipStart + 11] = UInt8(ipChecksum & 0xFF)

        let tcpStart = frame.count
        frame.appendBigEndian(sourcePort)
        frame.appendBigEndian(destinationPort)
        frame.appendBigEndian(sequence)
        frame.appendBigEndian(acknowledgment)
        frame += [0x50, flags.rawValue, 0xFF, 0xFF, 0, 0, 0, 0]  // 20-byte header, window 65535
        frame += payload
        // The TCP checksum covers a pseudo-header of addresses, protocol and TCP length.
        var pseudo: [UInt8] = PcapngWriter.loopback + PcapngWriter.loopback + [0, 6]
        pseudo.appendBigEndian(UInt16(tcpLength))
        let tcpChecksum = internetChecksum(pseudo[...], frame[tcpStart...])
        frame[tcpStart + 16] = UInt8(tcpChecksum >> 8)
        frame[tcpStart + 17] = UInt8(tcpChecksum & 0xFF)

        packets.append(SyntheticPacket(timestamp: clock, frame: frame))
    }
}

/// The RFC 1071 one's-complement checksum of the concatenated parts (each but the last of
/// even length).
fileprivate func internetChecksum(_ parts: ArraySlice<UInt8>...) -> UInt16 {
    var sum: UInt64 = 0
    for part in parts {
        var index = part.startIndex
        while index + 1 < part.endIndex {
            sum += UInt64(part[index]) << 8 | UInt64(part[index + 1])
            index += 2
        }
        if index < part.endIndex { sum += UInt64(part[index]) << 8 }
    }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8((value >> 16) & 0xFF))
        append(UInt8((value >> 8) & 0xFF))
        append(UInt8(value & 0xFF))
    }

    fileprivate mutating func appendLittleEndian(_ value: UInt16) {
        append(UInt8(value & 0xFF))
        append(UInt8(value >> 8))
    }

    fileprivate mutating func appendLittleEndian(_ value: UInt32) {
        append(UInt8(value & 0xFF))
        append(UInt8((value >> 8) & 0xFF))
        append(UInt8((value >> 16) & 0xFF))
        append(UInt8(value >> 24))
    }
}

/// pcapng blocks, little-endian.
struct PcapngBuffer {
    var bytes: [UInt8] = []

    /// Appends a block of `type` around `body` (padded to 32 bits) with its two lengths.
    mutating func block(_ type: UInt32, _ body: [UInt8]) {
        let padding = (4 - body.count % 4) % 4
        let length = UInt32(12 + body.count + padding)
        bytes.appendLittleEndian(type)
        bytes.appendLittleEndian(length)
        bytes += body
        bytes += repeatElement(0, count: padding)
        bytes.appendLittleEndian(length)
    }

    /// Appends option `code` with `value`, padded to 32 bits.
    static func option(_ code: UInt16, _ value: [UInt8], to body: inout [UInt8]) {
        body.appendLittleEndian(code)
        body.appendLittleEndian(UInt16(value.count))
        body += value
        body += repeatElement(0, count: (4 - value.count % 4) % 4)
    }

    mutating func sectionHeader(comment: String?) {
        var body: [UInt8] = []
        body.appendLittleEndian(UInt32(0x1A2B_3C4D))  // byte-order magic
        body.appendLittleEndian(UInt16(1))  // version 1.0
        body.appendLittleEndian(UInt16(0))
        body += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]  // section length unknown
        if let comment, !comment.isEmpty {
            // An option value is at most 65,535 bytes; cut a longer comment at a character boundary.
            var text = Array(comment.utf8)
            if text.count > 65_532 {
                var cut = 65_532
                while cut > 0, text[cut] & 0xC0 == 0x80 { cut -= 1 }
                text = Array(text[..<cut])
            }
            Self.option(1, text, to: &body)  // opt_comment
        }
        Self.option(4, Array("payswitch".utf8), to: &body)  // shb_userappl
        Self.option(0, [], to: &body)  // opt_endofopt
        block(0x0A0D_0D0A, body)
    }

    mutating func interfaceDescription() {
        var body: [UInt8] = []
        body.appendLittleEndian(UInt16(1))  // LINKTYPE_ETHERNET
        body.appendLittleEndian(UInt16(0))
        body.appendLittleEndian(UInt32(262_144))  // snaplen
        Self.option(9, [9], to: &body)  // if_tsresol: 10^-9 s
        Self.option(0, [], to: &body)
        block(1, body)
    }

    mutating func enhancedPacket(_ packet: SyntheticPacket) {
        var body: [UInt8] = []
        body.reserveCapacity(20 + packet.frame.count)
        let units = UInt64(max(0, packet.timestamp))
        body.appendLittleEndian(UInt32(0))  // interface 0
        body.appendLittleEndian(UInt32(truncatingIfNeeded: units >> 32))
        body.appendLittleEndian(UInt32(truncatingIfNeeded: units))
        body.appendLittleEndian(UInt32(packet.frame.count))
        body.appendLittleEndian(UInt32(packet.frame.count))
        body += packet.frame
        block(6, body)
    }
}
