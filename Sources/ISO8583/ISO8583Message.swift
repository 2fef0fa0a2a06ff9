/// An ISO 8583 message: an MTI and data elements 2–192.
///
/// A decoded message keeps its frame and records, per field, where the value lies in it: no field is
/// copied and decoding allocates nothing per field. A message built by hand appends each value to one
/// contiguous buffer in the same way. Typed accessors read values on demand.
///
/// ```swift
/// var message = ISO8583Message(mti: MTI("0200")!)
/// message[2] = pan
/// message.set(52, bytes: pinBlock)
/// let frame = try message.encoded(as: .shipped("iso87binary"))
/// ```
public struct ISO8583Message: Sendable {
    /// The message type indicator.
    public var mti: MTI

    /// The frame (decoded) or the appended values (built), which slots point into.
    var storage: [UInt8]
    /// Present fields in ascending number order.
    var slots: [FieldSlot]
    /// Which data elements are present.
    var presence: FieldSet
    /// The MTI the frame in `storage` was decoded with, while `storage` is still that frame (only
    /// overwritten in place); nil once a field is set or removed, or for a message built by hand.
    var frameMTI: MTI?

    /// Creates an empty message to fill with values.
    public init(mti: MTI) {
        self.mti = mti
        self.storage = []
        self.slots = []
        self.presence = FieldSet()
    }

    init(mti: MTI, storage: [UInt8], slots: [FieldSlot], presence: FieldSet) {
        self.mti = mti
        self.storage = storage
        self.slots = slots
        self.presence = presence
    }

    /// Whether data element `field` is present.
    public func contains(_ field: Int) -> Bool { presence.contains(field) }

    /// The numbers of the present data elements, ascending.
    public var fieldNumbers: [Int] { slots.map { Int($0.number) } }

    /// The number of present data elements.
    public var fieldCount: Int { slots.count }

    /// The slot index of `field`, or nil when it is absent.
    @inline(__always)
    func slotIndex(_ field: Int) -> Int? {
        guard presence.contains(field) else { return nil }
        return presence.rank(of: field)
    }

    /// The value of `field` as text: the characters for text and numeric fields, uppercase hexadecimal
    /// for binary fields. Unmasked: use ``maskedString(_:dialect:)`` for anything printed.
    public subscript(field: Int) -> String? {
        get { string(field) }
        set {
            if let newValue { set(field, newValue) } else { remove(field) }
        }
    }

    /// The value of `field` as text: characters, or uppercase hexadecimal for binary values.
    public func string(_ field: Int) -> String? {
        guard let index = slotIndex(field) else { return nil }
        return withText(slots[index], ISO8583Mapping.string)
    }

    /// The logical bytes of `field`: the characters for text and numeric fields, the raw bytes for binary.
    public func bytes(_ field: Int) -> [UInt8]? {
        guard let index = slotIndex(field) else { return nil }
        return logicalBytes(slots[index])
    }

    /// The bytes of `field` exactly as they appear on the wire (without the length prefix).
    public func wireBytes(_ field: Int) -> ArraySlice<UInt8>? {
        guard let index = slotIndex(field) else { return nil }
        let slot = slots[index]
        return storage[Int(slot.offset)..<Int(slot.offset + slot.byteCount)]
    }

    /// The length of `field` in logical units: characters, digits or bytes.
    public func length(_ field: Int) -> Int? {
        guard let index = slotIndex(field) else { return nil }
        return Int(slots[index].units)
    }

    /// The value of a numeric field as an integer, without building a string; nil when absent, not
    /// all digits, or over 18 digits.
    public func integer(_ field: Int) -> Int64? {
        guard let index = slotIndex(field) else { return nil }
        let slot = slots[index]
        guard slot.units <= 18 else { return nil }
        var value: Int64 = 0
        var valid = true
        forEachLogicalByte(slot) { byte in
            guard byte >= 0x30 && byte <= 0x39 else {
                valid = false
                return
            }
            value = value * 10 + Int64(byte - 0x30)
        }
        return valid ? value : nil
    }

    /// Sets `field` to a text value (characters for text and numeric fields).
    public mutating func set(_ field: Int, _ text: String) {
        var text = text
        text.withUTF8 { append(field, UnsafeRawBufferPointer($0), form: .text) }
    }

    /// Sets `field` to a text value given as UTF-8 bytes.
    mutating func set(_ field: Int, utf8: UnsafeBufferPointer<UInt8>) {
        append(field, UnsafeRawBufferPointer(utf8), form: .text)
    }

