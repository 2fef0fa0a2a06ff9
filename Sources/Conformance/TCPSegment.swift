// From a captured packet to a TCP segment: strips the link layer (Ethernet with VLAN tags,
// Linux cooked v1 and v2, BSD loopback, raw IP), then IPv4 or IPv6, then TCP. Packets that are
// not TCP come back as nil; headers whose lengths contradict each other or the capture throw.

/// One end of a TCP connection: an IPv4 or IPv6 address and a port.
public struct TCPEndpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var address: [UInt8]
    /// The TCP port.
    public var port: UInt16

    /// Makes an endpoint from an address of 4 or 16 bytes and a port.
    public init(address: [UInt8], port: UInt16) {
        self.address = address
        self.port = port
    }

    /// IPv4 before IPv6, then by address bytes, then by port.
    public static func < (lhs: TCPEndpoint, rhs: TCPEndpoint) -> Bool {
        if lhs.address.count != rhs.address.count { return lhs.address.count < rhs.address.count }
        if lhs.address != rhs.address { return lhs.address.lexicographicallyPrecedes(rhs.address) }
        return lhs.port < rhs.port
    }

    /// "127.0.0.1:9100" for IPv4, "[::1]:9100" for IPv6 (RFC 5952 compressed form).
    public var description: String {
        if address.count == 16 { return "[\(Self.ipv6Text(address))]:\(port)" }
        return address.map { String($0) }.joined(separator: ".") + ":\(port)"
    }

    /// The RFC 5952 text of a 16-byte address: lowercase, no leading zeros, the longest run of
    /// two or more zero groups (the first, on a tie) written as "::".
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        for i in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { return groups.map { String($0, radix: 16) }.joined(separator: ":") }
        let head = groups[..<bestStart].map { String($0, radix: 16) }.joined(separator: ":")
        let tail = groups[(bestStart + bestLength)...].map { String($0, radix: 16) }.joined(separator: ":")
        return head + "::" + tail
    }
}

/// A TCP segment taken out of a captured packet: its endpoints, sequence numbers, flags and data.
public struct TCPSegment: Sendable, Hashable {
    /// The `CapturedPacket.index` of the packet that carried it.
    public var packetIndex: Int
    /// The packet's capture time, in nanoseconds since 1970.
    public var timestampNanoseconds: Int64
    /// The sender.
    public var source: TCPEndpoint
    /// The receiver.
    public var destination: TCPEndpoint
    /// The sequence number of the first byte of `payload` (of the SYN itself when `syn`).
    public var sequence: UInt32
    /// The acknowledgment number; meaningful when `ack`.
    public var acknowledgment: UInt32
    /// The SYN flag.
    public var syn: Bool
    /// The FIN flag.
    public var fin: Bool
    /// The RST flag.
    public var rst: Bool
    /// The ACK flag.
    public var ack: Bool
    /// The data, as long as the IP header says (Ethernet padding excluded).
    public var payload: [UInt8]

    /// Makes a segment from its parts.
    public init(
        packetIndex: Int, timestampNanoseconds: Int64, source: TCPEndpoint, destination: TCPEndpoint,
        sequence: UInt32, acknowledgment: UInt32, syn: Bool = false, fin: Bool = false, rst: Bool = false,
        ack: Bool = false, payload: [UInt8] = []
    ) {
        self.packetIndex = packetIndex
        self.timestampNanoseconds = timestampNanoseconds
        self.source = source
        self.destination = destination
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.syn = syn
        self.fin = fin
        self.rst = rst
        self.ack = ack
        self.payload = payload
    }
}

extension TCPSegment {
    /// The TCP segment in `packet`, or nil when the packet is not a whole TCP segment: not IP
    /// (ARP…), not TCP (UDP, ICMP…), or an IP fragment.
    ///
    /// Throws when a header contradicts itself or the capture (an IPv4 header length below 20,
    /// a TCP data offset past the IP payload…), when the packet was captured shorter than its
    /// IP length (snapshot length too small), or when its link type is not one this reads:
    /// 0/108 loopback, 1 Ethernet, 12/14/101 raw IP, 113 and 276 Linux cooked, 228 IPv4, 229 IPv6.
    /// The error's `offset` is within the packet; its reason starts with "packet N:".
    public static func parse(_ packet: CapturedPacket) throws(PacketCaptureError) -> TCPSegment? {
        try PacketParser(packet: packet).parse()
    }
}

