extension ISO8583Message {
    /// Encodes the message in `dialect` and returns the frame (without any transport length header).
    ///
    /// Every value is checked against its field's class and length before anything is written;
    /// a fixed field shorter than its length is padded as its spec says, or refused.
    /// A message decoded in the same dialect encodes back to the same bytes.
    public func encoded(as dialect: Dialect) throws(ISO8583Error) -> [UInt8] {
        try withEncoder(dialect) { encoder throws(ISO8583Error) in
            let plan = try encoder.plan(mti: mti, presence: presence, dialect: dialect)
            return [UInt8](unsafeUninitializedCapacity: plan.byteCount) { output, count in
                encoder.write(plan, into: output.baseAddress!)
                count = plan.byteCount
            }
        }
    }

    /// Encodes the message in `dialect` into `output` and returns the number of bytes written: for a
    /// caller that reuses one buffer (a responder's answers), so encoding allocates nothing.
    ///
    /// - Throws: As ``encoded(as:)``, and when the message does not fit in `output` (nothing is written).
    public func encode(as dialect: Dialect, into output: UnsafeMutableRawBufferPointer) throws(ISO8583Error) -> Int {
        try withEncoder(dialect) { encoder throws(ISO8583Error) in
            let plan = try encoder.plan(mti: mti, presence: presence, dialect: dialect)
            guard plan.byteCount <= output.count, let base = output.baseAddress else {
                throw ISO8583Error(code: .lengthOverMaximum, field: nil, offset: nil,
                                   reason: "the encoded message takes \(plan.byteCount) bytes; the output buffer holds \(output.count)")
            }
            encoder.write(plan, into: base.assumingMemoryBound(to: UInt8.self))
            return plan.byteCount
        }
    }

    private func withEncoder<R>(_ dialect: Dialect, _ body: (MessageEncoder) throws(ISO8583Error) -> R) throws(ISO8583Error) -> R {
        try storage.withUnsafeBufferPointer { source throws(ISO8583Error) in
            try slots.withUnsafeBufferPointer { slots throws(ISO8583Error) in
                try dialect.codecs.withUnsafeBufferPointer { codecs throws(ISO8583Error) in
                    try body(MessageEncoder(source: source, slots: slots, codecs: codecs))
                }
            }
        }
    }
}

/// Writes one message: checks and sizes every field first, then writes into one exact buffer.
///
/// Holds only pointers, so copying it (into closures) costs nothing; the dialect is passed to the
/// checks, which need it for error text.
struct MessageEncoder {
    let source: UnsafeBufferPointer<UInt8>
    let slots: UnsafeBufferPointer<FieldSlot>
    let codecs: UnsafeBufferPointer<FieldCodec>

    /// What pass 1 found: the checked message's size, bitmaps and MTI, for pass 2 to write.
    struct Plan {
        let byteCount: Int
        let bitmaps: FieldSet
        let hasTertiary: Bool
        let mti: MTI
        let mtiEncoding: MTIEncoding
        let bitmapEncoding: BitmapEncoding
    }

    /// Pass 1: checks every field and adds up the bytes the message takes.
    func plan(mti: MTI, presence: FieldSet, dialect: Dialect) throws(ISO8583Error) -> Plan {
        var bitmaps = presence
        let hasTertiary = presence.words.2 != 0
        if hasTertiary {
            guard dialect.tertiaryBitmap else {
                let field = 129 + presence.words.2.leadingZeroBitCount
                throw ISO8583Error(
                    code: .undefinedField, field: field, offset: nil,
                    reason: "DE \(field): dialect \(dialect.name) has no tertiary bitmap, so fields above 128 cannot be sent")
            }
            bitmaps.insert(65)
        }
        if bitmaps.words.1 != 0 { bitmaps.insert(1) }
        let bitmapCount = 1 + (bitmaps.words.1 != 0 ? 1 : 0) + (hasTertiary ? 1 : 0)

        // Pass 1: check each field and add up the bytes it takes.
        var total = dialect.mtiEncoding.byteCount + bitmapCount * dialect.bitmapEncoding.byteCount
        for slot in slots {
            let number = Int(slot.number)
            let codec = codecs[number]
            guard codec.defined, !dialect.isBitmapField(number) else {
                throw ISO8583Error(
                    code: .undefinedField, field: number, offset: nil,
                    reason: "DE \(number): dialect \(dialect.name) does not define this field")
            }
            let units = try targetUnits(slot, codec, dialect)
            try checkClass(slot, codec, dialect)
            if codec.prefixDigits > 0 {
                let value = codec.prefixValue(units: Int(slot.units))
                guard value <= codec.largestPrefixValue else {
                    throw ISO8583Error(
                        code: .lengthOverMaximum, field: number, offset: nil,
                        reason: "\(label(slot, dialect)): length \(value) does not fit a \(codec.prefixDigits)-digit \(codec.prefixEncoding.rawValue) prefix")
                }
            }
            total += codec.prefixBytes + codec.form.byteCount(units: units)
        }

        return Plan(byteCount: total, bitmaps: bitmaps, hasTertiary: hasTertiary, mti: mti,
                    mtiEncoding: dialect.mtiEncoding, bitmapEncoding: dialect.bitmapEncoding)
    }

