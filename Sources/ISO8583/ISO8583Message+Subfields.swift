/// One BER-TLV data object from an EMV field (55): a tag, and either a value or nested objects.
public struct BERTLV: Sendable, Hashable {
    /// The tag bytes as uppercase hexadecimal, for example `9F26`.
    public let tag: String
    /// The value bytes (for a constructed tag: the encoded children).
    public let value: [UInt8]
    /// The nested objects of a constructed tag; empty for a primitive one.
    public let children: [BERTLV]

    /// Whether the tag is constructed (bit 6 of its first byte).
    public var isConstructed: Bool { (Charset.hexValue[Int(tag.utf8.first!)] & 0x2) != 0 }

    /// EMV tags that identify the card or cardholder and are masked when printed.
    public static let sensitiveTags: Set<String> = ["5A", "57", "56", "5F20", "5F24", "9F1F", "9F20", "9F6B", "9F0B"]
}

/// One subfield of a composite field: positional, private TLV or bitmapped.
public struct SubfieldValue: Sendable, Hashable {
    /// The position or number (`"1"`, `"2"` …) or the tag (`"01"`, `"CV"` …).
    public let id: String
    /// The subfield's name from the spec, or empty when the spec does not name it.
    public let name: String
    /// The value: characters for text, raw bytes for binary.
    public let value: [UInt8]
    /// Whether the value is binary (printed as hexadecimal).
    public let isBinary: Bool
    /// How the value must be protected when printed.
    public let sensitivity: Sensitivity
}

extension ISO8583Message {
    /// The BER-TLV objects of an EMV field (55 by default), in order, unknown tags included.
    public func tlv(_ field: Int = 55) throws(ISO8583Error) -> [BERTLV] {
        guard let index = slotIndex(field) else { return [] }
        let slot = slots[index]
        return try storage.withUnsafeBufferPointer { buffer throws(ISO8583Error) in
            try SubfieldDecoder.withLogicalBytes(buffer, slot) { bytes, base throws(ISO8583Error) in
                let parser = BERTLVParser(bytes: bytes, base: base, field: field)
                return try parser.parse(from: 0, to: bytes.count, depth: 0)
            }
        }
    }

    /// The subfields of a positional, private-TLV or bitmapped composite field.
    public func subfields(_ field: Int, dialect: Dialect) throws(ISO8583Error) -> [SubfieldValue] {
        guard let index = slotIndex(field), let spec = dialect[field: field], let layout = spec.subfields else { return [] }
        let slot = slots[index]
        return try storage.withUnsafeBufferPointer { buffer throws(ISO8583Error) in
            try SubfieldDecoder.withLogicalBytes(buffer, slot) { bytes, base throws(ISO8583Error) in
                try SubfieldDecoder.parse(layout, parent: spec, bytes: bytes, base: base)
            }
        }
    }
}

/// Checks and parses composite fields over their logical bytes.
enum SubfieldDecoder {
    /// Checks a composite field's structure at decode time (no allocation for the common forms).
    static func check(_ spec: FieldSpec, in buffer: UnsafeBufferPointer<UInt8>, slot: FieldSlot) throws(ISO8583Error) {
        guard let layout = spec.subfields else { return }
        try withLogicalBytes(buffer, slot) { bytes, base throws(ISO8583Error) in
            switch layout {
            case .berTLV:
                let parser = BERTLVParser(bytes: bytes, base: base, field: spec.number)
                try parser.check(from: 0, to: bytes.count, depth: 0)
            default:
                _ = try parse(layout, parent: spec, bytes: bytes, base: base)
            }
        }
    }

