import Conformance
import Testing

/// From packets to TCP segments: every link layer, IPv4 and IPv6, and headers that lie.
struct TCPSegmentTests {
    static let payload = Array("0800 ping".utf8)
    static let tcp = tcpBytes(sequence: 0xDEAD_BEEF, acknowledgment: 0x0102_0304, flags: 0x18, payload: payload)
    static let v4 = ipv4Bytes(tcp)
    static let v6 = ipv6Bytes(tcp)

    /// The same IPv4 or IPv6 segment behind each link layer.
    static let framings: [(name: String, linkType: UInt32, bytes: [UInt8], v6: Bool)] = [
        ("Ethernet", 1, ethernetBytes(v4), false),
        ("Ethernet IPv6", 1, ethernetBytes(v6, etherType: 0x86DD), true),
        ("802.1Q", 1, ethernetBytes(v4, tags: [0x8100]), false),
        ("802.1ad + 802.1Q", 1, ethernetBytes(v6, etherType: 0x86DD, tags: [0x88A8, 0x8100]), true),
        ("Linux cooked", 113, [0, 0, 3, 4, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00] + v4, false),
        ("Linux cooked v2", 276, [0x86, 0xDD, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + v6, true),
        ("null, little-endian AF_INET", 0, [2, 0, 0, 0] + v4, false),
        ("null, big-endian AF_INET", 0, [0, 0, 0, 2] + v4, false),
        ("null, AF_INET6 BSD 24", 0, [24, 0, 0, 0] + v6, true),
        ("null, AF_INET6 FreeBSD 28", 0, [0, 0, 0, 28] + v6, true),
        ("null, AF_INET6 macOS 30", 0, [30, 0, 0, 0] + v6, true),
        ("raw 12", 12, v4, false),
        ("raw 14", 14, v6, true),
        ("raw 101", 101, v4, false),
        ("IPv4", 228, v4, false),
        ("IPv6", 229, v6, true),
    ]

    @Test(arguments: framings)
    func linkLayer(name: String, linkType: UInt32, bytes: [UInt8], v6: Bool) throws {
        let segment = try #require(try TCPSegment.parse(capturedPacket(bytes, linkType: linkType, index: 4, timestamp: 99)), "\(name)")
        #expect(segment.packetIndex == 4)
        #expect(segment.timestampNanoseconds == 99)
        #expect(segment.source.port == 40000)
        #expect(segment.destination.port == 9100)
        #expect(segment.source.address.count == (v6 ? 16 : 4))
        #expect(segment.source.description == (v6 ? "[2001:db8::1]:40000" : "10.0.0.1:40000"))
        #expect(segment.destination.description == (v6 ? "[2001:db8::2]:9100" : "10.0.0.2:9100"))
        #expect(segment.sequence == 0xDEAD_BEEF)
        #expect(segment.acknowledgment == 0x0102_0304)
        #expect(segment.ack && !segment.syn && !segment.fin && !segment.rst)
        #expect(segment.payload == Self.payload)
    }

    @Test func flagsAndOptions() throws {
        let syn = tcpBytes(flags: 0x02, dataOffset: 40)
        let parsed = try #require(try TCPSegment.parse(capturedPacket(ethernetBytes(ipv4Bytes(syn)))))
        #expect(parsed.syn && !parsed.ack && parsed.payload.isEmpty)
        let finRst = try #require(try TCPSegment.parse(capturedPacket(ethernetBytes(ipv4Bytes(tcpBytes(flags: 0x15, dataOffset: 24, payload: [7]))))))
        #expect(finRst.fin && finRst.rst && finRst.ack && !finRst.syn)
        #expect(finRst.payload == [7])
    }

    @Test func ethernetPaddingIsNotPayload() throws {
        let pureAck = ipv4Bytes(tcpBytes(flags: 0x10))  // 40 bytes: Ethernet pads to 46
        let frame = ethernetBytes(pureAck) + [UInt8](repeating: 0, count: 6)
        let segment = try #require(try TCPSegment.parse(capturedPacket(frame)))
        #expect(segment.payload.isEmpty)
    }

    @Test func ipv4OptionsAreSkipped() throws {
        var header = ipv4Bytes(Self.tcp, ihl: 6, totalLength: 24 + Self.tcp.count)
        header.insert(contentsOf: [1, 1, 1, 0], at: 20)  // NOP NOP NOP EOL
        let segment = try #require(try TCPSegment.parse(capturedPacket(header, linkType: 228)))
        #expect(segment.payload == Self.payload)
    }

    @Test func segmentationOffloadZeroLength() throws {
        let segment = try #require(try TCPSegment.parse(capturedPacket(ipv4Bytes(Self.tcp, totalLength: 0), linkType: 228)))
        #expect(segment.payload == Self.payload)
    }

    @Test func ipv6ExtensionHeadersAreSkipped() throws {
        // Hop-by-hop (8 bytes, PadN) -> destination options (16 bytes) -> routing (8 bytes) -> TCP.
        let hopByHop: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0]
        let destination: [UInt8] = [43, 1, 1, 12] + [UInt8](repeating: 0, count: 12)
        let routing: [UInt8] = [6, 0, 0, 0, 0, 0, 0, 0]
        let bytes = ipv6Bytes(hopByHop + destination + routing + Self.tcp, next: 0)
        let segment = try #require(try TCPSegment.parse(capturedPacket(bytes, linkType: 229)))
        #expect(segment.payload == Self.payload)
        #expect(segment.destination.port == 9100)
    }