    /// Pass 2: writes `plan.byteCount` bytes at `output`; everything was checked, so nothing here can fail.
    func write(_ plan: Plan, into output: UnsafeMutablePointer<UInt8>) {
        let (bitmaps, hasTertiary, bitmapEncoding) = (plan.bitmaps, plan.hasTertiary, plan.bitmapEncoding)
        var writer = ByteWriter(base: output)
        writer.writeMTI(plan.mti, plan.mtiEncoding)
        writer.writeBitmap(bitmaps.words.0, bitmapEncoding)
        if bitmaps.contains(1) { writer.writeBitmap(bitmaps.words.1, bitmapEncoding) }
        for slot in slots {
            let number = Int(slot.number)
            if number > 65 && hasTertiary && !writer.wroteTertiary {
                writer.writeBitmap(bitmaps.words.2, bitmapEncoding)
                writer.wroteTertiary = true
            }
            writeField(slot, codecs[number], into: &writer)
        }
        if hasTertiary && !writer.wroteTertiary { writer.writeBitmap(bitmaps.words.2, bitmapEncoding) }
        assert(writer.index == plan.byteCount, "encoder sizing and writing disagree")
    }

    /// The logical length the field takes on the wire (after padding), or an error when it cannot fit.
    @inline(__always)
    func targetUnits(_ slot: FieldSlot, _ codec: FieldCodec, _ dialect: Dialect) throws(ISO8583Error) -> Int {
        let units = Int(slot.units)
        if codec.prefixDigits == 0 {
            if units == codec.maxLength { return units }
            if units < codec.maxLength && codec.padding != .none { return codec.maxLength }
            throw ISO8583Error(
                code: .wrongLength, field: Int(slot.number), offset: nil,
                reason: "\(label(slot, dialect)): length \(units), expected exactly \(codec.maxLength)")
        }
        guard units <= codec.maxLength else {
            throw ISO8583Error(
                code: .lengthOverMaximum, field: Int(slot.number), offset: nil,
                reason: "\(label(slot, dialect)): length \(units) is over the maximum \(codec.maxLength)")
        }
        return units
    }

    /// Checks the value's characters against the field's class (and BCD's digit alphabet).
    @inline(__always)
    func checkClass(_ slot: FieldSlot, _ codec: FieldCodec, _ dialect: Dialect) throws(ISO8583Error) {
        guard codec.allowedBits != 0, slot.units > 0 else { return }
        // The common case, checked in place: plain text stored as its characters.
        if codec.isPlainText && slot.form.isRaw {
            let base = source.baseAddress! + Int(slot.offset)
            guard let bad = charTables.firstOutsideClass(base, Int(slot.units), codec.fieldClass, codec.allowedBits) else { return }
            throw classFailure(slot, codec, dialect, at: bad)
        }
        try checkClassSlowly(slot, codec, dialect)
    }

    /// Signed amounts and values stored in another form than their characters.
    @inline(never)
    func checkClassSlowly(_ slot: FieldSlot, _ codec: FieldCodec, _ dialect: Dialect) throws(ISO8583Error) {
        let allowed = codec.allowedBits
        var failure: Int? = nil
        if slot.form.isRaw {
            // The stored bytes are the characters: check them in place.
            let base = source.baseAddress! + Int(slot.offset)
            let count = Int(slot.units)
            if codec.fieldClass == .signedAmount {
                if base[0] != UInt8(ascii: "C") && base[0] != UInt8(ascii: "D") {
                    failure = 0
                } else if let bad = charTables.firstOutsideClass(base + 1, count - 1, .numeric, allowed) {
                    failure = bad + 1
                }
            } else {
                failure = charTables.firstOutsideClass(base, count, codec.fieldClass, allowed)
            }
        } else {
            var position = 0
            let classBits = charTables.classBits
            ValueReader(buffer: source, slot: slot).forEach { byte in
                defer { position += 1 }
                guard failure == nil else { return }
                if codec.fieldClass == .signedAmount && position == 0 {
                    if byte != UInt8(ascii: "C") && byte != UInt8(ascii: "D") { failure = position }
                } else if classBits[Int(byte)] & allowed == 0 {
                    failure = position
                }
            }
        }
        guard let failure else { return }
        throw classFailure(slot, codec, dialect, at: failure)
    }

