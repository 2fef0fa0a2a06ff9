// Fuzz target: Transport's frame formats and the incremental FrameDecoder.
//
// Input: byte 0 picks the format (the ten FrameFormat presets, then an ETX-delimited format with
// no length prefix and a TPDU format whose length counts prefix, header and trailer). Byte 1: bits
// 0-3 are how many chunk-size bytes follow (0: the stream arrives in one read), bit 4 makes the
// frame callback stop after every frame (the rest is taken with drain), bit 5 lowers the maximum
// frame size to 300. The rest is the byte stream.
//
// Checks: every frame nextFrame finds lies inside the buffer, with the header and payload where
// the format puts them; the decoder fed in chunks delivers exactly the frames, and the error, of a
// whole-buffer scan ("the result is the same however the stream was split"); a decoded frame
// written back with writeFrame reads back as the same header and payload.
import FuzzMain
import Transport

let formats: [FrameFormat] = FrameFormat.presets.map(\.1) + [
    FrameFormat(lengthBytes: 0, reservedBytes: 1, trailer: 0x03),
    FrameFormat(lengthBytes: 2, lengthEncoding: .ebcdic, lengthIncludesPrefix: true, lengthIncludesHeader: true,
                lengthIncludesTrailer: true, header: .tpdu, trailer: 0x1C),
]

struct Scanned: Equatable {
    var frames: [[UInt8]] = []
    var error: FramingError.Kind?
    var leftover = 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count >= 2 else { return 0 }
    let input = UnsafeRawBufferPointer(start: start, count: count)
    var format = formats[Int(input[0]) % formats.count]
    let control = input[1]
    if control & 0x20 != 0 { format.maximumFrameSize = 300 }
    let sizeCount = min(Int(control & 0x0F), count - 2)
    let sizes = input[2..<2 + sizeCount].map { Int($0) + 1 }
    let stream = UnsafeRawBufferPointer(rebasing: input[(2 + sizeCount)...])

    let whole = scan(stream, format)
    let dripped = drip(stream, format, sizes: sizes, stopEachFrame: control & 0x10 != 0)
    guard whole == dripped else {
        fatalError("\(format): a whole-buffer scan and the decoder fed in chunks of \(sizes) disagree: \(whole.frames.count) frames, error \(String(describing: whole.error)), \(whole.leftover) left vs \(dripped.frames.count) frames, error \(String(describing: dripped.error)), \(dripped.leftover) left")
    }
    return 0
}

/// Splits the stream with the stateless nextFrame, checking each frame's bounds.
func scan(_ stream: UnsafeRawBufferPointer, _ format: FrameFormat) -> Scanned {
    var result = Scanned()
    var offset = 0
    while offset < stream.count {
        let rest = UnsafeRawBufferPointer(rebasing: stream[offset...])
        let found: FrameBounds?
        do {
            found = try format.nextFrame(in: rest)
        } catch {
            _ = error.description
            result.error = error.kind
            return result
        }
        guard let bounds = found else { break }
        check(bounds, in: rest, format)
        let header = Array(rest[bounds.headerRange])
        let payload = Array(rest[bounds.payloadRange])
        rewrite(header: header, payload: payload, format)
        result.frames.append(header + [0xFF, 0xFE] + payload)
        offset += bounds.frameCount
    }
    result.leftover = stream.count - offset
    return result
}

func check(_ bounds: FrameBounds, in buffer: UnsafeRawBufferPointer, _ format: FrameFormat) {
    let ok = bounds.frameCount > 0 && bounds.frameCount <= buffer.count && bounds.frameCount <= format.maximumFrameSize
        && bounds.headerRange.lowerBound >= 0 && bounds.headerRange.upperBound <= bounds.payloadRange.lowerBound
        && bounds.payloadRange.upperBound <= bounds.frameCount
        && bounds.headerRange.count == format.header.byteCount
        && bounds.payloadRange.upperBound + format.overheadAfterPayload == bounds.frameCount
    if !ok { fatalError("\(format): frame bounds \(bounds) do not fit a buffer of \(buffer.count) bytes") }
}