    /// Calls `body` with the field's logical bytes and the frame offset they start at. Text and binary
    /// values are passed in place; other forms are converted into a temporary buffer.
    static func withLogicalBytes<R>(
        _ buffer: UnsafeBufferPointer<UInt8>, _ slot: FieldSlot,
        _ body: (UnsafeBufferPointer<UInt8>, Int) throws(ISO8583Error) -> R
    ) throws(ISO8583Error) -> R {
        switch slot.form {
        case .text, .binary:
            let start = Int(slot.offset)
            return try body(UnsafeBufferPointer(rebasing: buffer[start..<start + Int(slot.units)]), start)
        default:
            // Converted on the stack: composite checks at decode time allocate nothing.
            let result: Result<R, ISO8583Error> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(slot.units)) { scratch in
                var index = 0
                ValueReader(buffer: buffer, slot: slot).forEach { byte in
                    scratch[index] = byte
                    index += 1
                }
                do throws(ISO8583Error) {
                    return .success(try body(UnsafeBufferPointer(scratch), Int(slot.offset)))
                } catch {
                    return .failure(error)
                }
            }
            return try result.get()
        }
    }

    /// Parses positional, private-TLV and bitmapped layouts; BER-TLV has its own parser.
    static func parse(
        _ layout: Subfields, parent: FieldSpec, bytes: UnsafeBufferPointer<UInt8>, base: Int
    ) throws(ISO8583Error) -> [SubfieldValue] {
        let prefix = "DE \(parent.number)."
        switch layout {
        case .berTLV:
            let parser = BERTLVParser(bytes: bytes, base: base, field: parent.number)
            let objects = try parser.parse(from: 0, to: bytes.count, depth: 0)
            return objects.map {
                SubfieldValue(id: $0.tag, name: "", value: $0.value, isBinary: true,
                              sensitivity: BERTLV.sensitiveTags.contains($0.tag) ? .emv : .none)
            }
        case .tagLengthValue(let tagLength, let lengthDigits, let tags):
            var out: [SubfieldValue] = []
            var position = 0
            while position < bytes.count {
                guard bytes.count - position >= tagLength + lengthDigits else {
                    throw ISO8583Error(
                        code: .invalidTLV, field: parent.number, offset: base + position,
                        reason: "DE \(parent.number) (\(parent.name)): \(bytes.count - position) bytes left, too few for a tag and a length")
                }
                let tag = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<position + tagLength]), as: UTF8.self)
                var length = 0
                for index in position + tagLength..<position + tagLength + lengthDigits {
                    let digit = bytes[index] &- 0x30
                    guard digit <= 9 else {
                        throw ISO8583Error(
                            code: .invalidTLV, field: parent.number, offset: base + index,
                            reason: "\(prefix)\(tag): the length has \(Charset.describe(bytes[index])), not a digit")
                    }
                    length = length * 10 + Int(digit)
                }
                let valueStart = position + tagLength + lengthDigits
                guard bytes.count - valueStart >= length else {
                    throw ISO8583Error(
                        code: .invalidTLV, field: parent.number, offset: base + valueStart,
                        reason: "\(prefix)\(tag): length \(length) overruns the field by \(length - (bytes.count - valueStart)) bytes")
                }
                let known = tags.first { $0.tag == tag }
                out.append(SubfieldValue(
                    id: tag, name: known?.name ?? "", value: Array(bytes[valueStart..<valueStart + length]),
                    isBinary: false, sensitivity: known?.sensitivity ?? .none))
                position = valueStart + length
            }
            return out
        case .positional(let specs):
            var dialect = Dialect(
                name: parent.name, summary: "", mtiEncoding: .ascii, bitmapEncoding: .binary, tertiaryBitmap: false,
                fields: specs)
            dialect.fieldLabelPrefix = prefix
            var reader = FieldReader(buffer: bytes, start: 0, end: bytes.count)
            var out: [SubfieldValue] = []
            // Trailing subfields may be left out, as long as the value ends on a subfield boundary.
            for spec in specs where reader.position < bytes.count {
                let slot = try dialect.codecs.withUnsafeBufferPointer { codecs throws(ISO8583Error) in
                    try reader.readField(codecs.baseAddress! + spec.number, number: spec.number, dialect: dialect)
                }
                out.append(value(of: slot, spec: spec, bytes: bytes))
            }
            guard reader.position == bytes.count else {
                throw ISO8583Error(
                    code: .invalidSubfields, field: parent.number, offset: base + reader.position,
                    reason: "DE \(parent.number) (\(parent.name)): \(bytes.count - reader.position) bytes follow the last subfield")
            }
            return out
        case .bitmapped(let encoding, let specs):
            var dialect = Dialect(
                name: parent.name, summary: "", mtiEncoding: .ascii, bitmapEncoding: encoding, tertiaryBitmap: false,
                fields: specs)
            dialect.fieldLabelPrefix = prefix
            var reader = FieldReader(buffer: bytes, start: 0, end: bytes.count)
            var word = try reader.readBitmap(encoding, field: parent.number)
            var out: [SubfieldValue] = []
            while word != 0 {
                let bit = word.leadingZeroBitCount
                word &= ~(UInt64(1) << UInt64(63 - bit))
                let number = bit + 1
                guard let spec = dialect[field: number] else {
                    throw ISO8583Error(
                        code: .undefinedField, field: parent.number, offset: base + reader.position,
                        reason: "\(prefix)\(number): the composite's bitmap announces a subfield the spec does not define")
                }
                let slot = try dialect.codecs.withUnsafeBufferPointer { codecs throws(ISO8583Error) in
                    try reader.readField(codecs.baseAddress! + number, number: number, dialect: dialect)
                }
                out.append(value(of: slot, spec: spec, bytes: bytes))
            }
            guard reader.position == bytes.count else {
                throw ISO8583Error(
                    code: .invalidSubfields, field: parent.number, offset: base + reader.position,
                    reason: "DE \(parent.number) (\(parent.name)): \(bytes.count - reader.position) bytes follow the last subfield")
            }
            return out
        }
    }

    static func value(of slot: FieldSlot, spec: FieldSpec, bytes: UnsafeBufferPointer<UInt8>) -> SubfieldValue {
        var value: [UInt8] = []
        ValueReader(buffer: bytes, slot: slot).forEach { value.append($0) }
        return SubfieldValue(
            id: String(spec.number), name: spec.name, value: value, isBinary: spec.fieldClass == .binary,
            sensitivity: spec.sensitivity)
    }
}

