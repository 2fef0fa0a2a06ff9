import Conformance
import Testing

/// Reading pcap and pcapng files: the real tools' fixtures, hand-built files for the variants no
/// tool here writes, and damaged files, which must throw with an offset and never crash.
struct PacketCaptureTests {
    /// Each fixture, its link type and its address family (4 or 16 address bytes).
    static let fixtures: [(name: String, linkType: UInt32, addressBytes: Int)] = [
        ("lo-ethernet-usec.pcap", 1, 4),
        ("any-sll.pcap", 113, 4),
        ("any-sll2.pcap", 276, 4),
        ("lo-ethernet-nsec.pcap", 1, 4),
        ("lo-dumpcap.pcapng", 1, 4),
        ("lo-ipv6.pcap", 1, 16),
        ("lo-ipv6.pcapng", 1, 16),
    ]

    @Test(arguments: fixtures)
    func fixtureYieldsTheExchange(name: String, linkType: UInt32, addressBytes: Int) throws {
        let file = try CaptureFixtures.bytes(name)
        let packets = try PacketCapture.packets(in: file)
        #expect(packets.count == 12)
        #expect(packets.map(\.index) == Array(0..<packets.count))
        #expect(packets.allSatisfy { $0.linkType == linkType })
        // Captured this decade, in capture order.
        #expect(packets.allSatisfy { $0.timestampNanoseconds > 1_600_000_000_000_000_000 })
        #expect(zip(packets, packets.dropFirst()).allSatisfy { $0.timestampNanoseconds <= $1.timestampNanoseconds })

        let all = try reassembledConversations(in: file)
        try #require(all.count == 1)
        let conversation = all[0]
        #expect(conversation.server.port == CaptureFixtures.serverPort)
        #expect(conversation.client.port != CaptureFixtures.serverPort)
        #expect(conversation.client.address.count == addressBytes)
        #expect(conversation.server.address == conversation.client.address)
        let loopback: [UInt8] = addressBytes == 4 ? [127, 0, 0, 1] : [UInt8](repeating: 0, count: 15) + [1]
        #expect(conversation.server.address == loopback)
        #expect(conversation.server.description == (addressBytes == 4 ? "127.0.0.1:19100" : "[::1]:19100"))
        #expect(conversation.chunks.map(\.direction) == CaptureFixtures.expectedChunks.map(\.0))
        #expect(conversation.chunks.map(\.bytes) == CaptureFixtures.expectedChunks.map { CaptureFixtures.frame($0.1) })
        #expect(conversation.gaps.isEmpty)
        #expect(conversation.retransmittedBytes == 0)
        #expect(conversation.sawHandshake)
        #expect(conversation.closed)
        #expect(conversation.firstTimestampNanoseconds == packets[0].timestampNanoseconds)
        // Each chunk is stamped with its own packet's time.
        let dataTimes = packets.compactMap { packet -> Int64? in
            guard let segment = try? TCPSegment.parse(packet), !segment.payload.isEmpty else { return nil }
            return packet.timestampNanoseconds
        }
        #expect(conversation.chunks.map(\.timestampNanoseconds) == dataTimes)
    }

    @Test func nanosecondFixtureKeepsNanoseconds() throws {
        let nano = try PacketCapture.packets(in: CaptureFixtures.bytes("lo-ethernet-nsec.pcap"))
        #expect(nano.contains { $0.timestampNanoseconds % 1000 != 0 })
        let micro = try PacketCapture.packets(in: CaptureFixtures.bytes("lo-ethernet-usec.pcap"))
        #expect(micro.allSatisfy { $0.timestampNanoseconds % 1000 == 0 })
    }

    /// A classic pcap whose headers are byte-swapped (as a big-endian machine writes it) reads the same.
    @Test(arguments: ["lo-ethernet-usec.pcap", "lo-ethernet-nsec.pcap", "any-sll.pcap", "lo-ipv6.pcap"])
    func byteSwappedPcapReadsTheSame(name: String) throws {
        let file = try CaptureFixtures.bytes(name)
        var swapped = file
        func swap(_ offset: Int, _ width: Int) { swapped[offset..<(offset + width)].reverse() }
        swap(0, 4); swap(4, 2); swap(6, 2)
        for field in stride(from: 8, to: 24, by: 4) { swap(field, 4) }
        var offset = 24
        while offset < file.count {
            let captured = Int(file[offset + 8]) | Int(file[offset + 9]) << 8 | Int(file[offset + 10]) << 16 | Int(file[offset + 11]) << 24
            for field in stride(from: offset, to: offset + 16, by: 4) { swap(field, 4) }
            offset += 16 + captured
        }
        #expect(Array(swapped[0..<4]) != Array(file[0..<4]))
        #expect(try PacketCapture.packets(in: swapped) == PacketCapture.packets(in: file))
    }

