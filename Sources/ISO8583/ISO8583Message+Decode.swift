extension ISO8583Message {
    /// Decodes one frame (the message only, without any transport length header) in `dialect`.
    ///
    /// The message keeps `frame` and points into it: no value is copied. Every field is checked
    /// against its class, length and (for composites) subfield structure; any fault throws an error
    /// naming the field and the byte offset.
    ///
    /// The dialect is borrowed: taken as an owned argument, each call retained and released every array it holds.
    public init(decoding frame: [UInt8], dialect: borrowing Dialect) throws(ISO8583Error) {
        let (mti, presence, slots) = try frame.withUnsafeBufferPointer { buffer throws(ISO8583Error) in
            try MessageDecoder(buffer: buffer).decode(dialect)
        }
        self.init(mti: mti, storage: frame, slots: slots, presence: presence)
        frameMTI = mti
    }

    /// Decodes one frame held in a buffer that is only valid for the call (a transport's read buffer),
    /// copied once into the message with room for `spareCapacity` more bytes of values: an answer made
    /// from the request (``answerSkeleton()``, then `set`) adds its fields without another allocation.
    public init(decoding frame: UnsafeRawBufferPointer, dialect: Dialect, spareCapacity: Int = 0) throws(ISO8583Error) {
        let storage = [UInt8](unsafeUninitializedCapacity: frame.count + max(0, spareCapacity)) { output, count in
            if let source = frame.baseAddress, let target = output.baseAddress {
                UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: frame.count)
            }
            count = frame.count
        }
        try self.init(decoding: storage, dialect: dialect)
    }

    /// Decodes one frame from any byte collection (copied once into the message).
    public init(decoding frame: some Collection<UInt8>, dialect: Dialect) throws(ISO8583Error) {
        try self.init(decoding: Array(frame), dialect: dialect)
    }
}

/// Walks one frame: MTI, bitmaps, then each announced field.
struct MessageDecoder {
    let buffer: UnsafeBufferPointer<UInt8>
    /// Reading stops at the first field numbered this or higher (salvaging a malformed frame's head).
    var stopBefore = Int.max

    /// The dialect is borrowed for the call, not stored: a stored copy retains and releases each of its arrays.
    func decode(_ dialect: Dialect) throws(ISO8583Error) -> (MTI, FieldSet, [FieldSlot]) {
        // Slots hold offsets and lengths as 32-bit numbers: checked once here, not per field.
        guard buffer.count <= Int(UInt32.max) else {
            throw ISO8583Error(code: .lengthOverMaximum, field: nil, offset: 0,
                               reason: "a frame of \(buffer.count) bytes is over the \(UInt32.max) a message can hold")
        }
        var reader = FieldReader(buffer: buffer, start: 0, end: buffer.count)
        let mti = try reader.readMTI(dialect.mtiEncoding)
        var announced = FieldSet()
        announced.words.0 = try reader.readBitmap(dialect.bitmapEncoding, field: 1)
        if announced.words.0 & FieldSet.mask(1) != 0 {
            let offset = reader.position
            announced.words.1 = try reader.readBitmap(dialect.bitmapEncoding, field: 1)
            try MessageDecoder.requireNonEmpty(announced.words.1, "secondary", offset: offset)
        }
        let hasTertiary = dialect.tertiaryBitmap && announced.contains(65)
        // Bitmap bits are not data elements.
        var presence = announced
        presence.remove(1)
        if dialect.tertiaryBitmap { presence.remove(65) }

        // One allocation of the exact size. Not `init(unsafeUninitializedCapacity:)`: that calls the
        // stdlib's unspecialised code, which looks up the array's generic metadata on every call.
        var slots: [FieldSlot] = []
        slots.reserveCapacity(presence.count + (hasTertiary ? 64 : 0))
        try dialect.codecs.withUnsafeBufferPointer { codecs throws(ISO8583Error) in
            fields: for wordIndex in 0..<3 {
                if wordIndex == 1 && hasTertiary {
                    // The tertiary bitmap sits where field 65 would: after field 64, before field 66.
                    let offset = reader.position
                    presence.words.2 = try reader.readBitmap(dialect.bitmapEncoding, field: 65)
                    try MessageDecoder.requireNonEmpty(presence.words.2, "tertiary", offset: offset)
                }
                var word = presence.word(wordIndex)
                while word != 0 {
                    let bit = word.leadingZeroBitCount
                    word &= ~(UInt64(1) << UInt64(63 - bit))
                    let number = wordIndex * 64 + bit + 1
                    if number >= stopBefore {
                        presence.removeAll(from: number)
                        break fields
                    }
                    // Through a pointer: the compiler loads only the members each path uses.
                    let codec = codecs.baseAddress! + number
                    guard codec.pointee.defined else {
                        throw ISO8583Error(
                            code: .undefinedField, field: number, offset: reader.position,
                            reason: "the bitmap announces DE \(number), which dialect \(dialect.name) does not define")
                    }
                    slots.append(try reader.readField(codec, number: number, dialect: dialect))
                }
            }
        }
        if stopBefore == .max && reader.position != buffer.count {
            throw ISO8583Error(
                code: .trailingBytes, field: nil, offset: reader.position,
                reason: "\(buffer.count - reader.position) bytes follow the last field the bitmap announces")
        }
        return (mti, presence, slots)
    }
}

