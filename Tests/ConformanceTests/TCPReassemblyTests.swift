import Conformance
import Testing

/// Reassembly from hand-made segments: each test is a small capture story.
struct TCPReassemblyTests {
    static let client = TCPEndpoint(address: [10, 0, 0, 1], port: 40000)
    static let server = TCPEndpoint(address: [10, 0, 0, 2], port: 9100)

    /// Builds the segments of a story, numbering packets and ticking the clock by 1 µs.
    struct Story {
        var segments: [TCPSegment] = []
        var client = TCPReassemblyTests.client
        var server = TCPReassemblyTests.server

        mutating func send(
            fromClient: Bool = true, seq: UInt32, ack: UInt32? = nil, syn: Bool = false, fin: Bool = false,
            rst: Bool = false, _ text: String = ""
        ) {
            segments.append(TCPSegment(
                packetIndex: segments.count, timestampNanoseconds: Int64(segments.count + 1) * 1000,
                source: fromClient ? client : server, destination: fromClient ? server : client,
                sequence: seq, acknowledgment: ack ?? 0, syn: syn, fin: fin, rst: rst, ack: ack != nil,
                payload: Array(text.utf8)))
        }

        /// SYN, SYN-ACK, ACK with the given initial sequence numbers.
        mutating func handshake(client isn: UInt32 = 1000, server serverISN: UInt32 = 5000) {
            send(seq: isn, syn: true)
            send(fromClient: false, seq: serverISN, ack: isn &+ 1, syn: true)
            send(seq: isn &+ 1, ack: serverISN &+ 1)
        }

        func run(serverPorts: Set<UInt16> = []) -> [TCPConversation] {
            var reassembler = TCPReassembler(serverPorts: serverPorts)
            for segment in segments { reassembler.add(segment) }
            return reassembler.finish()
        }

        func only(serverPorts: Set<UInt16> = []) throws -> TCPConversation {
            let all = run(serverPorts: serverPorts)
            try #require(all.count == 1)
            return all[0]
        }
    }

    static func texts(_ conversation: TCPConversation) -> [String] {
        conversation.chunks.map { ($0.direction == .fromClient ? "C:" : "S:") + String(decoding: $0.bytes, as: UTF8.self) }
    }

