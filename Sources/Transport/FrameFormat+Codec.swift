/// Where one complete frame lies in a buffer.
public struct FrameBounds: Sendable, Hashable {
    /// Bytes the whole frame takes, from its first prefix byte to its trailer.
    public let frameCount: Int
    /// The header's offset and length.
    public let headerRange: Range<Int>
    /// The payload's offset and length.
    public let payloadRange: Range<Int>
}

extension FrameFormat {
    /// Finds the frame that starts at the beginning of `bytes`.
    ///
    /// Returns nil when more bytes are needed. Stateless, so an incremental decoder just keeps the
    /// unconsumed bytes and asks again: the result is the same however the stream was split.
    @inline(__always)
    public func nextFrame(in bytes: UnsafeRawBufferPointer) throws(FramingError) -> FrameBounds? {
        if lengthBytes == 0 { return try nextDelimitedFrame(in: bytes) }
        guard bytes.count >= lengthBytes else { return nil }
        let value = try readLength(bytes)
        let payloadCount = self.payloadCount(lengthValue: value)
        guard payloadCount >= 0 else {
            throw FramingError(kind: .lengthTooSmall, reason: "length \(value) is smaller than the \(lengthValue(payloadCount: 0)) bytes of overhead it counts")
        }
        let start = overheadBeforePayload
        let frameCount = start + payloadCount + overheadAfterPayload
        guard frameCount <= maximumFrameSize else {
            throw FramingError(kind: .frameTooLarge, reason: "a frame of \(frameCount) bytes is over the maximum of \(maximumFrameSize)")
        }
        guard bytes.count >= frameCount else { return nil }
        if let trailer, bytes[frameCount - 1] != trailer {
            throw FramingError(kind: .missingTrailer, reason: "expected trailer 0x\(String(trailer, radix: 16)) at the end of a \(frameCount)-byte frame, found 0x\(String(bytes[frameCount - 1], radix: 16))")
        }
        let headerStart = lengthBytes + reservedBytes
        return FrameBounds(
            frameCount: frameCount, headerRange: headerStart..<start, payloadRange: start..<start + payloadCount)
    }

    /// A frame ended by the trailer byte alone (no length prefix).
    func nextDelimitedFrame(in bytes: UnsafeRawBufferPointer) throws(FramingError) -> FrameBounds? {
        let trailer = self.trailer!
        let start = reservedBytes + header.byteCount
        let limit = min(bytes.count, maximumFrameSize)
        var index = start
        while index < limit {
            if bytes[index] == trailer {
                return FrameBounds(frameCount: index + 1, headerRange: reservedBytes..<start, payloadRange: start..<index)
            }
            index += 1
        }
        if bytes.count >= maximumFrameSize {
            throw FramingError(kind: .frameTooLarge, reason: "no trailer within the maximum of \(maximumFrameSize) bytes")
        }
        return nil
    }