extension MessageDecoder {
    /// The message of the fields numbered below `field`, read as ``decode(_:)`` reads them.
    static func prefix(_ frame: [UInt8], dialect: Dialect, before field: Int) throws(ISO8583Error) -> ISO8583Message {
        let (mti, presence, slots) = try frame.withUnsafeBufferPointer { buffer throws(ISO8583Error) in
            var decoder = MessageDecoder(buffer: buffer)
            decoder.stopBefore = field
            return try decoder.decode(dialect)
        }
        return ISO8583Message(mti: mti, storage: frame, slots: slots, presence: presence)
    }

    /// An announced bitmap must announce something: the encoder never writes an empty one, so an
    /// empty one could not be written back byte for byte.
    static func requireNonEmpty(_ word: UInt64, _ name: String, offset: Int) throws(ISO8583Error) {
        if word == 0 {
            throw ISO8583Error(
                code: .invalidBitmap, field: name == "secondary" ? 1 : 65, offset: offset,
                reason: "the \(name) bitmap is announced but announces no field")
        }
    }
}

/// Reads length prefixes and values from a region of a buffer, checking each as it goes.
///
/// Used for whole messages and, over a field's logical bytes, for composite subfields.
struct FieldReader {
    let buffer: UnsafeBufferPointer<UInt8>
    var position: Int
    let end: Int
    /// The process's tables, read from the global once per reader rather than once per field.
    let tables = charTables

    init(buffer: UnsafeBufferPointer<UInt8>, start: Int, end: Int) {
        self.buffer = buffer
        self.position = start
        self.end = end
    }

    @inline(__always)
    func require(_ count: Int, field: Int, what: @autoclosure () -> String) throws(ISO8583Error) {
        if end - position < count {
            throw ISO8583Error(
                code: .truncated, field: field, offset: position,
                reason: "\(what()) needs \(count) bytes but the frame has \(end - position) left")
        }
    }

    mutating func readMTI(_ encoding: MTIEncoding) throws(ISO8583Error) -> MTI {
        try require(encoding.byteCount, field: 0, what: "the MTI")
        let p = position
        var digits: (UInt8, UInt8, UInt8, UInt8)
        switch encoding {
        case .ascii:
            digits = (buffer[p], buffer[p + 1], buffer[p + 2], buffer[p + 3])
        case .ebcdic:
            let table = Charset.ebcdic037ToLatin1
            digits = (
                table[Int(buffer[p])], table[Int(buffer[p + 1])], table[Int(buffer[p + 2])], table[Int(buffer[p + 3])]
            )
        case .bcd:
            let (a, b) = (buffer[p], buffer[p + 1])
            digits = (0x30 &+ a >> 4, 0x30 &+ a & 0x0F, 0x30 &+ b >> 4, 0x30 &+ b & 0x0F)
        }
        guard let mti = MTI(asciiDigits: digits.0, digits.1, digits.2, digits.3) else {
            throw ISO8583Error(
                code: .invalidMTI, field: 0, offset: p,
                reason: "MTI: expected 4 digits (\(encoding.rawValue)), found bytes \(Charset.hex(buffer[p..<p + encoding.byteCount]))")
        }
        position += encoding.byteCount
        return mti
    }