/// A frame's header and payload written with writeFrame must read back as the same frame.
func rewrite(header: [UInt8], payload: [UInt8], _ format: FrameFormat) {
    do throws(FramingError) { try format.checkFits(payloadCount: payload.count) } catch { return }
    // A delimited format cannot carry its trailer byte inside the payload.
    if format.lengthBytes == 0, let trailer = format.trailer, payload.contains(trailer) { return }
    var output = [UInt8](repeating: 0xAA, count: format.frameCount(payloadCount: payload.count))
    let written: Result<FrameBounds?, FramingError> = payload.withUnsafeBytes { payloadBytes in
        header.withUnsafeBytes { headerBytes in
            output.withUnsafeMutableBytes { out in
                do throws(FramingError) {
                    try format.writeFrame(payload: payloadBytes, header: headerBytes, into: out)
                    return .success(try format.nextFrame(in: UnsafeRawBufferPointer(out)))
                } catch {
                    return .failure(error)
                }
            }
        }
    }
    switch written {
    case .failure(let error):
        fatalError("\(format): a frame that fits (\(payload.count) bytes) cannot be written and read back: \(error)")
    case .success(let bounds):
        guard let bounds, bounds.frameCount == output.count,
              Array(output[bounds.headerRange]) == header, Array(output[bounds.payloadRange]) == payload else {
            fatalError("\(format): a written frame reads back differently: \(Hex(output))")
        }
    }
    // The reply header of a TPDU swaps its addresses; twice gives the original back.
    if !header.isEmpty {
        var once = [UInt8](repeating: 0, count: header.count)
        var twice = once
        header.withUnsafeBytes { h in once.withUnsafeMutableBytes { format.replyHeader(to: h, into: $0) } }
        once.withUnsafeBytes { h in twice.withUnsafeMutableBytes { format.replyHeader(to: h, into: $0) } }
        if twice != header { fatalError("\(format): replying twice to header \(Hex(header)) gives \(Hex(twice))") }
    }
}

/// Feeds the stream to a FrameDecoder in chunks of the given sizes (cycled).
func drip(_ stream: UnsafeRawBufferPointer, _ format: FrameFormat, sizes: [Int], stopEachFrame: Bool) -> Scanned {
    var decoder = FrameDecoder(format: format)
    var result = Scanned()
    let collect: (Frame) -> Bool = { frame in
        // Frames handed out point into the decoder's buffer or the chunk: read them now.
        if frame.header.count != format.header.byteCount {
            fatalError("\(format): a frame with a \(frame.header.count)-byte header")
        }
        result.frames.append(Array(frame.header) + [0xFF, 0xFE] + Array(frame.payload))
        return !stopEachFrame
    }
    var offset = 0
    var turn = 0
    do throws(FramingError) {
        while offset < stream.count {
            let size = sizes.isEmpty ? stream.count : min(sizes[turn % sizes.count], stream.count - offset)
            turn += 1
            try decoder.decode(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + size]), collect)
            offset += size
            if stopEachFrame {
                // Take what is buffered one frame at a time, as a paused connection does on resume.
                var before = -1
                while decoder.pendingCount > 0 && decoder.pendingCount != before {
                    before = decoder.pendingCount
                    try decoder.drain(collect)
                }
            }
        }
    } catch {
        result.error = error.kind
        return result
    }
    if decoder.pendingCount > format.maximumFrameSize {
        fatalError("\(format): the decoder holds \(decoder.pendingCount) bytes, over the maximum frame size")
    }
    result.leftover = decoder.pendingCount
    return result
}

struct Hex: CustomStringConvertible {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var description: String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: bytes.prefix(256).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}

/// libFuzzer's entry point (see Sources/FuzzMain/FuzzMain.c).
@_cdecl("framing_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    payswitch_fuzz_main(argc, argv)
}