    @inline(__always)
    func readLength(_ bytes: UnsafeRawBufferPointer) throws(FramingError) -> Int {
        var value = 0
        for index in 0..<lengthBytes {
            let byte = bytes[index]
            switch lengthEncoding {
            case .binary:
                value = value << 8 | Int(byte)
            case .ascii, .ebcdic:
                let digit = lengthEncoding == .ascii ? byte &- 0x30 : byte &- 0xF0
                guard digit <= 9 else { throw invalidLength(bytes) }
                value = value * 10 + Int(digit)
            case .hex:
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: throw invalidLength(bytes)
                }
                value = value << 4 | Int(digit)
            case .bcd:
                guard byte >> 4 <= 9, byte & 0x0F <= 9 else { throw invalidLength(bytes) }
                value = value * 100 + Int(byte >> 4) * 10 + Int(byte & 0x0F)
            }
        }
        return value
    }

    func invalidLength(_ bytes: UnsafeRawBufferPointer) -> FramingError {
        let shown = bytes.prefix(lengthBytes).map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
        return FramingError(kind: .invalidLength, reason: "the \(lengthBytes)-byte \(lengthEncoding.rawValue) length prefix is not a number: \(shown)")
    }

    /// Bytes a frame with a payload of `payloadCount` bytes takes.
    public func frameCount(payloadCount: Int) -> Int { overheadBeforePayload + payloadCount + overheadAfterPayload }

    /// Writes the frame around a payload: prefix, reserved bytes, header, payload, trailer.
    ///
    /// - Parameters:
    ///   - payload: The message bytes.
    ///   - header: The header (or TPDU) to send; zeros when nil.
    ///   - output: Where to write; exactly ``frameCount(payloadCount:)`` bytes.
    /// - Throws: When the payload does not fit the length prefix or the maximum frame size: a length
    ///   is never wrapped.
    public func writeFrame(
        payload: UnsafeRawBufferPointer, header headerBytes: UnsafeRawBufferPointer?, into output: UnsafeMutableRawBufferPointer
    ) throws(FramingError) {
        try checkFits(payloadCount: payload.count)
        var index = 0
        writeLength(lengthValue(payloadCount: payload.count), into: output, at: &index)
        for _ in 0..<reservedBytes {
            output[index] = 0
            index += 1
        }
        let headerCount = header.byteCount
        if headerCount > 0 {
            if let headerBytes, headerBytes.count == headerCount {
                UnsafeMutableRawBufferPointer(rebasing: output[index..<index + headerCount]).copyMemory(from: headerBytes)
            } else {
                UnsafeMutableRawBufferPointer(rebasing: output[index..<index + headerCount]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            index += headerCount
        }
        if !payload.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: output[index..<index + payload.count]).copyMemory(from: payload)
        }
        index += payload.count
        if let trailer { output[index] = trailer }
    }

    /// Checks that a payload can be framed without wrapping the length or passing the maximum.
    public func checkFits(payloadCount: Int) throws(FramingError) {
        let total = frameCount(payloadCount: payloadCount)
        guard total <= maximumFrameSize else {
            throw FramingError(kind: .payloadTooLarge, reason: "a frame of \(total) bytes is over the maximum of \(maximumFrameSize)")
        }
        if lengthBytes > 0, lengthValue(payloadCount: payloadCount) > largestLengthValue {
            throw FramingError(kind: .payloadTooLarge, reason: "length \(lengthValue(payloadCount: payloadCount)) does not fit a \(lengthBytes)-byte \(lengthEncoding.rawValue) prefix (at most \(largestLengthValue))")
        }
    }

    func writeLength(_ value: Int, into output: UnsafeMutableRawBufferPointer, at index: inout Int) {
        switch lengthEncoding {
        case .binary:
            for shift in stride(from: 8 * (lengthBytes - 1), through: 0, by: -8) {
                output[index] = UInt8(truncatingIfNeeded: value >> shift)
                index += 1
            }
        case .ascii, .ebcdic, .hex:
            let base = lengthEncoding == .hex ? 16 : 10
            var divisor = FrameFormat.powerOf(base, lengthBytes - 1)
            while divisor > 0 {
                let digit = UInt8(value / divisor % base)
                switch lengthEncoding {
                case .ebcdic: output[index] = 0xF0 + digit
                case .hex: output[index] = digit < 10 ? 0x30 + digit : 0x41 + digit - 10
                default: output[index] = 0x30 + digit
                }
                index += 1
                divisor /= base
            }
        case .bcd:
            var divisor = FrameFormat.powerOf(10, 2 * lengthBytes - 2)
            while divisor > 0 {
                output[index] = UInt8(value / (divisor * 10) % 10) << 4 | UInt8(value / divisor % 10)
                index += 1
                divisor /= 100
            }
        }
    }

    /// The header to send on a reply to a frame that came with `header`: a TPDU has its destination
    /// and source swapped; other headers are echoed.
    public func replyHeader(to header: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        output.copyMemory(from: header)
        if case .tpdu = self.header, header.count == 5 {
            output[1] = header[3]
            output[2] = header[4]
            output[3] = header[1]
            output[4] = header[2]
        }
    }
}
