// TCP stream reassembly: turns captured segments back into the byte streams each side's
// application read, the way a receiver would: in sequence order, duplicates dropped, holes
// waited for and, when never filled, reported rather than papered over.

/// Which way bytes travelled in a conversation.
public enum TCPDirection: String, Sendable, Hashable {
    /// From the side that opened the connection.
    case fromClient
    /// From the side that accepted it.
    case fromServer
}

/// Stream bytes that became readable in one direction at one moment.
public struct TCPChunk: Sendable, Hashable {
    /// Who sent the bytes.
    public var direction: TCPDirection
    /// When the bytes became readable in order: the capture time of the segment that carried
    /// them or, for bytes that waited behind a hole, of the segment that filled it.
    public var timestampNanoseconds: Int64
    /// The bytes, in stream order.
    public var bytes: [UInt8]

    /// Makes a chunk from its parts.
    public init(direction: TCPDirection, timestampNanoseconds: Int64, bytes: [UInt8]) {
        self.direction = direction
        self.timestampNanoseconds = timestampNanoseconds
        self.bytes = bytes
    }
}

/// Stream bytes that were never captured: the data after them was delivered anyway.
public struct TCPGap: Sendable, Hashable, CustomStringConvertible {
    /// The direction with the hole.
    public var direction: TCPDirection
    /// How many bytes of that direction were delivered before the hole (earlier holes not
    /// counted): where the hole falls in the concatenation of that direction's chunks.
    public var streamOffset: Int
    /// How many bytes are missing.
    public var missingBytes: Int
    /// The index of the first packet after the hole.
    public var packetIndex: Int

    /// Makes a gap from its parts.
    public init(direction: TCPDirection, streamOffset: Int, missingBytes: Int, packetIndex: Int) {
        self.direction = direction
        self.streamOffset = streamOffset
        self.missingBytes = missingBytes
        self.packetIndex = packetIndex
    }

    /// "fromClient: 120 bytes missing after 300 bytes delivered (before packet 17)".
    public var description: String {
        "\(direction.rawValue): \(missingBytes) bytes missing after \(streamOffset) bytes delivered (before packet \(packetIndex))"
    }
}

/// One TCP connection as reassembled: both directions' streams and what went wrong on the way.
public struct TCPConversation: Sendable {
    /// The side that sent the SYN (or, without one, the side that is not the server).
    public var client: TCPEndpoint
    /// The side that accepted the connection.
    public var server: TCPEndpoint
    /// The capture time of the conversation's earliest segment.
    public var firstTimestampNanoseconds: Int64
    /// Both directions' stream bytes, in the order they became readable.
    public var chunks: [TCPChunk]
    /// The holes that were never filled, in the order they were found.
    public var gaps: [TCPGap]
    /// Bytes dropped because they had been delivered already (retransmissions, overlaps).
    public var retransmittedBytes: Int
    /// Whether both the client's SYN and the server's SYN-ACK were captured, so both streams
    /// are known from their first byte.
    public var sawHandshake: Bool
    /// Whether the connection ended in the capture: a RST, or a FIN from each side.
    public var closed: Bool

    /// Makes a conversation from its parts.
    public init(
        client: TCPEndpoint, server: TCPEndpoint, firstTimestampNanoseconds: Int64, chunks: [TCPChunk] = [],
        gaps: [TCPGap] = [], retransmittedBytes: Int = 0, sawHandshake: Bool = false, closed: Bool = false
    ) {
        self.client = client
        self.server = server
        self.firstTimestampNanoseconds = firstTimestampNanoseconds
        self.chunks = chunks
        self.gaps = gaps
        self.retransmittedBytes = retransmittedBytes
        self.sawHandshake = sawHandshake
        self.closed = closed
    }
}

/// Reassembles the TCP conversations of a capture from its segments, fed in capture order.
public struct TCPReassembler: Sendable {
    /// Most out-of-order bytes held per direction while waiting for a hole to fill; past this,
    /// the hole is reported as a gap and the stream skips ahead, so a capture that lost a
    /// segment early cannot make the reassembler hold the rest of a long stream in memory.
    static let heldLimit = 16 * 1024 * 1024

    let serverPorts: Set<UInt16>
    var trackers: [ConversationTracker] = []
    /// The latest conversation of each endpoint pair: the one later segments of the pair join.
    var latest: [EndpointPair: Int] = [:]

    /// Makes a reassembler; `serverPorts` says which side is the server of a conversation whose
    /// SYN was not captured (otherwise the destination of its first segment is taken).
    public init(serverPorts: Set<UInt16> = []) {
        self.serverPorts = serverPorts
    }