    mutating func readBitmap(_ encoding: BitmapEncoding, field: Int) throws(ISO8583Error) -> UInt64 {
        let name = field == 1 ? "bitmap" : "tertiary bitmap (DE 65)"
        try require(encoding.byteCount, field: field, what: "the \(name)")
        var value: UInt64 = 0
        switch encoding {
        case .binary:
            for index in 0..<8 { value = value << 8 | UInt64(buffer[position + index]) }
        case .hex, .ebcdicHex:
            for index in 0..<16 {
                let raw = buffer[position + index]
                let character = encoding == .ebcdicHex ? tables.ebcdic037ToASCII[Int(raw)] : raw
                let nibble = tables.hexValue[Int(character)]
                // Uppercase only: a lowercase bitmap could not be written back byte for byte.
                guard nibble != 0xFF, character < 0x61 else {
                    throw ISO8583Error(
                        code: .invalidHex, field: field, offset: position + index,
                        reason: "\(name): expected an uppercase hexadecimal digit, found \(Charset.describe(raw))")
                }
                value = value << 4 | UInt64(nibble)
            }
        }
        position += encoding.byteCount
        return value
    }

    /// Reads one field's prefix and value, checks them and returns where the value lies.
    @inline(__always)
    mutating func readField(_ codec: UnsafePointer<FieldCodec>, number: Int, dialect: Dialect) throws(ISO8583Error) -> FieldSlot {
        let units: Int
        if codec.pointee.prefixDigits == 0 {
            units = codec.pointee.maxLength
        } else {
            let prefixStart = position
            let value = try readPrefix(codec.pointee, number: number, dialect: dialect)
            guard let counted = codec.pointee.units(prefixValue: value) else {
                throw ISO8583Error(
                    code: .invalidLengthPrefix, field: number, offset: prefixStart,
                    reason: "\(label(number, dialect)): length \(value) counts an odd number of half-bytes")
            }
            guard counted <= codec.pointee.maxLength else {
                throw ISO8583Error(
                    code: .lengthOverMaximum, field: number, offset: prefixStart,
                    reason: "\(label(number, dialect)): length \(counted) is over the maximum \(codec.pointee.maxLength)")
            }
            units = counted
        }
        let byteCount = codec.pointee.form.byteCount(units: units)
        if end - position < byteCount {
            throw ISO8583Error(
                code: .truncated, field: number, offset: position,
                reason: "\(label(number, dialect)): the value needs \(byteCount) bytes but the frame has \(end - position) left")
        }
        // In range: the frame is at most UInt32.max bytes (checked in `decode`), the value lies in
        // it, its units are at most the field's maximum and its number at most 192.
        let slot = FieldSlot(
            offset: UInt32(truncatingIfNeeded: position), byteCount: UInt32(truncatingIfNeeded: byteCount),
            units: UInt32(truncatingIfNeeded: units), number: UInt16(truncatingIfNeeded: number), form: codec.pointee.form)
        if codec.pointee.isPlainText {
            if let bad = tables.firstOutsideClass(buffer.baseAddress! + position, units, codec.pointee.fieldClass, codec.pointee.allowedBits,
                                                  readableBytes: buffer.count - position) {
                throw badCharacter(codec.pointee, number: number, dialect, at: position + bad, expected: nil)
            }
        } else if !(codec.pointee.isBERTLV && codec.pointee.form == .hex) {
            try checkValue(codec, slot: slot, dialect: dialect)
        }
        if codec.pointee.isBERTLV {
            // EMV data, checked without looking up the field's spec: in place when binary; when hex,
            // validated while it is decoded onto the stack, in one pass.
            if codec.pointee.form == .hex {
                try checkHexBERTLV(codec, slot: slot, dialect: dialect)
            } else {
                let parser = BERTLVParser(bytes: UnsafeBufferPointer(rebasing: buffer[position..<position + byteCount]), base: position, field: number)
                try parser.check(from: 0, to: byteCount, depth: 0)
            }
        } else if codec.pointee.checksSubfields, let spec = dialect[field: number] {
            try SubfieldDecoder.check(spec, in: buffer, slot: slot)
        }
        position += byteCount
        return slot
    }

