/// Splits a byte stream into frames, however the stream was cut into reads.
///
/// Complete frames are handed out in place (no copy); only the bytes of an unfinished frame are
/// kept between calls, and those are bounded by the format's maximum frame size.
public struct FrameDecoder {
    public let format: FrameFormat
    /// Bytes of a frame not yet complete.
    private var pending: [UInt8] = []

    public init(format: FrameFormat) { self.format = format }

    /// Bytes held back waiting for the rest of their frame.
    public var pendingCount: Int { pending.count }

    /// Feeds bytes; calls `body` with each complete frame until it returns false (stop: the rest is
    /// kept for the next call).
    ///
    /// - Throws: A ``FramingError`` when the stream breaks the format; the decoder is then unusable.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, _ body: (Frame) -> Bool) throws(FramingError) {
        if pending.isEmpty {
            let consumed = try split(bytes, body)
            if consumed < bytes.count { pending.append(contentsOf: bytes[consumed...]) }
            return
        }
        pending.append(contentsOf: bytes)
        let result: Result<Int, FramingError> = pending.withUnsafeBytes { buffered in
            do throws(FramingError) { return .success(try split(buffered, body)) } catch { return .failure(error) }
        }
        let consumed = try result.get()
        if consumed == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 4096)
        } else if consumed > 0 {
            pending.removeFirst(consumed)
        }
    }

    /// Delivers frames already buffered (after a pause), without new bytes.
    public mutating func drain(_ body: (Frame) -> Bool) throws(FramingError) {
        guard !pending.isEmpty else { return }
        try decode(UnsafeRawBufferPointer(start: nil, count: 0), body)
    }

    /// Forgets buffered bytes (on close).
    public mutating func reset() { pending = [] }

    private func split(_ bytes: UnsafeRawBufferPointer, _ body: (Frame) -> Bool) throws(FramingError) -> Int {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let bounds = try format.nextFrame(in: rest) else { break }
            offset += bounds.frameCount
            let frame = Frame(header: UnsafeRawBufferPointer(rebasing: rest[bounds.headerRange]),
                              payload: UnsafeRawBufferPointer(rebasing: rest[bounds.payloadRange]))
            if !body(frame) { break }
        }
        return offset
    }
}