    /// The error for the character at `failure`; a sensitive field's character is not quoted.
    @inline(never)
    func classFailure(_ slot: FieldSlot, _ codec: FieldCodec, _ dialect: Dialect, at failure: Int) -> ISO8583Error {
        var found = "a character outside the class"
        if !codec.isSensitive {
            var index = 0
            ValueReader(buffer: source, slot: slot).forEach { byte in
                if index == failure { found = Charset.describe(byte) }
                index += 1
            }
        }
        return ISO8583Error(
            code: .invalidCharacter, field: Int(slot.number), offset: nil,
            reason: "\(label(slot, dialect)): character \(failure + 1): expected \(codec.fieldClass.expectation), found \(found)")
    }

    /// Writes the length prefix and the value in the field's form (checked in pass 1).
    @inline(__always)
    func writeField(_ slot: FieldSlot, _ codec: FieldCodec, into writer: inout ByteWriter) {
        let units = Int(slot.units)
        let totalUnits = codec.prefixDigits == 0 ? codec.maxLength : units
        if codec.prefixDigits > 0 {
            let fits = writer.writePrefix(codec.prefixValue(units: units), codec)
            assert(fits, "prefix checked in pass 1")
        }
        let padCount = totalUnits - units
        // Same form, nothing to pad: the stored bytes are already the wire bytes.
        if padCount == 0 && (slot.form == codec.form || (slot.form.isRaw && codec.form.isRaw)) {
            writer.copy(from: source.baseAddress! + Int(slot.offset), count: Int(slot.byteCount))
            return
        }
        if padCount == 0 && slot.form.isRaw && (codec.form == .bcdLeft || codec.form == .bcdRight) {
            writer.packDigits(source.baseAddress! + Int(slot.offset), units, rightPadded: codec.form == .bcdRight,
                              padNibble: codec.padNibble)
            return
        }
        var sink = FormWriter(form: codec.form, totalUnits: totalUnits, padNibble: codec.padNibble)
        if codec.fieldClass == .signedAmount && codec.padding == .left && padCount > 0 {
            // The sign stays first: the pad goes between it and the digits.
            var signWritten = false
            ValueReader(buffer: source, slot: slot).forEach { byte in
                sink.put(byte, &writer)
                if !signWritten {
                    signWritten = true
                    for _ in 0..<padCount { sink.put(codec.padCharacter, &writer) }
                }
            }
            sink.finish(&writer)
            return
        }
        if codec.padding == .left { for _ in 0..<padCount { sink.put(codec.padCharacter, &writer) } }
        ValueReader(buffer: source, slot: slot).forEach { sink.put($0, &writer) }
        if codec.padding != .left { for _ in 0..<padCount { sink.put(codec.padCharacter, &writer) } }
        sink.finish(&writer)
    }

    func label(_ slot: FieldSlot, _ dialect: Dialect) -> String {
        let number = Int(slot.number)
        return "DE \(number)" + (dialect[field: number].map { " (\($0.name))" } ?? "")
    }
}

extension ValueForm {
    /// Whether stored bytes are the logical bytes themselves.
    var isRaw: Bool { self == .text || self == .binary }
}