    /// Adds the next segment of the capture.
    public mutating func add(_ segment: TCPSegment) {
        let pair = EndpointPair(segment.source, segment.destination)
        if let index = latest[pair], !trackers[index].isReplaced(by: segment) {
            trackers[index].add(segment)
            return
        }
        let client: TCPEndpoint
        if segment.syn {
            // SYN: the sender is the client; SYN-ACK (its SYN missed): the receiver is.
            client = segment.ack ? segment.destination : segment.source
        } else if serverPorts.contains(segment.source.port), !serverPorts.contains(segment.destination.port) {
            client = segment.destination
        } else {
            client = segment.source
        }
        let server = client == segment.source ? segment.destination : segment.source
        var tracker = ConversationTracker(client: client, server: server, timestamp: segment.timestampNanoseconds)
        tracker.add(segment)
        latest[pair] = trackers.count
        trackers.append(tracker)
    }

    /// Every conversation, ordered by first timestamp. Holes never filled are reported as gaps
    /// and the bytes held after them are delivered after the gap.
    public func finish() -> [TCPConversation] {
        let conversations = trackers.map { $0.finished() }
        // Sorting the indices keeps conversations that start at the same time in capture order.
        return conversations.indices
            .sorted { (conversations[$0].firstTimestampNanoseconds, $0) < (conversations[$1].firstTimestampNanoseconds, $1) }
            .map { conversations[$0] }
    }
}

/// The two endpoints of a connection, in a fixed order whichever way a segment goes.
struct EndpointPair: Hashable, Sendable {
    var low: TCPEndpoint
    var high: TCPEndpoint

    init(_ a: TCPEndpoint, _ b: TCPEndpoint) {
        if b < a { (low, high) = (b, a) } else { (low, high) = (a, b) }
    }
}

/// Out-of-order data waiting for the bytes before it.
struct HeldSegment: Sendable {
    var offset: Int
    var bytes: [UInt8]
    var timestamp: Int64
    var packetIndex: Int
    var end: Int { offset + bytes.count }
}

/// One direction's receiver state.
struct StreamState: Sendable {
    /// The sequence number of stream byte 0, once known (SYN + 1, a peer's ACK, or the first data).
    var base: UInt32?
    /// The stream offset of the next byte expected: the bytes delivered plus those skipped.
    var delivered = 0
    /// The bytes given up on in holes reported as gaps.
    var skipped = 0
    /// Data past a hole, sorted by offset.
    var held: [HeldSegment] = []
    var heldBytes = 0
    var synSequence: UInt32?
    var fin = false

    /// The stream offset of sequence number `sequence`, by serial-number arithmetic around the
    /// next expected byte: it handles wraparound at 2^32 and streams longer than 4 GiB.
    func offset(of sequence: UInt32, base: UInt32) -> Int {
        let expected = base &+ UInt32(truncatingIfNeeded: delivered)
        return delivered + Int(Int32(bitPattern: sequence &- expected))
    }
}

/// The state of one conversation while segments are added.
struct ConversationTracker: Sendable {
    var conversation: TCPConversation
    var streams: [StreamState] = [StreamState(), StreamState()]
    var sawFinOrReset = false
    var sawReset = false

    init(client: TCPEndpoint, server: TCPEndpoint, timestamp: Int64) {
        conversation = TCPConversation(client: client, server: server, firstTimestampNanoseconds: timestamp)
    }

    static func slot(_ direction: TCPDirection) -> Int { direction == .fromClient ? 0 : 1 }

    /// Whether a segment of this pair starts a new connection instead of continuing this one:
    /// a SYN after a FIN or RST, a SYN with another initial sequence number, or a SYN on a
    /// conversation first seen mid-stream (its start was never captured, so this is reuse).
    func isReplaced(by segment: TCPSegment) -> Bool {
        guard segment.syn, !segment.ack else { return false }
        if sawFinOrReset { return true }
        guard let isn = streams[0].synSequence else { return streams[1].synSequence == nil }
        return segment.source == conversation.client && isn != segment.sequence
    }

    mutating func add(_ segment: TCPSegment) {
        conversation.firstTimestampNanoseconds = min(conversation.firstTimestampNanoseconds, segment.timestampNanoseconds)
        let direction: TCPDirection = segment.source == conversation.client ? .fromClient : .fromServer
        let mine = Self.slot(direction), peer = 1 - mine
        if segment.rst {
            // A reset's payload, if any, is a diagnostic text, not stream data.
            sawReset = true
            sawFinOrReset = true
            return
        }
        var dataSequence = segment.sequence
        if segment.syn {
            if streams[mine].synSequence == nil { streams[mine].synSequence = segment.sequence }
            dataSequence = segment.sequence &+ 1
            // The SYN is authoritative over a base guessed from a peer's ACK, while nothing is delivered.
            if streams[mine].delivered == 0, streams[mine].held.isEmpty {
                streams[mine].base = dataSequence
            }
        }
        if segment.ack, streams[peer].base == nil {
            // The peer has sent everything before this number (or it would not be acknowledged).
            streams[peer].base = segment.acknowledgment
        }
        if !segment.payload.isEmpty {
            let base = streams[mine].base ?? dataSequence
            streams[mine].base = base
            let offset = streams[mine].offset(of: dataSequence, base: base)
            receive(segment.payload, at: offset, direction: direction, segment: segment)
        }
        if segment.fin {
            streams[mine].fin = true
            sawFinOrReset = true
        }
    }