/// The layer-by-layer walk through one packet.
struct PacketParser {
    let packet: CapturedPacket
    let bytes: [UInt8]
    let reader: CaptureByteReader

    init(packet: CapturedPacket) {
        self.packet = packet
        self.bytes = packet.bytes
        self.reader = CaptureByteReader(bytes: packet.bytes, bigEndian: true)
    }

    enum Network { case ipv4, ipv6 }

    func failure(_ offset: Int, _ reason: String) -> PacketCaptureError {
        PacketCaptureError(offset: offset, reason: "packet \(packet.index): \(reason)")
    }

    /// Throws unless `count` bytes from `offset` were captured; `what` names the header.
    func need(_ count: Int, at offset: Int, for what: String) throws(PacketCaptureError) {
        guard offset <= bytes.count, count <= bytes.count - offset else {
            throw failure(offset, "\(what) needs \(count) bytes, captured \(max(0, bytes.count - offset))")
        }
    }

    func parse() throws(PacketCaptureError) -> TCPSegment? {
        guard let (network, start) = try linkLayer() else { return nil }
        switch network {
        case .ipv4: return try ipv4(at: start)
        case .ipv6: return try ipv6(at: start)
        }
    }

    // MARK: Link layers

    /// Where the IP header starts and which version it is, or nil for other protocols.
    func linkLayer() throws(PacketCaptureError) -> (Network, Int)? {
        switch packet.linkType {
        case 1:  // Ethernet
            try need(14, at: 0, for: "Ethernet header")
            return try etherType(at: 12)
        case 113:  // Linux cooked capture v1: protocol at 14, header 16 bytes.
            try need(16, at: 0, for: "Linux cooked header")
            return try etherType(at: 14)
        case 276:  // Linux cooked capture v2: protocol at 0, header 20 bytes.
            try need(20, at: 0, for: "Linux cooked v2 header")
            return try etherType(at: 0, payloadAt: 20)
        case 0, 108:  // BSD loopback: address family in the capturing host's byte order (108: big-endian).
            try need(4, at: 0, for: "loopback header")
            // Either byte order: the values are small, so only one reading can be a known family.
            let little = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            let big = reader.u32(0)
            if little == 2 || big == 2 { return (.ipv4, 4) }
            // AF_INET6 is 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
            func isInet6(_ family: UInt32) -> Bool { family == 24 || family == 28 || family == 30 }
            if isInet6(little) || isInet6(big) { return (.ipv6, 4) }
            return nil
        case 12, 14, 101:  // Raw IP: the version nibble says which.
            return try rawIP(at: 0)
        case 228:
            return (.ipv4, 0)
        case 229:
            return (.ipv6, 0)
        default:
            throw failure(0, "link type \(packet.linkType) is not supported")
        }
    }

    /// Reads an EtherType at `offset` (the payload following it), skipping 802.1Q/802.1ad tags.
    func etherType(at offset: Int, payloadAt payload: Int? = nil) throws(PacketCaptureError) -> (Network, Int)? {
        var typeOffset = offset
        var start = payload ?? offset + 2
        var type = reader.u16(typeOffset)
        while type == 0x8100 || type == 0x88A8 || type == 0x9100 {
            // A tag is 2 bytes of priority/VLAN id, then the next EtherType.
            try need(4, at: start, for: "VLAN tag")
            typeOffset = start + 2
            start += 4
            type = reader.u16(typeOffset)
        }
        switch type {
        case 0x0800: return (.ipv4, start)
        case 0x86DD: return (.ipv6, start)
        default: return nil
        }
    }

    func rawIP(at offset: Int) throws(PacketCaptureError) -> (Network, Int)? {
        try need(1, at: offset, for: "raw IP header")
        switch bytes[offset] >> 4 {
        case 4: return (.ipv4, offset)
        case 6: return (.ipv6, offset)
        default: return nil
        }
    }

    // MARK: IP