    /// The offsets at which a fixture may be cut and still be a whole (shorter) capture.
    static func recordBoundaries(_ file: [UInt8]) -> [Int: Int] {
        var boundaries: [Int: Int] = [:]  // offset -> packets before it
        let pcapng = file[0] == 0x0A
        func u32(_ at: Int) -> Int { Int(file[at]) | Int(file[at + 1]) << 8 | Int(file[at + 2]) << 16 | Int(file[at + 3]) << 24 }
        var offset = pcapng ? 0 : 24
        var count = 0
        if !pcapng { boundaries[24] = 0 }
        while offset < file.count {
            if pcapng {
                let type = u32(offset)
                offset += u32(offset + 4)
                if type == 6 || type == 3 || type == 2 { count += 1 }
            } else {
                offset += 16 + u32(offset + 8)
                count += 1
            }
            boundaries[offset] = count
        }
        return boundaries
    }

    /// Every prefix of every fixture: a whole capture where it ends between records, an error
    /// naming a byte inside the file everywhere else. Never a crash.
    @Test(arguments: fixtures.map(\.name))
    func everyCutPointThrowsOrIsAWholePrefix(name: String) throws {
        let file = try CaptureFixtures.bytes(name)
        let full = try PacketCapture.packets(in: file)
        let boundaries = Self.recordBoundaries(file)
        #expect(boundaries[file.count] == full.count)
        for cut in 0..<file.count {
            let prefix = Array(file[..<cut])
            if let count = boundaries[cut] {
                #expect(try PacketCapture.packets(in: prefix) == Array(full.prefix(count)), "cut at \(cut)")
            } else {
                do {
                    let packets = try PacketCapture.packets(in: prefix)
                    Issue.record("cut at \(cut) of \(name) read \(packets.count) packets instead of throwing")
                } catch {
                    #expect(error.offset >= 0 && error.offset <= cut, "cut at \(cut): \(error)")
                }
            }
        }
    }

