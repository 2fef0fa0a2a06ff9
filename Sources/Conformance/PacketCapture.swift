// Reading packet capture files: classic pcap (libpcap) and pcapng, as written by tcpdump,
// dumpcap/tshark and Wireshark. Every length in the file is checked against what is left before
// it is used, so a damaged or truncated file gives a PacketCaptureError, never a crash.

/// One packet read from a capture file, with the link type of the interface it was captured on.
public struct CapturedPacket: Sendable, Hashable {
    /// The packet's 0-based number in the file, counting every section and interface together.
    public var index: Int
    /// When the packet was captured, in nanoseconds since 1970-01-01 00:00:00 UTC.
    public var timestampNanoseconds: Int64
    /// The LINKTYPE_ value of the packet's interface (1 Ethernet, 113 Linux cooked, 0 loopback…).
    public var linkType: UInt32
    /// The bytes captured, starting with the link-layer header; may be shorter than on the wire.
    public var bytes: [UInt8]

    /// Makes a packet from its parts.
    public init(index: Int, timestampNanoseconds: Int64, linkType: UInt32, bytes: [UInt8]) {
        self.index = index
        self.timestampNanoseconds = timestampNanoseconds
        self.linkType = linkType
        self.bytes = bytes
    }
}

/// Why a capture file (or a packet in it) could not be read, and where.
///
/// For errors thrown by `PacketCapture.packets(in:)`, `offset` is the byte offset in the file of
/// the structure at fault. For errors thrown by `TCPSegment.parse(_:)`, which sees one packet
/// and not the file, `offset` is the byte offset within that packet's bytes and `reason` starts
/// with "packet N:" to say which packet.
public struct PacketCaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The byte offset of the fault: in the file, or in the packet for packet-level errors.
    public var offset: Int
    /// What is wrong, in words, e.g. "packet 7: captured length 1514 runs past the end of the file".
    public var reason: String

    /// Makes an error at `offset` for `reason`.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// "byte <offset>: <reason>".
    public var description: String { "byte \(offset): \(reason)" }
}

/// Reads the packets of a pcap or pcapng file.
public enum PacketCapture {
    /// Every packet of `file` (classic pcap in either byte order, microsecond or nanosecond,
    /// or pcapng with any number of sections and interfaces), in file order.
    ///
    /// Throws when the file is not a capture, is damaged, or ends in the middle of a header or
    /// a packet (as a tcpdump killed mid-write leaves it). A file cut exactly between two
    /// packets is a valid, shorter capture.
    public static func packets(in file: [UInt8]) throws(PacketCaptureError) -> [CapturedPacket] {
        guard file.count >= 4 else {
            throw PacketCaptureError(offset: 0, reason: "file is \(file.count) bytes, too short for a capture file header")
        }
        let magic = UInt32(file[0]) << 24 | UInt32(file[1]) << 16 | UInt32(file[2]) << 8 | UInt32(file[3])
        switch magic {
        case 0x0A0D_0D0A: return try PcapngReader(file: file).read()
        case 0xD4C3_B2A1: return try ClassicPcapReader(file: file, bigEndian: false, nanoseconds: false).read()
        case 0xA1B2_C3D4: return try ClassicPcapReader(file: file, bigEndian: true, nanoseconds: false).read()
        case 0x4D3C_B2A1: return try ClassicPcapReader(file: file, bigEndian: false, nanoseconds: true).read()
        case 0xA1B2_3C4D: return try ClassicPcapReader(file: file, bigEndian: true, nanoseconds: true).read()
        default:
            if file[0] == 0x1F, file[1] == 0x8B {
                throw PacketCaptureError(offset: 0, reason: "file is gzip-compressed; decompress it first")
            }
            throw PacketCaptureError(offset: 0, reason: "unknown file magic 0x\(paddedHex(magic, digits: 8)): neither pcap nor pcapng")
        }
    }
}

// MARK: - Reading integers

/// Integers read from a byte array in a given byte order. Callers check bounds first: these
/// helpers are only ever called on offsets already known to be inside `bytes`.
struct CaptureByteReader {
    let bytes: [UInt8]
    var bigEndian: Bool