/// A cursor over the output buffer.
struct ByteWriter {
    let base: UnsafeMutablePointer<UInt8>
    var index = 0
    var wroteTertiary = false

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        base[index] = byte
        index += 1
    }

    @inline(__always)
    mutating func copy(from source: UnsafePointer<UInt8>, count: Int) {
        (base + index).update(from: source, count: count)
        index += count
    }

    mutating func writeMTI(_ mti: MTI, _ encoding: MTIEncoding) {
        let d = mti.asciiBytes
        switch encoding {
        case .ascii:
            put(d.0); put(d.1); put(d.2); put(d.3)
        case .ebcdic:
            put(d.0 | 0xC0); put(d.1 | 0xC0); put(d.2 | 0xC0); put(d.3 | 0xC0)
        case .bcd:
            put((d.0 & 0x0F) << 4 | d.1 & 0x0F)
            put((d.2 & 0x0F) << 4 | d.3 & 0x0F)
        }
    }

    mutating func writeBitmap(_ word: UInt64, _ encoding: BitmapEncoding) {
        switch encoding {
        case .binary:
            for shift in stride(from: 56, through: 0, by: -8) { put(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        case .hex, .ebcdicHex:
            for shift in stride(from: 60, through: 0, by: -4) {
                let digit = charTables.hexDigits[Int(word >> UInt64(shift) & 0x0F)]
                put(encoding == .hex ? digit : charTables.asciiToEBCDIC037[Int(digit)])
            }
        }
    }

    /// Writes a length prefix; false when the value does not fit it.
    @inline(__always)
    mutating func writePrefix(_ value: Int, _ codec: FieldCodec) -> Bool {
        let digits = codec.prefixDigits
        switch codec.prefixEncoding {
        case .ascii, .ebcdic:
            guard value < ByteWriter.powersOfTen[digits] else { return false }
            let zero: UInt8 = codec.prefixEncoding == .ascii ? 0x30 : 0xF0
            // Constant divisors: the compiler turns them into multiplications.
            if digits >= 4 { put(zero + UInt8(value / 1000 % 10)) }
            if digits >= 3 { put(zero + UInt8(value / 100 % 10)) }
            if digits >= 2 { put(zero + UInt8(value / 10 % 10)) }
            put(zero + UInt8(value % 10))
        case .bcd:
            guard value < ByteWriter.powersOfTen[digits] else { return false }
            var divisor = ByteWriter.powersOfTen[codec.prefixBytes * 2 - 2]
            while divisor > 0 {
                put(UInt8(value / (divisor * 10) % 10) << 4 | UInt8(value / divisor % 10))
                divisor /= 100
            }
        case .binary:
            if codec.prefixBytes == 1 {
                guard value <= 0xFF else { return false }
                put(UInt8(value))
            } else {
                guard value <= 0xFFFF else { return false }
                put(UInt8(value >> 8))
                put(UInt8(value & 0xFF))
            }
        }
        return true
    }

    static let powersOfTen = [1, 10, 100, 1000, 10000, 100_000]

    /// Packs checked ASCII digits (and `=` as D) two per byte, with one pad nibble for an odd count.
    @inline(__always)
    mutating func packDigits(_ digits: UnsafePointer<UInt8>, _ count: Int, rightPadded: Bool, padNibble: UInt8) {
        @inline(__always) func nibble(_ character: UInt8) -> UInt8 { character == UInt8(ascii: "=") ? 0x0D : character & 0x0F }
        var index = 0
        if count & 1 == 1 && !rightPadded {
            put(padNibble << 4 | nibble(digits[0]))
            index = 1
        }
        while index + 1 < count {
            put(nibble(digits[index]) << 4 | nibble(digits[index + 1]))
            index += 2
        }
        if index < count { put(nibble(digits[index]) << 4 | padNibble) }
    }
}

/// Turns logical bytes into one wire form, one at a time.
struct FormWriter {
    let form: ValueForm
    let padNibble: UInt8
    var pendingHigh: UInt8?
    /// Signed BCD: the sign byte is still to come; after it, an odd digit count starts with a 0 nibble.
    var awaitingSign: Bool
    let oddDigitsAfterSign: Bool

    init(form: ValueForm, totalUnits: Int, padNibble: UInt8) {
        self.form = form
        self.padNibble = padNibble
        // An odd digit count on a left-padded BCD value starts with the pad nibble.
        self.pendingHigh = form == .bcdLeft && totalUnits & 1 == 1 ? padNibble : nil
        self.awaitingSign = form == .signedBCD
        self.oddDigitsAfterSign = (totalUnits - 1) & 1 == 1
    }

    @inline(__always)
    mutating func put(_ byte: UInt8, _ writer: inout ByteWriter) {
        switch form {
        case .text, .binary:
            writer.put(byte)
        case .ebcdic037:
            writer.put(charTables.asciiToEBCDIC037[Int(byte)])
        case .ebcdic1047:
            writer.put(charTables.asciiToEBCDIC1047[Int(byte)])
        case .hex:
            writer.put(charTables.hexDigits[Int(byte >> 4)])
            writer.put(charTables.hexDigits[Int(byte & 0x0F)])
        case .signedBCD where awaitingSign:
            writer.put(byte)
            awaitingSign = false
            if oddDigitsAfterSign { pendingHigh = 0 }
        case .bcdLeft, .bcdRight, .signedBCD:
            // Checked digits, or the track separator, which BCD writes as D.
            let nibble = byte == UInt8(ascii: "=") || byte == UInt8(ascii: "D") ? 0x0D : byte & 0x0F
            if let high = pendingHigh {
                writer.put(high << 4 | nibble)
                pendingHigh = nil
            } else {
                pendingHigh = nibble
            }
        }
    }

    @inline(__always)
    mutating func finish(_ writer: inout ByteWriter) {
        if let high = pendingHigh { writer.put(high << 4 | padNibble) }
    }
}