    @Test func truncatedFinalPacketNamesItsOffset() throws {
        let file = try CaptureFixtures.bytes("lo-ethernet-usec.pcap")
        let boundaries = Self.recordBoundaries(file).keys.sorted()
        let lastRecord = boundaries[boundaries.count - 2]
        let error = #expect(throws: PacketCaptureError.self) {
            try PacketCapture.packets(in: Array(file.dropLast(5)))
        }
        #expect(error?.offset == lastRecord)
        #expect(error?.reason.contains("packet 11") == true)
        #expect(error?.description.hasPrefix("byte \(lastRecord): packet 11: captured length") == true)
    }

    @Test func randomDamageNeverCrashes() throws {
        var generator = SeededGenerator(seed: 8583)
        for (name, _, _) in Self.fixtures {
            let file = try CaptureFixtures.bytes(name)
            for _ in 0..<300 {
                var damaged = file
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let at = Int.random(in: 0..<damaged.count, using: &generator)
                    damaged[at] = UInt8.random(in: 0...255, using: &generator)
                }
                // Errors are fine; what matters is that every layer returns.
                _ = try? reassembledConversations(in: damaged)
                if let packets = try? PacketCapture.packets(in: damaged) {
                    for packet in packets { _ = try? TCPSegment.parse(packet) }
                }
            }
        }
    }

    // MARK: Errors

    typealias Malformed = (name: String, file: [UInt8], offset: Int, reason: String)

    static let malformed: [Malformed] = {
        let packet = capturedPacket([UInt8](repeating: 0xAB, count: 60))
        let good = classicPcap([packet])
        var cases: [Malformed] = [
            ("empty", [], 0, "too short"),
            ("unknown magic", [1, 2, 3, 4] + [UInt8](repeating: 0, count: 40), 0, "unknown file magic 0x01020304"),
            ("gzip", [0x1F, 0x8B, 8, 0] + [UInt8](repeating: 0, count: 40), 0, "gzip"),
            ("short header", Array(good[..<20]), 0, "truncated pcap file header"),
        ]
        var version = good
        version[4] = 3
        cases.append(("pcap version", version, 4, "unsupported pcap version 3.4"))
        var absurd = good
        absurd[32...35] = [0, 0, 0, 0x40]  // captured length 1 GiB
        cases.append(("absurd caplen", absurd, 32, "absurd captured length"))
        var beyond = good
        beyond[32...35] = [0xFF, 0x00, 0, 0]  // 255 bytes, 60 present
        cases.append(("caplen past end", beyond, 24, "packet 0: captured length 255 runs past the end of the file"))

        var builder = PcapngBuilder(bigEndian: false)
        builder.section()
        builder.interface(linkType: 1)
        builder.enhancedPacket(interface: 0, units: 1, data: packet.bytes)
        let ng = builder.bytes
        let epb = ng.count - (32 + 60)
        var small = ng
        small[epb + 4] = 8
        cases.append(("block below 12", small, epb + 4, "block length 8 is smaller than the 12 bytes"))
        var odd = ng
        odd[epb + 4] = 90
        cases.append(("block not multiple of 4", odd, epb + 4, "not a multiple of 4"))
        var long = ng
        long[epb + 4] = 96
        cases.append(("block past end", long, epb, "packet 0: block of 96 bytes runs past the end of the file, 92 bytes left"))
        var trailer = ng
        trailer[trailer.count - 4] = 88
        cases.append(("trailer mismatch", trailer, ng.count - 4, "block trailer length 88 differs from its header length 92"))
        var epbCaplen = ng
        epbCaplen[epb + 20] = 61
        cases.append(("EPB caplen past block", epbCaplen, epb + 20, "packet 0: captured length 61 exceeds the 60 bytes its block holds"))
        var interface = ng
        interface[epb + 8] = 1
        cases.append(("EPB unknown interface", interface, epb + 8, "packet 0: names interface 1 but its section describes 1"))
        var bom = ng
        bom[8] = 0x11
        cases.append(("bad byte-order magic", bom, 8, "byte-order magic"))
        var ngVersion = ng
        ngVersion[12] = 2
        cases.append(("pcapng version", ngVersion, 12, "unsupported pcapng version 2.0"))
        return cases
    }()

    @Test(arguments: malformed)
    func malformedFileThrows(name: String, file: [UInt8], offset: Int, reason: String) {
        let error = #expect(throws: PacketCaptureError.self, "\(name)") { try PacketCapture.packets(in: file) }
        #expect(error?.offset == offset, "\(name): \(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(name): \(String(describing: error))")
        #expect(error?.description == "byte \(error?.offset ?? -1): \(error?.reason ?? "")")
    }

    // MARK: Variants no tool here writes

    @Test(arguments: [false, true])
    func classicBothOrdersAndPrecisions(bigEndian: Bool) throws {
        let packets = (0..<3).map { capturedPacket([UInt8](repeating: UInt8($0), count: 20 + $0), linkType: 1, index: $0, timestamp: 1_700_000_000_123_456_789 + Int64($0)) }
        let nano = try PacketCapture.packets(in: classicPcap(packets, bigEndian: bigEndian, nanoseconds: true))
        #expect(nano == packets)
        let micro = try PacketCapture.packets(in: classicPcap(packets, bigEndian: bigEndian, nanoseconds: false))
        #expect(micro.map(\.timestampNanoseconds) == [1_700_000_000_123_456_000, 1_700_000_000_123_456_000, 1_700_000_000_123_456_000])
        #expect(micro.map(\.bytes) == packets.map(\.bytes))
    }

    @Test func linkTypeIgnoresFCSBits() throws {
        let file = classicPcap([capturedPacket([1, 2, 3])], linkType: 0x1400_0001)  // FCS present, 4 bytes
        #expect(try PacketCapture.packets(in: file).first?.linkType == 1)
    }

    /// Two sections of opposite byte orders; several interfaces each with its own link type,
    /// resolution and offset; SPB, obsolete PB and unknown blocks between.
    @Test func pcapngSectionsInterfacesAndResolutions() throws {
        var first = PcapngBuilder(bigEndian: true)
        first.section()
        first.interface(linkType: 1)  // default: microseconds
        first.interface(linkType: 113, resolution: 9)  // 10^-9
        first.interface(linkType: 101, resolution: 0x80 | 10)  // 2^-10 s
        first.interface(linkType: 228, resolution: 3, offsetSeconds: 1_000)  // milliseconds, +1000 s
        first.block(0x0000_0BAD, [1, 2, 3, 4, 5, 6, 7, 8])  // unknown: skipped
        first.enhancedPacket(interface: 0, units: 1_700_000_000_000_001, data: [0xA0], comment: "first")
        first.enhancedPacket(interface: 1, units: 1_700_000_000_000_000_002, data: [0xA1, 0xA1])
        first.enhancedPacket(interface: 2, units: 3 << 10 | 512, data: [0xA2])  // 3.5 s
        first.enhancedPacket(interface: 3, units: 1_500, data: [0xA3])  // 1.5 s + 1000 s
        first.block(5, [UInt8](repeating: 0, count: 16))  // interface statistics: skipped
        first.obsoletePacket(interface: 1, units: 77, data: [0xA4])
        first.simplePacket(data: [0xA5, 0xA5, 0xA5])

        var second = PcapngBuilder(bigEndian: false)
        second.section()
        second.interface(linkType: 229, snaplen: 2, resolution: 6)
        second.simplePacket(data: [0xB0, 0xB0, 0, 0], originalLength: 9)  // snaplen 2 keeps 2
        second.enhancedPacket(interface: 0, units: 5, data: [0xB1])

        let packets = try PacketCapture.packets(in: first.bytes + second.bytes)
        #expect(packets.map(\.index) == Array(0..<8))
        #expect(packets.map(\.linkType) == [1, 113, 101, 228, 113, 1, 229, 229])
        #expect(packets.map(\.bytes) == [[0xA0], [0xA1, 0xA1], [0xA2], [0xA3], [0xA4], [0xA5, 0xA5, 0xA5], [0xB0, 0xB0], [0xB1]])
        #expect(packets.map(\.timestampNanoseconds) == [
            1_700_000_000_000_001_000, 1_700_000_000_000_000_002, 3_500_000_000, 1_001_500_000_000, 77, 0, 0, 5_000,
        ])
    }

    @Test func pcapngResolutionsBeyondNanoseconds() throws {
        var builder = PcapngBuilder(bigEndian: false)
        builder.section()
        builder.interface(linkType: 1, resolution: 12)  // picoseconds
        builder.interface(linkType: 1, resolution: 0x80 | 40)  // 2^-40 s
        builder.interface(linkType: 1, resolution: 0)  // whole seconds
        builder.enhancedPacket(interface: 0, units: 1_700_000_000_123_456_789, data: [1])
        builder.enhancedPacket(interface: 1, units: 5 << 40 | 1 << 39, data: [2])  // 5.5 s
        builder.enhancedPacket(interface: 2, units: 1_700_000_000, data: [3])
        let packets = try PacketCapture.packets(in: builder.bytes)
        #expect(packets.map(\.timestampNanoseconds) == [1_700_000_000_123_456, 5_500_000_000, 1_700_000_000_000_000_000])
    }

    @Test func pcapngTimestampOverflowThrows() {
        var builder = PcapngBuilder(bigEndian: false)
        builder.section()
        builder.interface(linkType: 1, resolution: 0)  // seconds: 2^63 of them overflow nanoseconds
        builder.enhancedPacket(interface: 0, units: 1 << 63, data: [1])
        let error = #expect(throws: PacketCaptureError.self) { try PacketCapture.packets(in: builder.bytes) }
        #expect(error?.reason == "packet 0: timestamp out of range")
    }

    @Test func pcapngOptionPastItsBlockThrows() {
        var builder = PcapngBuilder(bigEndian: false)
        builder.section()
        var body: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0]
        body += [9, 0, 200, 0, 6, 0, 0, 0]  // if_tsresol claiming 200 bytes
        builder.block(1, body)
        let error = #expect(throws: PacketCaptureError.self) { try PacketCapture.packets(in: builder.bytes) }
        #expect(error?.reason.contains("interface option 9 of 200 bytes runs past the end of its block") == true)
    }
}