    @inline(__always) func u16(_ offset: Int) -> UInt16 {
        let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    @inline(__always) func u32(_ offset: Int) -> UInt32 {
        let a = UInt32(bytes[offset]), b = UInt32(bytes[offset + 1])
        let c = UInt32(bytes[offset + 2]), d = UInt32(bytes[offset + 3])
        return bigEndian ? a << 24 | b << 16 | c << 8 | d : d << 24 | c << 16 | b << 8 | a
    }

    @inline(__always) func u64(_ offset: Int) -> UInt64 {
        let first = UInt64(u32(offset)), second = UInt64(u32(offset + 4))
        return bigEndian ? first << 32 | second : second << 32 | first
    }
}

/// `value` in lowercase hexadecimal, left-padded with zeros to `digits`.
fileprivate func paddedHex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
    let text = String(value, radix: 16)
    return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
}

// MARK: - Classic pcap

/// The libpcap format: a 24-byte file header, then 16-byte record headers each followed by
/// the captured bytes.
struct ClassicPcapReader {
    let file: [UInt8]
    let reader: CaptureByteReader
    let nanoseconds: Bool

    init(file: [UInt8], bigEndian: Bool, nanoseconds: Bool) {
        self.file = file
        self.reader = CaptureByteReader(bytes: file, bigEndian: bigEndian)
        self.nanoseconds = nanoseconds
    }

    /// Largest captured length accepted whatever the header's snapshot length says: far above
    /// any real link's frames, low enough that a corrupt length reads as corrupt.
    static let absurdLength = 256 * 1024 * 1024

    func read() throws(PacketCaptureError) -> [CapturedPacket] {
        guard file.count >= 24 else {
            throw PacketCaptureError(offset: 0, reason: "truncated pcap file header: \(file.count) of 24 bytes")
        }
        let major = reader.u16(4), minor = reader.u16(6)
        guard major == 2 else {
            throw PacketCaptureError(offset: 4, reason: "unsupported pcap version \(major).\(minor) (expected 2.x)")
        }
        let snaplen = Int(reader.u32(16))
        // The link type is the low 16 bits; the upper bits may carry FCS information.
        let linkType = reader.u32(20) & 0xFFFF
        // libpcap's own rule, roughly: tolerate records longer than a small snaplen up to the
        // usual 256 KiB maximum, and never beyond the absurd limit.
        let limit = min(max(snaplen, 262_144), Self.absurdLength)

        var packets: [CapturedPacket] = []
        var offset = 24
        while offset < file.count {
            let index = packets.count
            let left = file.count - offset
            guard left >= 16 else {
                throw PacketCaptureError(
                    offset: offset,
                    reason: "packet \(index): truncated record header, \(left) of 16 bytes (file cut short?)")
            }
            let seconds = Int64(reader.u32(offset))
            let fraction = Int64(reader.u32(offset + 4))
            let captured = Int(reader.u32(offset + 8))
            guard captured <= limit else {
                throw PacketCaptureError(
                    offset: offset + 8,
                    reason: "packet \(index): absurd captured length \(captured) (file snapshot length \(snaplen))")
            }
            guard captured <= left - 16 else {
                throw PacketCaptureError(
                    offset: offset,
                    reason: "packet \(index): captured length \(captured) runs past the end of the file, \(left - 16) bytes left (file cut mid-packet?)")
            }
            // Cannot overflow: seconds < 2^32, so seconds * 10^9 < 4.3 * 10^18 < Int64.max.
            let timestamp = seconds * 1_000_000_000 + (nanoseconds ? fraction : fraction * 1000)
            let start = offset + 16
            packets.append(CapturedPacket(
                index: index, timestampNanoseconds: timestamp, linkType: linkType,
                bytes: Array(file[start..<(start + captured)])))
            offset = start + captured
        }
        return packets
    }
}

// MARK: - pcapng

/// The pcapng format: blocks of `type, length, body, length`, grouped into sections that each
/// start with a Section Header Block setting the byte order and resetting the interfaces.
struct PcapngReader {
    let file: [UInt8]

    /// How an interface counts time in its packets' 64-bit timestamps.
    enum Resolution {
        /// Units of 10^-exponent seconds.
        case decimal(Int)
        /// Units of 2^-exponent seconds.
        case binary(Int)
    }

    struct Interface {
        var linkType: UInt32
        var snaplen: Int
        var resolution: Resolution = .decimal(6)
        var offsetSeconds: Int64 = 0
    }