    /// Sets `field` to raw bytes (binary fields) or character bytes (text fields).
    public mutating func set(_ field: Int, bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable {
            append(field, UnsafeRawBufferPointer($0), form: .binary)
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { append(field, $0, form: .binary) }
        }
    }

    /// Removes `field` if present.
    public mutating func remove(_ field: Int) {
        guard let index = slotIndex(field) else { return }
        frameMTI = nil
        slots.remove(at: index)
        presence.remove(field)
    }

    /// Appends a value to the storage and records its slot, replacing an earlier value.
    private mutating func append(_ field: Int, _ value: UnsafeRawBufferPointer, form: ValueForm) {
        precondition((2...Dialect.fieldLimit).contains(field), "ISO 8583 data elements are numbered 2-192")
        frameMTI = nil
        let slot = FieldSlot(
            offset: UInt32(storage.count), byteCount: UInt32(value.count), units: UInt32(value.count),
            number: UInt16(field), form: form)
        // Through a typed buffer: the raw buffer took the generic, element-by-element path.
        storage.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
        if let index = slotIndex(field) {
            slots[index] = slot
        } else {
            presence.insert(field)
            let index = presence.rank(of: field)
            // Fields set in ascending order (as a mapping sets them) go at the end.
            if index == slots.count { slots.append(slot) } else { slots.insert(slot, at: index) }
        }
    }

    /// Reserves room for `bytes` of values in `fields` fields, for a message about to be filled.
    mutating func reserveCapacity(bytes: Int, fields: Int) {
        storage.reserveCapacity(storage.count + bytes)
        slots.reserveCapacity(slots.count + fields)
    }

    /// The logical bytes of a slot, as a new array.
    func logicalBytes(_ slot: FieldSlot) -> [UInt8] {
        withLogicalBytes(slot) { Array($0) }
    }

    /// Calls `body` with the logical bytes of a slot: in place in the storage when they are stored
    /// as they are (ASCII text, raw bytes), else decoded into a temporary buffer on the stack.
    @inline(__always)
    func withLogicalBytes<R, E: Error>(_ slot: FieldSlot, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try storage.withUnsafeBufferPointer { buffer throws(E) in
            let reader = ValueReader(buffer: buffer, slot: slot)
            return try ISO8583Message.withScratch(count: reader.scratchCount(text: false)) { scratch throws(E) in
                try body(reader.logicalBytes(into: scratch))
            }
        }
    }

    /// Calls `body` with the UTF-8 text ``string(_:)`` gives for a slot: the characters, or
    /// uppercase hexadecimal for binary values, without building an array or a string.
    @inline(__always)
    func withText<R, E: Error>(_ slot: FieldSlot, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try storage.withUnsafeBufferPointer { buffer throws(E) in
            let reader = ValueReader(buffer: buffer, slot: slot)
            return try ISO8583Message.withScratch(count: reader.scratchCount(text: true)) { scratch throws(E) in
                try body(reader.text(into: scratch))
            }
        }
    }