    /// Reads a length prefix and returns the number it carries.
    @inline(__always)
    mutating func readPrefix(_ codec: FieldCodec, number: Int, dialect: Dialect) throws(ISO8583Error) -> Int {
        let count = codec.prefixBytes
        if end - position < count {
            throw ISO8583Error(
                code: .truncated, field: number, offset: position,
                reason: "\(label(number, dialect)): the length prefix needs \(count) bytes but the frame has \(end - position) left")
        }
        var value = 0
        if codec.prefixEncoding == .ascii {
            for index in position..<position + count {
                let digit = buffer[index] &- 0x30
                guard digit <= 9 else { throw badPrefix(number, dialect, at: index, buffer[index]) }
                value = value * 10 + Int(digit)
            }
            position += count
            return value
        }
        for index in 0..<count {
            let byte = buffer[position + index]
            switch codec.prefixEncoding {
            case .ascii, .ebcdic:
                let digit = codec.prefixEncoding == .ascii ? byte &- 0x30 : byte &- 0xF0
                guard digit <= 9 else { throw badPrefix(number, dialect, at: position + index, byte) }
                value = value * 10 + Int(digit)
            case .bcd:
                let high = byte >> 4
                let low = byte & 0x0F
                // An odd digit count leaves a zero pad nibble in front.
                let padded = index == 0 && codec.prefixDigits & 1 == 1
                guard high <= 9, low <= 9, !padded || high == 0 else {
                    throw badPrefix(number, dialect, at: position + index, byte)
                }
                value = value * 100 + Int(high) * 10 + Int(low)
            case .binary:
                value = value << 8 | Int(byte)
            }
        }
        position += count
        return value
    }

    func badPrefix(_ number: Int, _ dialect: Dialect, at offset: Int, _ byte: UInt8) -> ISO8583Error {
        ISO8583Error(
            code: .invalidLengthPrefix, field: number, offset: offset,
            reason: "\(label(number, dialect)): the length prefix has \(Charset.describe(byte)), not a decimal digit")
    }

