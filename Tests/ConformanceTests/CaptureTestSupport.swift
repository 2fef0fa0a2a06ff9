import Conformance
import Foundation
import Testing

/// The capture files of Captures/ (made by tools/capture-fixtures.sh with tcpdump and dumpcap),
/// read relative to this source file so the test target needs no resources.
enum CaptureFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Captures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// What every fixture holds: a client on an ephemeral port talks to port 19100 in lock step.
    static let serverPort: UInt16 = 19100
    static let expectedChunks: [(TCPDirection, String)] = [
        (.fromClient, "HELLO-ONE"), (.fromServer, "REPLY-ONE"), (.fromClient, "HELLO-TWO"), (.fromServer, "REPLY-TWO"),
    ]

    /// A frame as the fixture script sends it: 2-byte big-endian length, then ASCII.
    static func frame(_ text: String) -> [UInt8] {
        let body = Array(text.utf8)
        return [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }
}

/// Reads a capture all the way to conversations, as `payswitch capture import` does.
func reassembledConversations(in file: [UInt8], serverPorts: Set<UInt16> = []) throws -> [TCPConversation] {
    var reassembler = TCPReassembler(serverPorts: serverPorts)
    for packet in try PacketCapture.packets(in: file) {
        if let segment = try TCPSegment.parse(packet) { reassembler.add(segment) }
    }
    return reassembler.finish()
}

/// All the bytes one direction delivered, chunks joined.
func deliveredBytes(_ conversation: TCPConversation, _ direction: TCPDirection) -> [UInt8] {
    conversation.chunks.filter { $0.direction == direction }.flatMap(\.bytes)
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - Building packets by hand

extension [UInt8] {
    mutating func put16(_ value: UInt16, bigEndian: Bool = true) {
        let bytes = [UInt8(value >> 8), UInt8(value & 0xFF)]
        append(contentsOf: bigEndian ? bytes : bytes.reversed())
    }

    mutating func put32(_ value: UInt32, bigEndian: Bool = true) {
        let bytes = [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        append(contentsOf: bigEndian ? bytes : bytes.reversed())
    }

    mutating func put64(_ value: UInt64, bigEndian: Bool = true) {
        let high = UInt32(value >> 32), low = UInt32(value & 0xFFFF_FFFF)
        if bigEndian {
            put32(high); put32(low)
        } else {
            put32(low, bigEndian: false); put32(high, bigEndian: false)
        }
    }
}

/// A TCP header (20 bytes unless `dataOffset` says otherwise) followed by `payload`.
func tcpBytes(
    sourcePort: UInt16 = 40000, destinationPort: UInt16 = 9100, sequence: UInt32 = 1000, acknowledgment: UInt32 = 0,
    flags: UInt8 = 0x18, dataOffset: Int = 20, payload: [UInt8] = []
) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.put16(sourcePort)
    bytes.put16(destinationPort)
    bytes.put32(sequence)
    bytes.put32(acknowledgment)
    bytes += [UInt8((dataOffset / 4) << 4), flags, 0xFF, 0xFF, 0, 0, 0, 0]
    bytes += [UInt8](repeating: 1, count: max(0, dataOffset - 20))  // NOP options
    return bytes + payload
}

/// An IPv4 header around `payload`; `totalLength` and `ihl` can be made to lie.
func ipv4Bytes(
    _ payload: [UInt8], protocolNumber: UInt8 = 6, source: [UInt8] = [10, 0, 0, 1], destination: [UInt8] = [10, 0, 0, 2],
    ihl: UInt8 = 5, totalLength: Int? = nil, fragment: UInt16 = 0x4000
) -> [UInt8] {
    var bytes: [UInt8] = [0x40 | ihl, 0]
    bytes.put16(UInt16(totalLength ?? (20 + payload.count)))
    bytes.put16(0x1234)
    bytes.put16(fragment)
    bytes += [64, protocolNumber, 0, 0]
    bytes += source + destination
    return bytes + payload
}

/// An IPv6 header around `payload` (extension headers included in it), next header `next`.
func ipv6Bytes(
    _ payload: [UInt8], next: UInt8 = 6, source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1],
    destination: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2], payloadLength: Int? = nil
) -> [UInt8] {
    var bytes: [UInt8] = [0x60, 0, 0, 0]
    bytes.put16(UInt16(payloadLength ?? payload.count))
    bytes += [next, 64]
    bytes += source + destination
    return bytes + payload
}

/// An Ethernet header with `etherType` (and VLAN tags before it) around `payload`.
func ethernetBytes(_ payload: [UInt8], etherType: UInt16 = 0x0800, tags: [UInt16] = []) -> [UInt8] {
    var bytes: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
    for tag in tags {
        bytes.put16(tag)
        bytes.put16(0x0064)  // VLAN 100
    }
    bytes.put16(etherType)
    return bytes + payload
}