    /// A temporary buffer of `count` bytes, with typed throws: on the stack up to
    /// ``stackScratchCount`` bytes, else on the heap. A constant size is part of the caller's frame;
    /// a variable one moved the stack pointer on every call.
    @inline(__always)
    static func withScratch<R, E: Error>(count: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let heap: UnsafeMutableBufferPointer<UInt8>? = count > stackScratchCount ? .allocate(capacity: count) : nil
        defer { heap?.deallocate() }
        let result: Result<R, E> = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackScratchCount) { stack in
            do throws(E) {
                return .success(try body(heap ?? stack))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static let stackScratchCount = 256

    /// Calls `body` with each logical byte of a slot: characters (EBCDIC translated, BCD digits as
    /// ASCII with the `D` separator as `=`), or raw bytes (hexadecimal decoded).
    @inline(__always)
    func forEachLogicalByte(_ slot: FieldSlot, _ body: (UInt8) -> Void) {
        storage.withUnsafeBufferPointer { buffer in
            ValueReader(buffer: buffer, slot: slot).forEach(body)
        }
    }
}

/// Where one field's value lies in a message's storage, and in which form.
struct FieldSlot: Sendable {
    /// Offset of the value (after any length prefix) in the storage.
    var offset: UInt32
    /// Bytes the value takes in the storage.
    var byteCount: UInt32
    /// The value's length in logical units: characters, digits or bytes.
    var units: UInt32
    /// The data element number.
    var number: UInt16
    /// How the stored bytes encode the value.
    var form: ValueForm
}

/// Reads the logical bytes of one stored value, whatever its form.
struct ValueReader {
    let buffer: UnsafeBufferPointer<UInt8>
    let slot: FieldSlot

    @inline(__always)
    func forEach(_ body: (UInt8) -> Void) {
        let start = Int(slot.offset)
        let units = Int(slot.units)
        let tables = charTables
        switch slot.form {
        case .text, .binary:
            for index in start..<start + units { body(buffer[index]) }
        case .ebcdic037, .ebcdic1047:
            let table = slot.form == .ebcdic037 ? tables.ebcdic037ToASCII : tables.ebcdic1047ToASCII
            for index in start..<start + units { body(table[Int(buffer[index])]) }
        case .bcdLeft, .bcdRight:
            // With an odd digit count the pad nibble is the first (left) or the last (right) one.
            let skip = slot.form == .bcdLeft ? units & 1 : 0
            for nibbleIndex in skip..<skip + units {
                let byte = buffer[start + nibbleIndex >> 1]
                body(ValueReader.character(ofNibble: nibbleIndex & 1 == 0 ? byte >> 4 : byte & 0x0F))
            }
        case .hex:
            for index in 0..<units {
                let high = tables.hexValue[Int(buffer[start + 2 * index])]
                let low = tables.hexValue[Int(buffer[start + 2 * index + 1])]
                body(high << 4 | low)
            }
        case .signedBCD:
            guard units > 0 else { return }
            body(buffer[start])
            // The digits after the sign byte; an odd count has its pad nibble first.
            let digits = units - 1
            let skip = digits & 1
            for nibbleIndex in skip..<skip + digits {
                let byte = buffer[start + 1 + nibbleIndex >> 1]
                body(tables.hexDigits[Int(nibbleIndex & 1 == 0 ? byte >> 4 : byte & 0x0F)])
            }
        }
    }
}

extension ValueReader {
    /// The bytes of scratch space ``text(into:)`` (or, when `text` is false, ``logicalBytes(into:)``) needs.
    @inline(__always)
    func scratchCount(text: Bool) -> Int {
        switch slot.form {
        case .text: 0
        case .binary: text ? 2 * Int(slot.units) : 0
        case .hex: (text ? 2 : 1) * Int(slot.units)
        case .bcdLeft, .bcdRight: 2 * Int(slot.byteCount)
        case .ebcdic037, .ebcdic1047, .signedBCD: Int(slot.units)
        }
    }

    /// The value's bytes as stored, which are its logical bytes for the text and binary forms.
    @inline(__always)
    var storedBytes: UnsafeBufferPointer<UInt8> {
        let start = Int(slot.offset)
        return UnsafeBufferPointer(rebasing: buffer[start..<start + Int(slot.byteCount)])
    }

    /// The value's logical bytes: in place for text and raw bytes, else decoded into `scratch`
    /// (``scratchCount(text:)`` bytes).
    @inline(__always)
    func logicalBytes(into scratch: UnsafeMutableBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        switch slot.form {
        case .text, .binary:
            return storedBytes
        case .bcdLeft, .bcdRight:
            let skip = unpackBCD(into: scratch)
            return UnsafeBufferPointer(rebasing: scratch[skip..<skip + Int(slot.units)])
        case .ebcdic037, .ebcdic1047, .hex, .signedBCD:
            var count = 0
            forEach { byte in
                scratch[count] = byte
                count += 1
            }
            return UnsafeBufferPointer(rebasing: scratch[0..<count])
        }
    }

    /// The value as the text ``ISO8583Message/string(_:)`` gives: its characters, or uppercase
    /// hexadecimal for binary values; in place for text, else written into `scratch`.
    @inline(__always)
    func text(into scratch: UnsafeMutableBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard slot.form == .binary || slot.form == .hex else { return logicalBytes(into: scratch) }
        let hexDigits = charTables.hexDigits
        var count = 0
        forEach { byte in
            scratch[count] = hexDigits[Int(byte >> 4)]
            scratch[count + 1] = hexDigits[Int(byte & 0x0F)]
            count += 2
        }
        return UnsafeBufferPointer(rebasing: scratch[0..<count])
    }
}

extension ValueReader {
    /// Writes every nibble of a BCD slot's bytes as a character (a digit, `=` for the track
    /// separator D, otherwise the hexadecimal digit) into `output`, which has room for 2 ×
    /// `byteCount` bytes; returns how many leading characters are the pad (0 or 1).
    ///
    /// Four bytes at a time: each byte spread into a 16-bit lane, its nibbles swapped into reading
    /// order and made ASCII in one add, where the byte at a time took some ten instructions a digit.
    @inline(__always)
    func unpackBCD(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let start = Int(slot.offset)
        let byteCount = Int(slot.byteCount)
        let source = buffer.baseAddress! + start
        let target = UnsafeMutableRawPointer(output.baseAddress!)
        let lowNibbles: UInt64 = 0x000F_000F_000F_000F
        var index = 0
        while index + 4 <= byteCount {
            var lanes = UInt64(UInt32(littleEndian: UnsafeRawPointer(source + index).loadUnaligned(as: UInt32.self)))
            lanes = (lanes | lanes << 16) & 0x0000_FFFF_0000_FFFF
            lanes = (lanes | lanes << 8) & 0x00FF_00FF_00FF_00FF
            // Little-endian: the high nibble, read first, goes in each lane's low byte.
            let nibbles = (lanes >> 4) & lowNibbles | (lanes & lowNibbles) << 8
            if (nibbles &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0 {
                target.storeBytes(of: (nibbles | 0x3030_3030_3030_3030).littleEndian, toByteOffset: 2 * index, as: UInt64.self)
            } else {
                for offset in 0..<4 { writeBCDByte(source[index + offset], to: target, at: 2 * (index + offset)) }
            }
            index += 4
        }
        while index < byteCount {
            writeBCDByte(source[index], to: target, at: 2 * index)
            index += 1
        }
        return slot.form == .bcdLeft ? Int(slot.units) & 1 : 0
    }

    @inline(__always)
    private func writeBCDByte(_ byte: UInt8, to target: UnsafeMutableRawPointer, at offset: Int) {
        target.storeBytes(of: ValueReader.character(ofNibble: byte >> 4), toByteOffset: offset, as: UInt8.self)
        target.storeBytes(of: ValueReader.character(ofNibble: byte & 0x0F), toByteOffset: offset + 1, as: UInt8.self)
    }

    /// A BCD nibble's character: the digit, `=` for the track separator D, else its hexadecimal digit.
    @inline(__always)
    static func character(ofNibble nibble: UInt8) -> UInt8 {
        nibble <= 9 ? 0x30 | nibble : nibble == 0x0D ? UInt8(ascii: "=") : nibble &+ 0x37
    }
}

/// A set of data element numbers 1–192, held as three 64-bit bitmaps (bit 1 is the most significant).
struct FieldSet: Sendable, Hashable {
    var words: (UInt64, UInt64, UInt64) = (0, 0, 0)

    static func == (lhs: FieldSet, rhs: FieldSet) -> Bool { lhs.words == rhs.words }
    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
    }

    @inline(__always)
    func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: return words.0
        case 1: return words.1
        default: return words.2
        }
    }