    /// Packets that are not whole TCP segments are skipped, not errors.
    static let notTCP: [(name: String, linkType: UInt32, bytes: [UInt8])] = [
        ("ARP", 1, ethernetBytes([0, 1, 8, 0, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20), etherType: 0x0806)),
        ("802.3 length field", 1, ethernetBytes([UInt8](repeating: 0x42, count: 46), etherType: 46)),
        ("UDP", 1, ethernetBytes(ipv4Bytes([0, 53, 0, 53, 0, 8, 0, 0], protocolNumber: 17))),
        ("ICMP", 228, ipv4Bytes([8, 0, 0, 0, 0, 1, 0, 1], protocolNumber: 1)),
        ("first fragment (MF)", 228, ipv4Bytes(tcp, fragment: 0x2000)),
        ("later fragment", 228, ipv4Bytes([1, 2, 3, 4, 5, 6, 7, 8], fragment: 0x0010)),
        ("IPv6 fragment header", 229, ipv6Bytes([6, 0, 0, 1, 0, 0, 0, 1] + tcp, next: 44)),
        ("ICMPv6", 229, ipv6Bytes([128, 0, 0, 0], next: 58)),
        ("null family AF_UNIX", 0, [1, 0, 0, 0] + v4),
        ("raw, version 5", 101, [0x50] + [UInt8](repeating: 0, count: 39)),
    ]

    @Test(arguments: notTCP)
    func notTCPIsNil(name: String, linkType: UInt32, bytes: [UInt8]) throws {
        #expect(try TCPSegment.parse(capturedPacket(bytes, linkType: linkType)) == nil, "\(name)")
    }