    /// Delivers what `payload` adds to the stream, or holds it when a hole comes first.
    mutating func receive(_ payload: [UInt8], at offset: Int, direction: TCPDirection, segment: TCPSegment) {
        let slot = Self.slot(direction)
        let delivered = streams[slot].delivered
        let end = offset + payload.count
        if end <= delivered {
            conversation.retransmittedBytes += payload.count
            return
        }
        if offset > delivered {
            insertHeld(HeldSegment(offset: offset, bytes: payload, timestamp: segment.timestampNanoseconds,
                                   packetIndex: segment.packetIndex), slot: slot)
            // Over the limit: give up on the oldest hole rather than hold without bound.
            var readable: [UInt8] = []
            while streams[slot].heldBytes > TCPReassembler.heldLimit, let first = streams[slot].held.first {
                skip(to: first, direction: direction)
                drain(slot: slot, into: &readable)
            }
            if !readable.isEmpty {
                conversation.chunks.append(TCPChunk(direction: direction, timestampNanoseconds: segment.timestampNanoseconds, bytes: readable))
            }
            return
        }
        let overlap = delivered - offset
        conversation.retransmittedBytes += overlap
        var readable = Array(payload[overlap...])
        streams[slot].delivered = end
        drain(slot: slot, into: &readable)
        conversation.chunks.append(TCPChunk(direction: direction, timestampNanoseconds: segment.timestampNanoseconds, bytes: readable))
    }

    mutating func insertHeld(_ held: HeldSegment, slot: Int) {
        // Binary search for the first held segment starting after this one: equal offsets keep arrival order.
        var low = 0, high = streams[slot].held.count
        while low < high {
            let middle = (low + high) / 2
            if streams[slot].held[middle].offset <= held.offset { low = middle + 1 } else { high = middle }
        }
        streams[slot].held.insert(held, at: low)
        streams[slot].heldBytes += held.bytes.count
    }

    /// Appends to `readable` the held data that the stream has now reached.
    mutating func drain(slot: Int, into readable: inout [UInt8]) {
        var taken = 0
        var delivered = streams[slot].delivered
        for held in streams[slot].held {
            guard held.offset <= delivered else { break }
            taken += 1
            streams[slot].heldBytes -= held.bytes.count
            if held.end <= delivered {
                conversation.retransmittedBytes += held.bytes.count
                continue
            }
            let overlap = delivered - held.offset
            conversation.retransmittedBytes += overlap
            readable.append(contentsOf: held.bytes[overlap...])
            delivered = held.end
        }
        streams[slot].delivered = delivered
        // One removal for the whole run: many small held segments would make one per segment quadratic.
        streams[slot].held.removeFirst(taken)
    }

    /// Records the hole before `next` as a gap and moves the stream past it.
    mutating func skip(to next: HeldSegment, direction: TCPDirection) {
        let slot = Self.slot(direction)
        let delivered = streams[slot].delivered
        let missing = next.offset - delivered
        conversation.gaps.append(TCPGap(
            direction: direction, streamOffset: delivered - streams[slot].skipped, missingBytes: missing, packetIndex: next.packetIndex))
        streams[slot].skipped += missing
        streams[slot].delivered = next.offset
    }

    /// The conversation with every hole still open reported as a gap and the data held behind
    /// it delivered after it: each direction in stream order, the two merged by capture time.
    func finished() -> TCPConversation {
        var copy = self
        var late: [[TCPChunk]] = [[], []]
        for direction in [TCPDirection.fromClient, .fromServer] {
            let slot = Self.slot(direction)
            while let first = copy.streams[slot].held.first {
                if first.offset > copy.streams[slot].delivered { copy.skip(to: first, direction: direction) }
                var readable: [UInt8] = []
                copy.drain(slot: slot, into: &readable)
                if !readable.isEmpty {
                    late[slot].append(TCPChunk(direction: direction, timestampNanoseconds: first.timestamp, bytes: readable))
                }
            }
        }
        // A merge, not a sort: a later hole's data may have been captured before an earlier one's,
        // and each direction's chunks must stay in stream order.
        var (client, server) = (late[0][...], late[1][...])
        while let a = client.first, let b = server.first {
            if b.timestampNanoseconds < a.timestampNanoseconds {
                copy.conversation.chunks.append(b)
                server = server.dropFirst()
            } else {
                copy.conversation.chunks.append(a)
                client = client.dropFirst()
            }
        }
        copy.conversation.chunks += client
        copy.conversation.chunks += server
        copy.conversation.sawHandshake = copy.streams[0].synSequence != nil && copy.streams[1].synSequence != nil
        copy.conversation.closed = copy.sawReset || (copy.streams[0].fin && copy.streams[1].fin)
        return copy.conversation
    }
}