    @Test func inOrderExchange() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, "hello")
        story.send(fromClient: false, seq: 5001, ack: 1006, "world!")
        story.send(seq: 1006, ack: 5007, fin: true)
        story.send(fromClient: false, seq: 5007, ack: 1007, fin: true)
        story.send(seq: 1007, ack: 5008)
        let conversation = try story.only()
        #expect(conversation.client == Self.client)
        #expect(conversation.server == Self.server)
        #expect(conversation.firstTimestampNanoseconds == 1000)
        #expect(Self.texts(conversation) == ["C:hello", "S:world!"])
        #expect(conversation.chunks.map(\.timestampNanoseconds) == [4000, 5000])
        #expect(conversation.sawHandshake)
        #expect(conversation.closed)
        #expect(conversation.gaps.isEmpty)
        #expect(conversation.retransmittedBytes == 0)
    }

    @Test func retransmissionIsDropped() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, "abcde")
        story.send(seq: 1001, ack: 5001, "abcde")
        story.send(seq: 1006, ack: 5001, "fg")
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["C:abcde", "C:fg"])
        #expect(conversation.retransmittedBytes == 5)
        #expect(!conversation.closed)
    }

    @Test func overlapDeliversOnlyTheNewTail() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, "0123456789")
        story.send(seq: 1006, ack: 5001, "56789ABCDE")  // 5 old, 5 new
        story.send(seq: 1003, ack: 5001, "234")  // wholly old
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["C:0123456789", "C:ABCDE"])
        #expect(conversation.retransmittedBytes == 8)
    }

    @Test func outOfOrderWaitsForTheHole() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1011, ack: 5001, "KLMNO")  // packet 3, ahead
        story.send(seq: 1006, ack: 5001, "FGHIJ")  // packet 4, also ahead
        story.send(fromClient: false, seq: 5001, ack: 1001, "reply")  // the other way is not held up
        story.send(seq: 1001, ack: 5001, "ABCDE")  // fills the hole
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["S:reply", "C:ABCDEFGHIJKLMNO"])
        // Readable when the hole was filled, not when the later bytes arrived.
        #expect(conversation.chunks.map(\.timestampNanoseconds) == [6000, 7000])
        #expect(conversation.gaps.isEmpty)
        #expect(conversation.retransmittedBytes == 0)
    }

    @Test func overlappingHeldSegments() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1006, ack: 5001, "FGHIJ")
        story.send(seq: 1006, ack: 5001, "FGHIJ")  // duplicate while held
        story.send(seq: 1009, ack: 5001, "IJKLM")  // overlaps the held one
        story.send(seq: 1001, ack: 5001, "ABCDEFG")  // fills and overlaps 2 bytes
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["C:ABCDEFGHIJKLM"])
        #expect(conversation.retransmittedBytes == 2 + 5 + 2)
    }

    @Test func unfilledHoleIsAGapAndLaterDataStillComes() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, "0123456789")  // packet 3
        story.send(seq: 1021, ack: 5001, "KLMNO")  // packet 4: 10 bytes missing before it
        story.send(fromClient: false, seq: 5001, ack: 1011, "ack")  // packet 5
        story.send(seq: 1026, ack: 5004, "PQ")  // packet 6: contiguous with the held data
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["C:0123456789", "S:ack", "C:KLMNOPQ"])
        #expect(conversation.gaps == [TCPGap(direction: .fromClient, streamOffset: 10, missingBytes: 10, packetIndex: 4)])
        #expect(conversation.gaps[0].description == "fromClient: 10 bytes missing after 10 bytes delivered (before packet 4)")
        // Held chunks keep their own capture time.
        #expect(conversation.chunks.last?.timestampNanoseconds == 5000)
    }

    /// Two holes in one direction, the later one's data captured first: each direction's chunks
    /// stay in stream order, and each gap says how many delivered bytes precede it.
    @Test func twoHolesInOneDirection() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, "0123456789")  // packet 3: offsets 0..<10
        story.send(seq: 1031, ack: 5001, "XY")  // packet 4: offsets 30..<32
        story.send(seq: 1021, ack: 5001, "KLMNO")  // packet 5: offsets 20..<25
        story.send(fromClient: false, seq: 5004, ack: 1011, "later")  // packet 6: 3 server bytes missing
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["C:0123456789", "C:KLMNO", "C:XY", "S:later"])
        #expect(conversation.gaps == [
            TCPGap(direction: .fromClient, streamOffset: 10, missingBytes: 10, packetIndex: 5),
            TCPGap(direction: .fromClient, streamOffset: 15, missingBytes: 5, packetIndex: 4),
            TCPGap(direction: .fromServer, streamOffset: 0, missingBytes: 3, packetIndex: 6),
        ])
        // Where each gap falls in the joined chunks of its direction.
        let client = deliveredBytes(conversation, .fromClient)
        #expect(String(decoding: client[..<10], as: UTF8.self) == "0123456789")
        #expect(String(decoding: client[10..<15], as: UTF8.self) == "KLMNO")
        #expect(String(decoding: client[15...], as: UTF8.self) == "XY")
    }

    @Test func gapsInBothDirections() throws {
        var story = Story()
        story.handshake()
        story.send(fromClient: false, seq: 5004, ack: 1001, "later")  // 3 bytes of the server missing
        story.send(seq: 1002, ack: 5001, "x")  // 1 byte of the client missing
        let conversation = try story.only()
        #expect(Set(conversation.gaps) == [
            TCPGap(direction: .fromServer, streamOffset: 0, missingBytes: 3, packetIndex: 3),
            TCPGap(direction: .fromClient, streamOffset: 0, missingBytes: 1, packetIndex: 4),
        ])
        #expect(Self.texts(conversation) == ["S:later", "C:x"])
    }

    /// Sequence numbers that wrap past 2^32 mid-stream, with out-of-order data across the wrap.
    @Test func sequenceWraparound() throws {
        var story = Story()
        let isn: UInt32 = 0xFFFF_FFF0
        story.handshake(client: isn, server: 0xFFFF_FFFE)
        story.send(seq: 0xFFFF_FFF1, ack: 0xFFFF_FFFF, "0123456789")  // ends at 0xFFFF_FFFB
        story.send(seq: 0x0000_0001, ack: 0xFFFF_FFFF, "WXYZ")  // after the wrap, ahead of a hole
        story.send(seq: 0xFFFF_FFFB, ack: 0xFFFF_FFFF, "ABCDEF")  // 0xFFFFFFFB...0x00000000: fills it
        story.send(fromClient: false, seq: 0xFFFF_FFFF, ack: 5, "server crosses")  // wraps at once
        story.send(seq: 0x0000_0001, ack: 14, "WXYZ")  // retransmission after the wrap
        story.send(seq: 0x0000_0005, ack: 14, "!")
        let conversation = try story.only()
        #expect(Self.texts(conversation) == ["C:0123456789", "C:ABCDEFWXYZ", "S:server crosses", "C:!"])
        #expect(conversation.retransmittedBytes == 4)
        #expect(conversation.gaps.isEmpty)
    }

    @Test func newSynAfterFinStartsANewConversation() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, "first")
        story.send(seq: 1006, ack: 5001, fin: true)
        story.send(fromClient: false, seq: 5001, ack: 1007, fin: true)
        story.send(seq: 1007, ack: 5002)
        story.handshake(client: 90_000, server: 70_000)  // same ports reused
        story.send(seq: 90_001, ack: 70_001, "second")
        let all = story.run()
        #expect(all.count == 2)
        #expect(all.map { Self.texts($0) } == [["C:first"], ["C:second"]])
        #expect(all.map(\.closed) == [true, false])
        #expect(all.map(\.firstTimestampNanoseconds) == [1000, 8000])
    }

    @Test func newSynAfterResetStartsANewConversation() throws {
        var story = Story()
        story.handshake()
        story.send(fromClient: false, seq: 5001, ack: 1001, rst: true, "diagnostic")
        story.handshake(client: 2000, server: 3000)
        story.send(seq: 2001, ack: 3001, "again")
        let all = story.run()
        #expect(all.map { Self.texts($0) } == [[], ["C:again"]])
        #expect(all[0].closed)
    }

    @Test func retransmittedSynIsTheSameConversation() throws {
        var story = Story()
        story.send(seq: 1000, syn: true)
        story.send(seq: 1000, syn: true)
        story.send(fromClient: false, seq: 5000, ack: 1001, syn: true)
        story.send(seq: 1001, ack: 5001, "data")
        let conversation = try story.only()
        #expect(conversation.sawHandshake)
        #expect(Self.texts(conversation) == ["C:data"])
    }

    @Test func synAckWithoutSynStillFindsTheClient() throws {
        var story = Story()
        story.send(fromClient: false, seq: 5000, ack: 1001, syn: true)
        story.send(seq: 1001, ack: 5001, "data")
        let conversation = try story.only()
        #expect(conversation.client == Self.client)
        #expect(!conversation.sawHandshake)
        #expect(Self.texts(conversation) == ["C:data"])
    }

    /// A capture that starts mid-stream: the server port decides who is who.
    @Test func midStreamUsesServerPorts() throws {
        var story = Story()
        story.send(fromClient: false, seq: 777, ack: 333, "response")  // first packet: server to client
        story.send(seq: 333, ack: 785, "next request")
        let known = try story.only(serverPorts: [9100])
        #expect(known.client == Self.client)
        #expect(known.server == Self.server)
        #expect(Self.texts(known) == ["S:response", "C:next request"])
        #expect(!known.sawHandshake)

        // Without the port, the first segment's destination is taken for the server.
        let guessed = try story.only()
        #expect(guessed.server == Self.client)
        #expect(guessed.chunks.map(\.direction) == [.fromClient, .fromServer])
    }

    /// Mid-stream, the peer's acknowledgment says where a direction's stream starts.
    @Test func midStreamAcknowledgmentMarksTheStart() throws {
        var story = Story()
        story.send(fromClient: false, seq: 777, ack: 300)  // the client's next byte is 300
        story.send(seq: 305, ack: 777, "late")  // 5 bytes sent before it were lost
        story.send(seq: 300, ack: 777, "early")
        let conversation = try story.only(serverPorts: [9100])
        #expect(Self.texts(conversation) == ["C:earlylate"])
        #expect(conversation.gaps.isEmpty)
    }

    @Test func conversationsAreOrderedByFirstTimestamp() throws {
        let other = TCPEndpoint(address: [10, 0, 0, 3], port: 40001)
        var story = Story()
        story.handshake()
        var second = Story(client: other)
        second.handshake(client: 1, server: 2)
        // Feed the later conversation's segments first, as an unsorted merge of captures would.
        var reassembler = TCPReassembler()
        for var segment in second.segments {
            segment.timestampNanoseconds += 1_000_000
            reassembler.add(segment)
        }
        for segment in story.segments { reassembler.add(segment) }
        let all = reassembler.finish()
        #expect(all.map(\.client) == [Self.client, other])
    }

    /// Out-of-order data held beyond 16 MiB is given up on: a gap, and the stream moves on.
    @Test func heldDataIsBounded() throws {
        let block = [UInt8](repeating: 0x41, count: 4 * 1024 * 1024)
        var reassembler = TCPReassembler()
        var story = Story()
        story.handshake()
        for segment in story.segments { reassembler.add(segment) }
        // Byte 0 is never captured: everything after it is held until the limit is passed.
        for index in 0..<5 {
            reassembler.add(TCPSegment(
                packetIndex: 3 + index, timestampNanoseconds: Int64(10 + index), source: Self.client, destination: Self.server,
                sequence: 1002 &+ UInt32(index * block.count), acknowledgment: 5001, ack: true, payload: block))
        }
        let conversation = try #require(reassembler.finish().first)
        #expect(conversation.gaps == [TCPGap(direction: .fromClient, streamOffset: 0, missingBytes: 1, packetIndex: 3)])
        #expect(conversation.chunks.count == 1)
        #expect(conversation.chunks.first?.bytes.count == 5 * block.count)
        // Delivered when the fifth block went over the limit, not at the end.
        #expect(conversation.chunks.first?.timestampNanoseconds == 14)
    }

    @Test func resetPayloadIsNotStreamData() throws {
        var story = Story()
        story.handshake()
        story.send(seq: 1001, ack: 5001, rst: true, "nope")
        let conversation = try story.only()
        #expect(conversation.chunks.isEmpty)
        #expect(conversation.closed)
    }
}