    /// Checks every byte of a value against its form and class.
    ///
    /// The codec is passed by address: by value, every call packed its members into registers.
    @inline(__always)
    func checkValue(_ codecAddress: UnsafePointer<FieldCodec>, slot: FieldSlot, dialect: Dialect) throws(ISO8583Error) {
        let codec = codecAddress.pointee
        let start = Int(slot.offset)
        let units = Int(slot.units)
        switch codec.form {
        case .binary:
            return
        case .text:
            guard codec.allowedBits != 0, units > 0 else { return }
            let base = buffer.baseAddress! + start
            var from = 0
            var checkedClass = codec.fieldClass
            if codec.fieldClass == .signedAmount {
                guard base[0] == UInt8(ascii: "C") || base[0] == UInt8(ascii: "D") else {
                    throw badCharacter(codec, number: Int(slot.number), dialect, at: start, expected: "C or D")
                }
                from = 1
                checkedClass = .numeric
            }
            if let bad = tables.firstOutsideClass(base + from, units - from, checkedClass, codec.allowedBits) {
                throw badCharacter(codec, number: Int(slot.number), dialect, at: start + from + bad, expected: nil)
            }
        case .ebcdic037, .ebcdic1047:
            guard codec.allowedBits != 0 else { return }
            let table = codec.form == .ebcdic037 ? tables.ebcdic037ToASCII : tables.ebcdic1047ToASCII
            for index in start..<start + units {
                let character = table[Int(buffer[index])]
                if index == start && codec.fieldClass == .signedAmount {
                    guard character == UInt8(ascii: "C") || character == UInt8(ascii: "D") else {
                        throw badCharacter(codec, number: Int(slot.number), dialect, at: start, expected: "C or D")
                    }
                } else if tables.classBits[Int(character)] & codec.allowedBits == 0 {
                    throw badCharacter(codec, number: Int(slot.number), dialect, at: index, expected: nil)
                }
            }
        case .bcdLeft, .bcdRight:
            let padFirst = codec.form == .bcdLeft && units & 1 == 1
            let padLast = codec.form == .bcdRight && units & 1 == 1
            let byteCount = (units + 1) >> 1
            let base = buffer.baseAddress! + start
            // Pad bytes exactly; the bytes between with a fast test, and the exact one only on failure.
            if padFirst { try checkBCDByte(codec, slot: slot, dialect: dialect, byte: 0) }
            if padLast { try checkBCDByte(codec, slot: slot, dialect: dialect, byte: byteCount - 1) }
            var index = padFirst ? 1 : 0
            let end = byteCount - (padLast ? 1 : 0)
            while index < end {
                if index + 8 <= end {
                    let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                    let nibbles: UInt64 = 0x0F0F_0F0F_0F0F_0F0F
                    let sum = ((word & nibbles) &+ 0x0606_0606_0606_0606) | (((word >> 4) & nibbles) &+ 0x0606_0606_0606_0606)
                    if sum & 0xF0F0_F0F0_F0F0_F0F0 == 0 {
                        index += 8
                        continue
                    }
                }
                let byte = base[index]
                if byte & 0xF0 > 0x90 || byte & 0x0F > 0x09 { try checkBCDByte(codec, slot: slot, dialect: dialect, byte: index) }
                index += 1
            }
        case .signedBCD:
            try checkSignedBCD(codec, slot: slot, dialect: dialect)
        case .hex:
            let hexValue = tables.hexValue
            for index in start..<start + 2 * units where hexValue[Int(buffer[index])] == 0xFF {
                throw ISO8583Error(
                    code: .invalidHex, field: Int(slot.number), offset: index,
                    reason: "\(label(Int(slot.number), dialect)): expected a hexadecimal digit, found \(codec.isSensitive ? "another character" : Charset.describe(buffer[index]))")
            }
        }
    }