    @inline(__always)
    mutating func setWord(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: words.0 = value
        case 1: words.1 = value
        default: words.2 = value
        }
    }

    @inline(__always)
    static func mask(_ field: Int) -> UInt64 { 1 << UInt64(63 - (field - 1) & 63) }

    @inline(__always)
    func contains(_ field: Int) -> Bool {
        guard field >= 1 && field <= 192 else { return false }
        return word((field - 1) >> 6) & FieldSet.mask(field) != 0
    }

    mutating func insert(_ field: Int) {
        let index = (field - 1) >> 6
        setWord(index, word(index) | FieldSet.mask(field))
    }

    mutating func remove(_ field: Int) {
        let index = (field - 1) >> 6
        setWord(index, word(index) & ~FieldSet.mask(field))
    }

    /// Removes `field` and every member above it.
    mutating func removeAll(from field: Int) {
        for number in field...192 where contains(number) { remove(number) }
    }

    /// How many members are below `field`.
    @inline(__always)
    func rank(of field: Int) -> Int {
        let index = (field - 1) >> 6
        let bit = (field - 1) & 63
        var count = bit == 0 ? 0 : (word(index) >> UInt64(64 - bit)).nonzeroBitCount
        if index > 0 { count += words.0.nonzeroBitCount }
        if index > 1 { count += words.1.nonzeroBitCount }
        return count
    }

    /// The number of members.
    var count: Int { words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount }
}