    func ipv4(at start: Int) throws(PacketCaptureError) -> TCPSegment? {
        try need(20, at: start, for: "IPv4 header")
        let version = bytes[start] >> 4
        guard version == 4 else { throw failure(start, "IPv4 header has version \(version)") }
        let headerLength = Int(bytes[start] & 0x0F) * 4
        guard headerLength >= 20 else {
            throw failure(start, "IPv4 header length \(headerLength) bytes is below 20")
        }
        // Fragments: only whole datagrams are TCP segments we can read.
        let fragment = reader.u16(start + 6)
        if fragment & 0x3FFF != 0 { return nil }
        guard bytes[start + 9] == 6 else { return nil }
        var totalLength = Int(reader.u16(start + 2))
        let captured = bytes.count - start
        if totalLength == 0 {
            // Linux with TCP segmentation offload hands captures a 0 total length for large
            // outgoing segments; what was captured is the best length there is.
            totalLength = captured
        }
        guard totalLength >= headerLength else {
            throw failure(start + 2, "IPv4 total length \(totalLength) is below its header length \(headerLength)")
        }
        guard captured >= totalLength else {
            throw failure(start, "captured \(captured) bytes of \(totalLength) (snaplen too small?)")
        }
        let source = Array(bytes[(start + 12)..<(start + 16)])
        let destination = Array(bytes[(start + 16)..<(start + 20)])
        return try tcp(at: start + headerLength, end: start + totalLength, source: source, destination: destination)
    }

    func ipv6(at start: Int) throws(PacketCaptureError) -> TCPSegment? {
        try need(40, at: start, for: "IPv6 header")
        let version = bytes[start] >> 4
        guard version == 6 else { throw failure(start, "IPv6 header has version \(version)") }
        var payloadLength = Int(reader.u16(start + 4))
        let captured = bytes.count - start
        if payloadLength == 0 {
            // Jumbograms and segmentation offload both leave 0 here; use what was captured.
            payloadLength = captured - 40
        }
        let end = start + 40 + payloadLength
        guard captured >= 40 + payloadLength else {
            throw failure(start, "captured \(captured) bytes of \(40 + payloadLength) (snaplen too small?)")
        }
        var next = bytes[start + 6]
        var offset = start + 40
        // Walk the extension headers that may precede TCP.
        while true {
            switch next {
            case 6:
                let source = Array(bytes[(start + 8)..<(start + 24)])
                let destination = Array(bytes[(start + 24)..<(start + 40)])
                return try tcp(at: offset, end: end, source: source, destination: destination)
            case 0, 43, 60, 51:
                // Hop-by-hop, routing, destination options: (length + 1) * 8 bytes; authentication
                // header: (length + 2) * 4 bytes.
                let name = next == 51 ? "IPv6 authentication header" : "IPv6 extension header \(next)"
                guard end - offset >= 2 else {
                    throw failure(offset, "\(name) runs past the IPv6 payload")
                }
                let length = next == 51 ? (Int(bytes[offset + 1]) + 2) * 4 : (Int(bytes[offset + 1]) + 1) * 8
                guard length <= end - offset else {
                    throw failure(offset, "\(name) of \(length) bytes runs past the IPv6 payload")
                }
                next = bytes[offset]
                offset += length
            default:
                return nil  // fragment (44), ESP, no next header, UDP, ICMPv6…
            }
        }
    }

    // MARK: TCP

    /// The TCP segment from `start` to `end` (the IP payload's end, not the capture's).
    func tcp(at start: Int, end: Int, source: [UInt8], destination: [UInt8]) throws(PacketCaptureError) -> TCPSegment {
        guard end - start >= 20 else {
            throw failure(start, "TCP header needs 20 bytes, IP payload has \(end - start)")
        }
        let dataOffset = Int(bytes[start + 12] >> 4) * 4
        guard dataOffset >= 20 else {
            throw failure(start + 12, "TCP data offset \(dataOffset) bytes is below 20")
        }
        guard dataOffset <= end - start else {
            throw failure(start + 12, "TCP data offset \(dataOffset) bytes runs past the \(end - start)-byte IP payload")
        }
        let flags = bytes[start + 13]
        return TCPSegment(
            packetIndex: packet.index,
            timestampNanoseconds: packet.timestampNanoseconds,
            source: TCPEndpoint(address: source, port: reader.u16(start)),
            destination: TCPEndpoint(address: destination, port: reader.u16(start + 2)),
            sequence: reader.u32(start + 4),
            acknowledgment: reader.u32(start + 8),
            syn: flags & 0x02 != 0,
            fin: flags & 0x01 != 0,
            rst: flags & 0x04 != 0,
            ack: flags & 0x10 != 0,
            payload: Array(bytes[(start + dataOffset)..<end]))
    }
}