    /// Decodes hexadecimal EMV data onto the stack, checking every digit on the way, then its BER-TLV.
    func checkHexBERTLV(_ codec: UnsafePointer<FieldCodec>, slot: FieldSlot, dialect: Dialect) throws(ISO8583Error) {
        let start = Int(slot.offset)
        let count = Int(slot.units)
        let result: Result<Void, ISO8583Error> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(count, 1)) { scratch in
            let hexValue = tables.hexValue
            let text = buffer.baseAddress! + start
            // Invalid digits map to 0xFF: OR-ing every nibble and testing once avoids a branch per byte.
            var invalid: UInt8 = 0
            for index in 0..<count {
                let high = hexValue[Int(text[2 * index])]
                let low = hexValue[Int(text[2 * index + 1])]
                invalid |= high | low
                scratch[index] = high << 4 | low
            }
            do throws(ISO8583Error) {
                if invalid & 0xF0 != 0 { try checkValue(codec, slot: slot, dialect: dialect) }  // locates the bad digit
                let parser = BERTLVParser(bytes: UnsafeBufferPointer(rebasing: scratch[0..<count]), base: start, field: Int(slot.number))
                try parser.check(from: 0, to: count, depth: 0)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Checks a signed BCD amount: the sign byte C or D, then digit nibbles, with the field's pad
    /// nibble first when the digit count is odd.
    @inline(never)
    func checkSignedBCD(_ codec: FieldCodec, slot: FieldSlot, dialect: Dialect) throws(ISO8583Error) {
        let start = Int(slot.offset)
        let units = Int(slot.units)
        guard units > 0 else { return }
        guard buffer[start] == UInt8(ascii: "C") || buffer[start] == UInt8(ascii: "D") else {
            throw badCharacter(codec, number: Int(slot.number), dialect, at: start, expected: "C or D")
        }
        let digits = units - 1
        let padFirst = digits & 1 == 1
        for nibbleIndex in 0..<digits + (digits & 1) {
            let offset = start + 1 + nibbleIndex >> 1
            let nibble = nibbleIndex & 1 == 0 ? buffer[offset] >> 4 : buffer[offset] & 0x0F
            let isPad = padFirst && nibbleIndex == 0
            guard isPad ? nibble == codec.padNibble : nibble <= 9 else {
                throw ISO8583Error(
                    code: .invalidBCD, field: Int(slot.number), offset: offset,
                    reason: "\(label(Int(slot.number), dialect)): \(isPad ? "pad " : "")nibble \(nibbleIndex) after the sign is 0x\(String(nibble, radix: 16, uppercase: true)), expected \(isPad ? "the pad \(String(codec.padNibble, radix: 16, uppercase: true))" : "a digit")")
            }
        }
    }

    /// Checks both nibbles of one BCD byte exactly: digits, the track separator D where the class
    /// allows it, and the field's pad nibble at the padded end.
    @inline(never)
    func checkBCDByte(_ codec: FieldCodec, slot: FieldSlot, dialect: Dialect, byte index: Int) throws(ISO8583Error) {
        let units = Int(slot.units)
        let nibbleCount = units + (units & 1)
        let padFirst = codec.form == .bcdLeft && units & 1 == 1
        let padLast = codec.form == .bcdRight && units & 1 == 1
        let separatorAllowed = codec.fieldClass == .track
        let byte = buffer[Int(slot.offset) + index]
        for nibbleIndex in [2 * index, 2 * index + 1] {
            let nibble = nibbleIndex & 1 == 0 ? byte >> 4 : byte & 0x0F
            let isPad = (padFirst && nibbleIndex == 0) || (padLast && nibbleIndex == nibbleCount - 1)
            // The pad is exactly the dialect's pad nibble, as pyiso8583 checks it: a host padding
            // with F where the specification says 0 needs its own dialect (pad-char: F).
            let valid = isPad ? nibble == codec.padNibble : (nibble <= 9 || (separatorAllowed && nibble == 0x0D))
            guard valid else {
                throw ISO8583Error(
                    code: .invalidBCD, field: Int(slot.number), offset: Int(slot.offset) + index,
                    reason: "\(label(Int(slot.number), dialect)): \(isPad ? "pad " : "")nibble \(nibbleIndex) is 0x\(String(nibble, radix: 16, uppercase: true)), expected \(isPad ? "the pad \(String(codec.padNibble, radix: 16, uppercase: true))" : separatorAllowed ? "a digit or D" : "a digit")")
            }
        }
    }

    func badCharacter(_ codec: FieldCodec, number: Int, _ dialect: Dialect, at offset: Int, expected: String?) -> ISO8583Error {
        // Never quote a sensitive field's byte: a digit of a PAN is still part of the PAN.
        let found = codec.isSensitive ? "a character outside the class" : Charset.describe(buffer[offset])
        return ISO8583Error(
            code: .invalidCharacter, field: number, offset: offset,
            reason: "\(label(number, dialect)): expected \(expected ?? codec.fieldClass.expectation), found \(found)")
    }

    func label(_ number: Int, _ dialect: Dialect) -> String {
        let name = dialect[field: number].map { " (\($0.name))" } ?? ""
        return "\(dialect.fieldLabelPrefix)\(number)\(name)"
    }
}