/// A strict BER-TLV reader for EMV data: multi-byte tags, long-form lengths, constructed tags, zero
/// lengths; 0x00 and 0xFF padding between objects is skipped, as EMV Book 3 allows.
struct BERTLVParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let base: Int
    let field: Int

    static let maximumDepth = 8

    func fail(_ offset: Int, _ reason: String) -> ISO8583Error {
        ISO8583Error(code: .invalidTLV, field: field, offset: base + offset, reason: "DE \(field) (BER-TLV): \(reason)")
    }

    /// One object's tag bytes, value bytes and form.
    struct Header {
        let tag: Range<Int>
        let value: Range<Int>
        let constructed: Bool
    }

    /// Reads the object at `position` (moving it past the tag and length), or skips one padding
    /// byte and returns nil.
    @inline(__always)
    func header(at position: inout Int, end: Int) throws(ISO8583Error) -> Header? {
        if bytes[position] == 0x00 || bytes[position] == 0xFF {
            position += 1
            return nil
        }
        let tagStart = position
        let first = bytes[position]
        position += 1
        if first & 0x1F == 0x1F {
            // Subsequent tag bytes continue while bit 8 is set; EMV tags are at most 3 bytes, ISO 8825 allows more.
            repeat {
                guard position < end else { throw fail(tagStart, "tag \(Charset.hex(bytes[tagStart..<position])) is cut off by the end of the field") }
                guard position - tagStart < 4 else { throw fail(tagStart, "tag longer than 4 bytes") }
                position += 1
            } while bytes[position - 1] & 0x80 != 0
        }
        let tagEnd = position
        guard position < end else { throw fail(tagStart, "tag \(Charset.hex(bytes[tagStart..<tagEnd])) has no length") }
        var length = Int(bytes[position])
        position += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1 && count <= 3 else {
                throw fail(position - 1, "tag \(Charset.hex(bytes[tagStart..<tagEnd])) has an unsupported length form 0x\(Charset.hex(UInt8(length)))")
            }
            guard end - position >= count else { throw fail(position, "tag \(Charset.hex(bytes[tagStart..<tagEnd])): the length is cut off by the end of the field") }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(bytes[position])
                position += 1
            }
        }
        guard end - position >= length else {
            throw fail(position, "tag \(Charset.hex(bytes[tagStart..<tagEnd])) has length \(length) but only \(end - position) bytes are left in the field")
        }
        return Header(tag: tagStart..<tagEnd, value: position..<position + length, constructed: first & 0x20 != 0)
    }

    /// Checks the objects between `start` and `end` (and inside constructed ones) without building
    /// them: the decoder's path, which allocates and retains nothing.
    func check(from start: Int, to end: Int, depth: Int) throws(ISO8583Error) {
        guard depth < BERTLVParser.maximumDepth else { throw fail(start, "constructed tags nested deeper than \(BERTLVParser.maximumDepth)") }
        var position = start
        while position < end {
            guard let header = try header(at: &position, end: end) else { continue }
            if header.constructed { try check(from: header.value.lowerBound, to: header.value.upperBound, depth: depth + 1) }
            position = header.value.upperBound
        }
    }

    /// The objects between `start` and `end`, with their children, checked as ``check(from:to:depth:)`` checks them.
    func parse(from start: Int, to end: Int, depth: Int) throws(ISO8583Error) -> [BERTLV] {
        guard depth < BERTLVParser.maximumDepth else { throw fail(start, "constructed tags nested deeper than \(BERTLVParser.maximumDepth)") }
        var objects: [BERTLV] = []
        var position = start
        while position < end {
            guard let header = try header(at: &position, end: end) else { continue }
            let children = header.constructed ? try parse(from: header.value.lowerBound, to: header.value.upperBound, depth: depth + 1) : []
            objects.append(BERTLV(tag: Charset.hex(bytes[header.tag]), value: Array(bytes[header.value]), children: children))
            position = header.value.upperBound
        }
        return objects
    }
}