func capturedPacket(_ bytes: [UInt8], linkType: UInt32 = 1, index: Int = 0, timestamp: Int64 = 1_700_000_000_000_000_000) -> CapturedPacket {
    CapturedPacket(index: index, timestampNanoseconds: timestamp, linkType: linkType, bytes: bytes)
}

// MARK: - Building capture files by hand

/// A classic pcap file in either byte order and precision.
func classicPcap(_ packets: [CapturedPacket], bigEndian: Bool = false, nanoseconds: Bool = false, linkType: UInt32 = 1, snaplen: UInt32 = 262_144) -> [UInt8] {
    var file: [UInt8] = []
    file.put32(nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4, bigEndian: bigEndian)
    file.put16(2, bigEndian: bigEndian)
    file.put16(4, bigEndian: bigEndian)
    file.put32(0, bigEndian: bigEndian)
    file.put32(0, bigEndian: bigEndian)
    file.put32(snaplen, bigEndian: bigEndian)
    file.put32(linkType, bigEndian: bigEndian)
    for packet in packets {
        let seconds = packet.timestampNanoseconds / 1_000_000_000
        let fraction = packet.timestampNanoseconds % 1_000_000_000
        file.put32(UInt32(seconds), bigEndian: bigEndian)
        file.put32(UInt32(nanoseconds ? fraction : fraction / 1000), bigEndian: bigEndian)
        file.put32(UInt32(packet.bytes.count), bigEndian: bigEndian)
        file.put32(UInt32(packet.bytes.count), bigEndian: bigEndian)
        file += packet.bytes
    }
    return file
}

/// pcapng blocks in one byte order, for files no tool here writes (big-endian, odd resolutions).
struct PcapngBuilder {
    var bigEndian: Bool
    var bytes: [UInt8] = []

    mutating func block(_ type: UInt32, _ body: [UInt8]) {
        var padded = body
        padded += [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        bytes.put32(type, bigEndian: bigEndian)
        bytes.put32(UInt32(12 + padded.count), bigEndian: bigEndian)
        bytes += padded
        bytes.put32(UInt32(12 + padded.count), bigEndian: bigEndian)
    }

    func option(_ code: UInt16, _ value: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.put16(code, bigEndian: bigEndian)
        bytes.put16(UInt16(value.count), bigEndian: bigEndian)
        return bytes + value + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    mutating func section() {
        var body: [UInt8] = []
        body.put32(0x1A2B_3C4D, bigEndian: bigEndian)
        body.put16(1, bigEndian: bigEndian)
        body.put16(0, bigEndian: bigEndian)
        body.put64(UInt64.max, bigEndian: bigEndian)
        block(0x0A0D_0D0A, body)
    }

    /// `resolution` is the raw if_tsresol byte, nil for the default (microseconds).
    mutating func interface(linkType: UInt16, snaplen: UInt32 = 0, resolution: UInt8? = nil, offsetSeconds: Int64? = nil) {
        var body: [UInt8] = []
        body.put16(linkType, bigEndian: bigEndian)
        body.put16(0, bigEndian: bigEndian)
        body.put32(snaplen, bigEndian: bigEndian)
        body += option(2, Array("eth9".utf8))  // if_name, to be skipped
        if let resolution { body += option(9, [resolution]) }
        if let offsetSeconds {
            var value: [UInt8] = []
            value.put64(UInt64(bitPattern: offsetSeconds), bigEndian: bigEndian)
            body += option(14, value)
        }
        body += option(0, [])
        block(1, body)
    }

    mutating func enhancedPacket(interface: UInt32, units: UInt64, data: [UInt8], comment: String? = nil) {
        var body: [UInt8] = []
        body.put32(interface, bigEndian: bigEndian)
        body.put32(UInt32(units >> 32), bigEndian: bigEndian)
        body.put32(UInt32(units & 0xFFFF_FFFF), bigEndian: bigEndian)
        body.put32(UInt32(data.count), bigEndian: bigEndian)
        body.put32(UInt32(data.count), bigEndian: bigEndian)
        body += data + [UInt8](repeating: 0, count: (4 - data.count % 4) % 4)
        if let comment { body += option(1, Array(comment.utf8)) + option(0, []) }
        block(6, body)
    }

    mutating func simplePacket(data: [UInt8], originalLength: UInt32? = nil) {
        var body: [UInt8] = []
        body.put32(originalLength ?? UInt32(data.count), bigEndian: bigEndian)
        body += data
        block(3, body)
    }

    mutating func obsoletePacket(interface: UInt16, units: UInt64, data: [UInt8]) {
        var body: [UInt8] = []
        body.put16(interface, bigEndian: bigEndian)
        body.put16(0, bigEndian: bigEndian)
        body.put32(UInt32(units >> 32), bigEndian: bigEndian)
        body.put32(UInt32(units & 0xFFFF_FFFF), bigEndian: bigEndian)
        body.put32(UInt32(data.count), bigEndian: bigEndian)
        body.put32(UInt32(data.count), bigEndian: bigEndian)
        body += data
        block(2, body)
    }
}