    /// Headers that lie, and packets captured too short, throw with the packet named.
    static let lies: [(name: String, linkType: UInt32, bytes: [UInt8], offset: Int, reason: String)] = [
        ("IHL 4", 1, ethernetBytes(ipv4Bytes(tcp, ihl: 1)), 14, "packet 12: IPv4 header length 4 bytes is below 20"),
        ("total length below header", 228, ipv4Bytes(tcp, ihl: 6, totalLength: 22), 2,
         "packet 12: IPv4 total length 22 is below its header length 24"),
        ("version 6 in an IPv4 frame", 1, ethernetBytes(v6), 14, "packet 12: IPv4 header has version 6"),
        ("TCP data offset 16", 228, ipv4Bytes(tcpBytes(dataOffset: 16)), 32, "packet 12: TCP data offset 16 bytes is below 20"),
        ("TCP data offset past payload", 228, ipv4Bytes(Array(tcpBytes(dataOffset: 60).prefix(24))), 32,
         "packet 12: TCP data offset 60 bytes runs past the 24-byte IP payload"),
        ("TCP header short", 228, ipv4Bytes(Array(tcp.prefix(12))), 20, "packet 12: TCP header needs 20 bytes, IP payload has 12"),
        ("snaplen", 1, Array(ethernetBytes(v4).prefix(60)), 14, "packet 12: captured 46 bytes of 49 (snaplen too small?)"),
        ("IPv6 snaplen", 229, Array(v6.prefix(50)), 0, "packet 12: captured 50 bytes of 69 (snaplen too small?)"),
        ("short Ethernet", 1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0, "packet 12: Ethernet header needs 14 bytes, captured 10"),
        ("short IPv4 header", 1, ethernetBytes([0x45, 0, 0, 40]), 14, "packet 12: IPv4 header needs 20 bytes, captured 4"),
        ("short VLAN tag", 1, [UInt8](repeating: 0, count: 12) + [0x81, 0x00, 0, 1], 14, "packet 12: VLAN tag needs 4 bytes, captured 2"),
        ("IPv6 extension past payload", 229, ipv6Bytes([6, 9, 0, 0, 0, 0, 0, 0] + tcp, next: 60), 40,
         "packet 12: IPv6 extension header 60 of 80 bytes runs past the IPv6 payload"),
        ("unsupported link type", 127, v4, 0, "packet 12: link type 127 is not supported"),
    ]

    @Test(arguments: lies)
    func lyingHeaderThrows(name: String, linkType: UInt32, bytes: [UInt8], offset: Int, reason: String) {
        let error = #expect(throws: PacketCaptureError.self, "\(name)") {
            try TCPSegment.parse(capturedPacket(bytes, linkType: linkType, index: 12))
        }
        #expect(error?.reason == reason, "\(name)")
        #expect(error?.offset == offset, "\(name)")
    }

    /// Every prefix of a real packet parses or throws; none crashes.
    @Test func everyPrefixOfAFixturePacket() throws {
        for name in ["lo-ethernet-usec.pcap", "any-sll2.pcap", "lo-ipv6.pcapng"] {
            for packet in try PacketCapture.packets(in: CaptureFixtures.bytes(name)) {
                for cut in 0...packet.bytes.count {
                    var short = packet
                    short.bytes = Array(packet.bytes[..<cut])
                    if cut < packet.bytes.count {
                        #expect(throws: PacketCaptureError.self) { try TCPSegment.parse(short) }
                    } else {
                        #expect(try TCPSegment.parse(short) != nil)
                    }
                }
            }
        }
    }

    @Test(arguments: [
        ([UInt8](repeating: 0, count: 15) + [1], "[::1]:9100"),
        ([UInt8](repeating: 0, count: 16), "[::]:9100"),
        ([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "[2001:db8::1:0:0:1]:9100"),
        ([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "[2001:db8:0:1:1:1:1:1]:9100"),
        ([0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "[fe80::]:9100"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xC0, 0, 2, 0x80], "[::ffff:c000:280]:9100"),
        ([127, 0, 0, 1], "127.0.0.1:9100"),
        ([192, 168, 255, 10], "192.168.255.10:9100"),
    ])
    func endpointDescription(address: [UInt8], text: String) {
        #expect(TCPEndpoint(address: address, port: 9100).description == text)
    }

    @Test func endpointOrder() {
        let v4 = TCPEndpoint(address: [10, 0, 0, 1], port: 9)
        let v4b = TCPEndpoint(address: [10, 0, 0, 1], port: 10)
        let v4c = TCPEndpoint(address: [10, 0, 0, 2], port: 1)
        let v6 = TCPEndpoint(address: [UInt8](repeating: 0, count: 16), port: 1)
        #expect([v6, v4c, v4b, v4].sorted() == [v4, v4b, v4c, v6])
    }
}
