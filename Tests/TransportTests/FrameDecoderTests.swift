import Testing
import Transport

/// Every framing preset yields the same frames however the stream is cut.
struct FrameDecoderTests {
    static let presetNames = FrameFormat.presets.map(\.0)

    /// Frames of assorted sizes (one empty: a keep-alive), with headers where the format has one.
    static func sampleFrames(_ format: FrameFormat) -> [(header: [UInt8], payload: [UInt8])] {
        let sizes = [1, 2, 17, 255, 256, 300, 4000, 0, 9]
        return sizes.enumerated().map { index, size in
            let header = (0..<format.header.byteCount).map { UInt8(truncatingIfNeeded: 0x60 + index + $0) }
            // A trailer-terminated format cannot carry its trailer byte inside a payload.
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: ($0 * 7 + index) % 251 + 4) }
            return (header, payload)
        }
    }

    static func stream(_ format: FrameFormat, _ frames: [(header: [UInt8], payload: [UInt8])]) throws -> [UInt8] {
        var out: [UInt8] = []
        for frame in frames {
            var bytes = [UInt8](repeating: 0xEE, count: format.frameCount(payloadCount: frame.payload.count))
            try bytes.withUnsafeMutableBytes { output in
                try frame.payload.withUnsafeBytes { payload in
                    try frame.header.withUnsafeBytes { header in
                        try format.writeFrame(payload: payload, header: header.isEmpty ? nil : header, into: output)
                    }
                }
            }
            out += bytes
        }
        return out
    }

    /// Feeds `stream` cut into pieces of the given sizes (cycled) and collects the frames.
    static func decode(_ format: FrameFormat, _ stream: [UInt8], cuts: [Int]) throws -> [(header: [UInt8], payload: [UInt8])] {
        var decoder = FrameDecoder(format: format)
        var frames: [(header: [UInt8], payload: [UInt8])] = []
        var offset = 0
        var cut = 0
        while offset < stream.count {
            let size = min(cuts[cut % cuts.count], stream.count - offset)
            cut += 1
            try stream[offset..<offset + size].withUnsafeBytes { piece in
                try decoder.decode(piece) { frame in
                    frames.append((Array(frame.header), Array(frame.payload)))
                    return true
                }
            }
            offset += size
        }
        #expect(decoder.pendingCount == 0)
        return frames
    }

    @Test(arguments: presetNames)
    func dripFedCoalescedAndOnePerBuffer(preset: String) throws {
        let format = FrameFormat.preset(named: preset)!
        let frames = Self.sampleFrames(format)
        let bytes = try Self.stream(format, frames)
        let onePerBuffer = frames.map { format.frameCount(payloadCount: $0.payload.count) }
        for cuts in [[1], [bytes.count], onePerBuffer, [3, 1, 7, 64, 2, 1000, 5]] {
            let decoded = try Self.decode(format, bytes, cuts: cuts)
            #expect(decoded.count == frames.count, "\(preset) cut \(cuts.prefix(3))")
            for (got, want) in zip(decoded, frames) {
                #expect(got.payload == want.payload)
                #expect(got.header == want.header)
            }
        }
    }

    @Test(arguments: presetNames)
    func oversizeFrameIsRefusedAsSoonAsItsLengthIsRead(preset: String) throws {
        var format = FrameFormat.preset(named: preset)!
        format.maximumFrameSize = 100
        var large = format
        large.maximumFrameSize = 1 << 20
        let bytes = try Self.stream(large, [([UInt8](repeating: 0, count: format.header.byteCount), [UInt8](repeating: 0x41, count: 200))])
        var decoder = FrameDecoder(format: format)
        // Only the length prefix (and for a delimited format, the first 100 bytes) is needed to refuse it.
        let needed = format.lengthBytes == 0 ? 100 : format.lengthBytes
        #expect(throws: FramingError.self) {
            try bytes.prefix(needed).withUnsafeBytes { try decoder.decode($0) { _ in true } }
        }
    }

    @Test(arguments: [("ascii4", [UInt8]("12x4".utf8)), ("hex4", [UInt8]("00G1".utf8)), ("bcd2", [0x1A, 0x00])])
    func invalidLengthPrefix(preset: String, prefix: [UInt8]) throws {
        var decoder = FrameDecoder(format: FrameFormat.preset(named: preset)!)
        #expect(throws: FramingError.self) { try prefix.withUnsafeBytes { try decoder.decode($0) { _ in true } } }
    }

    @Test(arguments: [("bcd2", 10_000), ("ascii4", 10_000), ("bin2", 65_536), ("hex4", 65_536)])
    func lengthsNeverWrap(preset: String, payloadCount: Int) {
        var format = FrameFormat.preset(named: preset)!
        format.maximumFrameSize = 1 << 20
        #expect(throws: FramingError.self) { try format.checkFits(payloadCount: payloadCount) }
        #expect(throws: Never.self) { try format.checkFits(payloadCount: payloadCount - 1 - format.header.byteCount) }
    }

    @Test func knownWireBytes() throws {
        #expect(try Self.stream(.bin2, [([], [0xAA])]) == [0x00, 0x01, 0xAA])
        #expect(try Self.stream(.ascii4, [([], [0xAA])]) == Array("0001".utf8) + [0xAA])
        #expect(try Self.stream(.bcd2, [([], [UInt8](repeating: 1, count: 1234))]).prefix(2) == [0x12, 0x34])
        #expect(try Self.stream(.hex4, [([], [UInt8](repeating: 1, count: 0x1AF))]).prefix(4) == ArraySlice("01AF".utf8))
        #expect(try Self.stream(.bin4, [([], [0xAA])]) == [0, 0, 0, 1, 0xAA])
        #expect(try Self.stream(.nac2, [([0x60, 0, 1, 0, 2], [0xAA])]) == [0x00, 0x06, 0x60, 0, 1, 0, 2, 0xAA])
        #expect(try Self.stream(.amex2, [([], [0xAA])]) == [0x00, 0x03, 0xAA])
        #expect(try Self.stream(.base24, [([], [0xAA])]) == [0x00, 0x02, 0xAA, 0x03])
        #expect(try Self.stream(.cs2, [([], [0xAA])]) == [0x00, 0x01, 0, 0, 0xAA])
    }

    @Test func tpduReplySwapsDestinationAndSource() {
        let tpdu: [UInt8] = [0x60, 0x00, 0x01, 0x00, 0x02]
        var reply = [UInt8](repeating: 0, count: 5)
        tpdu.withUnsafeBytes { header in
            reply.withUnsafeMutableBytes { FrameFormat.nac2.replyHeader(to: header, into: $0) }
        }
        #expect(reply == [0x60, 0x00, 0x02, 0x00, 0x01])
    }
}
