import Conformance
import Testing

/// The writer's files read back by the reader, and their headers checked field by field.
struct PcapngWriterTests {
    static let start: Int64 = 1_750_000_000_000_000_000

    static func chunk(_ direction: TCPDirection, _ at: Int64, _ text: String) -> TCPChunk {
        TCPChunk(direction: direction, timestampNanoseconds: start + at, bytes: CaptureFixtures.frame(text))
    }

    /// Two conversations overlapping in time, and one with a chunk too big for one packet.
    static let exported: [ExportedConversation] = [
        ExportedConversation(clientPort: 50001, serverPort: 9100, chunks: [
            chunk(.fromClient, 0, "0800 one"), chunk(.fromServer, 5_000, "0810 one"),
            chunk(.fromClient, 20_000, "0200 one"), chunk(.fromServer, 40_000, "0210 one"),
        ]),
        ExportedConversation(clientPort: 50002, serverPort: 9100, chunks: [
            chunk(.fromClient, 10_000, "0800 two"), chunk(.fromServer, 30_000, "0810 two"),
        ]),
        ExportedConversation(clientPort: 50003, serverPort: 9200, chunks: [
            TCPChunk(direction: .fromClient, timestampNanoseconds: start + 100_000,
                     bytes: (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
            chunk(.fromServer, 200_000, "done"),
        ]),
    ]

    @Test func roundTripThroughTheReader() throws {
        let file = PcapngWriter.write(Self.exported, comment: "payswitch capture export")
        let packets = try PacketCapture.packets(in: file)
        #expect(packets.allSatisfy { $0.linkType == 1 })
        // Written in timestamp order across conversations.
        #expect(zip(packets, packets.dropFirst()).allSatisfy { $0.timestampNanoseconds <= $1.timestampNanoseconds })
        let all = try reassembledConversations(in: file)
        #expect(all.count == 3)
        let byPort = Dictionary(uniqueKeysWithValues: all.map { ($0.client.port, $0) })
        for exported in Self.exported {
            let conversation = try #require(byPort[exported.clientPort])
            #expect(conversation.server.port == exported.serverPort)
            #expect(conversation.server.description == "127.0.0.1:\(exported.serverPort)")
            #expect(conversation.sawHandshake)
            #expect(conversation.closed)
            #expect(conversation.gaps.isEmpty)
            #expect(conversation.retransmittedBytes == 0)
            #expect(deliveredBytes(conversation, .fromClient) == exported.chunks.filter { $0.direction == .fromClient }.flatMap(\.bytes))
            #expect(deliveredBytes(conversation, .fromServer) == exported.chunks.filter { $0.direction == .fromServer }.flatMap(\.bytes))
            // The handshake comes 3 µs before the first chunk.
            #expect(conversation.firstTimestampNanoseconds == (exported.chunks.first?.timestampNanoseconds ?? 0) - 3_000)
            if exported.chunks.allSatisfy({ $0.bytes.count <= 65_000 }) {
                #expect(conversation.chunks == exported.chunks)
            }
        }
        // The big chunk went as 65,000 + 65,000 + 20,000 bytes.
        let big = try #require(byPort[50003])
        #expect(big.chunks.map(\.bytes.count) == [65_000, 65_000, 20_000, 6])
    }

    @Test func emptyConversationIsAHandshakeAndAClose() throws {
        let file = PcapngWriter.write([ExportedConversation(clientPort: 1234, serverPort: 9100, chunks: [])])
        let packets = try PacketCapture.packets(in: file)
        #expect(packets.count == 6)
        let conversation = try #require(try reassembledConversations(in: file).first)
        #expect(conversation.chunks.isEmpty)
        #expect(conversation.sawHandshake && conversation.closed)
    }

    @Test func headerFieldsAndChecksums() throws {
        let file = PcapngWriter.write(Self.exported)
        var sawFlags: Set<UInt8> = []
        for packet in try PacketCapture.packets(in: file) {
            let frame = packet.bytes
            #expect(frame[12] == 0x08 && frame[13] == 0x00)
            #expect(frame[0] & 0x02 == 0x02 && frame[0] & 0x01 == 0)  // locally administered, unicast
            let ip = Array(frame[14..<34])
            #expect(ip[0] == 0x45)
            #expect(Int(ip[2]) << 8 | Int(ip[3]) == frame.count - 14)
            #expect(ip[9] == 6)
            #expect(Self.checksum(ip) == 0, "IPv4 header checksum of packet \(packet.index)")
            let tcp = Array(frame[34...])
            let pseudo: [UInt8] = [127, 0, 0, 1, 127, 0, 0, 1, 0, 6, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF)]
            #expect(Self.checksum(pseudo + tcp) == 0, "TCP checksum of packet \(packet.index)")
            #expect(tcp.count - 20 <= 65_000)
            sawFlags.insert(tcp[13])
        }
        #expect(sawFlags == [0x02, 0x12, 0x10, 0x18, 0x11])  // SYN, SYN-ACK, ACK, PSH-ACK, FIN-ACK
    }

    @Test func sequenceNumbersFollowTheData() throws {
        let file = PcapngWriter.write([Self.exported[1]])
        let segments = try PacketCapture.packets(in: file).compactMap { try TCPSegment.parse($0) }
        #expect(segments.count == 8)
        let syn = segments[0], synAck = segments[1]
        #expect(synAck.acknowledgment == syn.sequence &+ 1)
        // Every segment after the SYN acknowledges exactly what the other side has sent so far.
        var next: [UInt16: UInt32] = [50002: syn.sequence &+ 1, 9100: synAck.sequence &+ 1]
        for segment in segments.dropFirst(2) {
            #expect(segment.ack)
            #expect(segment.sequence == next[segment.source.port])
            #expect(segment.acknowledgment == next[segment.destination.port])
            next[segment.source.port] = segment.sequence &+ UInt32(segment.payload.count) &+ (segment.fin ? 1 : 0)
        }
    }

    @Test func sectionHeaderOptions() throws {
        let file = PcapngWriter.write([], comment: "exported by a test")
        #expect(try PacketCapture.packets(in: file).isEmpty)
        #expect(Array(file[0..<4]) == [0x0A, 0x0D, 0x0D, 0x0A])
        #expect(Array(file[8..<12]) == [0x4D, 0x3C, 0x2B, 0x1A])  // little-endian byte-order magic
        #expect(Self.contains(file, Array("exported by a test".utf8)))
        #expect(Self.contains(file, Array("payswitch".utf8)))
        // if_tsresol = 9: option code 9, length 1, value 9.
        #expect(Self.contains(file, [9, 0, 1, 0, 9, 0, 0, 0]))
        #expect(!Self.contains(PcapngWriter.write([]), Array("exported".utf8)))
    }

    /// The RFC 1071 sum of `bytes`; 0 over a header whose checksum field is right.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index < bytes.count {
            sum += UInt32(bytes[index]) << 8 | (index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0)
            index += 2
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