    static let powersOfTen: [UInt64] = {
        var powers: [UInt64] = [1]
        for _ in 1...19 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    func read() throws(PacketCaptureError) -> [CapturedPacket] {
        var packets: [CapturedPacket] = []
        var reader = CaptureByteReader(bytes: file, bigEndian: false)
        var interfaces: [Interface] = []
        var inSection = false
        var offset = 0
        while offset < file.count {
            let index = packets.count
            let left = file.count - offset
            guard left >= 12 else {
                throw PacketCaptureError(offset: offset, reason: "truncated block header, \(left) of at least 12 bytes (file cut short?)")
            }
            let isSectionHeader = file[offset] == 0x0A && file[offset + 1] == 0x0D
                && file[offset + 2] == 0x0D && file[offset + 3] == 0x0A
            if isSectionHeader {
                // The byte order of the whole section, lengths included, comes from this magic.
                switch (file[offset + 8], file[offset + 9], file[offset + 10], file[offset + 11]) {
                case (0x1A, 0x2B, 0x3C, 0x4D): reader.bigEndian = true
                case (0x4D, 0x3C, 0x2B, 0x1A): reader.bigEndian = false
                default:
                    throw PacketCaptureError(offset: offset + 8, reason: "Section Header Block has no valid byte-order magic")
                }
            } else if !inSection {
                throw PacketCaptureError(offset: offset, reason: "pcapng block before the first Section Header Block")
            }
            let type = reader.u32(offset)
            let length = Int(reader.u32(offset + 4))
            guard length >= 12 else {
                throw PacketCaptureError(
                    offset: offset + 4, reason: "block length \(length) is smaller than the 12 bytes of its own header and trailer")
            }
            guard length % 4 == 0 else {
                throw PacketCaptureError(offset: offset + 4, reason: "block length \(length) is not a multiple of 4")
            }
            guard length <= left else {
                let what = type == 6 || type == 3 || type == 2 ? "packet \(index): block" : "block of type 0x\(paddedHex(type, digits: 8))"
                throw PacketCaptureError(
                    offset: offset,
                    reason: "\(what) of \(length) bytes runs past the end of the file, \(left) bytes left (file cut short?)")
            }
            let trailer = Int(reader.u32(offset + length - 4))
            guard trailer == length else {
                throw PacketCaptureError(
                    offset: offset + length - 4, reason: "block trailer length \(trailer) differs from its header length \(length)")
            }
            let body = offset + 8
            let bodyEnd = offset + length - 4

            switch type {
            case 0x0A0D_0D0A:
                guard length >= 28 else {
                    throw PacketCaptureError(offset: offset + 4, reason: "Section Header Block length \(length) is below 28")
                }
                let major = reader.u16(body + 4)
                guard major == 1 else {
                    throw PacketCaptureError(offset: body + 4, reason: "unsupported pcapng version \(major).\(reader.u16(body + 6))")
                }
                inSection = true
                interfaces = []

            case 1:  // Interface Description Block
                guard length >= 20 else {
                    throw PacketCaptureError(offset: offset + 4, reason: "Interface Description Block length \(length) is below 20")
                }
                var interface = Interface(linkType: UInt32(reader.u16(body)), snaplen: Int(reader.u32(body + 4)))
                try readInterfaceOptions(from: body + 8, to: bodyEnd, reader: reader, into: &interface)
                interfaces.append(interface)

            case 6, 2:  // Enhanced Packet Block; Packet Block, obsolete but still met in old files.
                let name = type == 6 ? "Enhanced Packet Block" : "Packet Block"
                guard length >= 32 else {
                    throw PacketCaptureError(offset: offset + 4, reason: "packet \(index): \(name) length \(length) is below 32")
                }
                // The only difference in the part read here: a 32-bit interface id, or a 16-bit one.
                let interfaceID = type == 6 ? Int(reader.u32(body)) : Int(reader.u16(body))
                let interface = try self.interface(interfaceID, of: interfaces, at: body, packet: index)
                let units = UInt64(reader.u32(body + 4)) << 32 | UInt64(reader.u32(body + 8))
                let captured = Int(reader.u32(body + 12))
                let room = bodyEnd - (body + 20)
                guard captured <= room else {
                    throw PacketCaptureError(
                        offset: body + 12,
                        reason: "packet \(index): captured length \(captured) exceeds the \(room) bytes its block holds")
                }
                let timestamp = try nanoseconds(units, interface: interface, at: body + 4, packet: index)
                packets.append(CapturedPacket(
                    index: index, timestampNanoseconds: timestamp, linkType: interface.linkType,
                    bytes: Array(file[(body + 20)..<(body + 20 + captured)])))

            case 3:  // Simple Packet Block: interface 0, no timestamp.
                guard length >= 16 else {
                    throw PacketCaptureError(offset: offset + 4, reason: "packet \(index): Simple Packet Block length \(length) is below 16")
                }
                let interface = try self.interface(0, of: interfaces, at: offset, packet: index)
                let original = Int(reader.u32(body))
                var captured = min(original, bodyEnd - (body + 4))
                if interface.snaplen > 0 { captured = min(captured, interface.snaplen) }
                packets.append(CapturedPacket(
                    index: index, timestampNanoseconds: 0, linkType: interface.linkType,
                    bytes: Array(file[(body + 4)..<(body + 4 + captured)])))

            default:
                break  // Name resolution, statistics, secrets, custom blocks: nothing for us.
            }
            offset += length
        }
        return packets
    }

    func interface(_ id: Int, of interfaces: [Interface], at offset: Int, packet: Int) throws(PacketCaptureError) -> Interface {
        guard id < interfaces.count else {
            throw PacketCaptureError(
                offset: offset,
                reason: "packet \(packet): names interface \(id) but its section describes \(interfaces.count)")
        }
        return interfaces[id]
    }

    /// Reads the options of an Interface Description Block that matter for timestamps.
    func readInterfaceOptions(
        from start: Int, to end: Int, reader: CaptureByteReader, into interface: inout Interface
    ) throws(PacketCaptureError) {
        var offset = start
        // Options may end without opt_endofopt when the block ends; fewer than 4 bytes is padding.
        while end - offset >= 4 {
            let code = reader.u16(offset)
            let length = Int(reader.u16(offset + 2))
            if code == 0 { return }
            let value = offset + 4
            guard length <= end - value else {
                throw PacketCaptureError(
                    offset: offset + 2, reason: "interface option \(code) of \(length) bytes runs past the end of its block")
            }
            switch (code, length) {
            case (9, 1...):  // if_tsresol
                let byte = file[value]
                let exponent = Int(byte & 0x7F)
                interface.resolution = byte & 0x80 == 0 ? .decimal(exponent) : .binary(exponent)
            case (14, 8...):  // if_tsoffset, whole seconds added to every timestamp
                interface.offsetSeconds = Int64(bitPattern: reader.u64(value))
            default:
                break
            }
            // Values are padded to 32 bits; a padded length beyond the end just ends the loop.
            offset = value + ((length + 3) & ~3)
        }
    }

    /// `units` of the interface's resolution, plus its offset, as nanoseconds since 1970.
    func nanoseconds(_ units: UInt64, interface: Interface, at offset: Int, packet: Int) throws(PacketCaptureError) -> Int64 {
        let outOfRange = PacketCaptureError(offset: offset, reason: "packet \(packet): timestamp out of range")
        var result: UInt64
        switch interface.resolution {
        case .decimal(let exponent):
            if exponent <= 9 {
                let (product, overflow) = units.multipliedReportingOverflow(by: Self.powersOfTen[9 - exponent])
                guard !overflow else { throw outOfRange }
                result = product
            } else if exponent - 9 < Self.powersOfTen.count {
                result = units / Self.powersOfTen[exponent - 9]
            } else {
                result = 0
            }
        case .binary(let exponent):
            // units / 2^exponent seconds, in nanoseconds: (units * 10^9) >> exponent on 128 bits.
            let (high, low) = units.multipliedFullWidth(by: 1_000_000_000)
            if exponent == 0 {
                guard high == 0 else { throw outOfRange }
                result = low
            } else if exponent < 64 {
                guard high >> exponent == 0 else { throw outOfRange }
                result = high << (64 - exponent) | low >> exponent
            } else {
                result = high >> (exponent - 64)
            }
        }
        guard result <= UInt64(Int64.max) else { throw outOfRange }
        var nanoseconds = Int64(result)
        if interface.offsetSeconds != 0 {
            let (shift, overflow) = interface.offsetSeconds.multipliedReportingOverflow(by: 1_000_000_000)
            guard !overflow else { throw outOfRange }
            let (sum, sumOverflow) = nanoseconds.addingReportingOverflow(shift)
            guard !sumOverflow else { throw outOfRange }
            nanoseconds = sum
        }
        return nanoseconds
    }
}
