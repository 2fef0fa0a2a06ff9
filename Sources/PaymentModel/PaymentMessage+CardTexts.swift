extension PaymentMessage {
    /// The short texts of a card message, each held in a ``CardTexts`` slot.
    @usableFromInline
    package enum TextField: Int, Sendable, CaseIterable {
        case stan, rrn, transmissionDateTime, localDateTime, acquirer, forwarder, terminal
        case posEntryMode, posConditionCode, approvalCode
        case merchantID, merchantCategoryCode, merchantName, merchantCity, merchantCountry, merchantLocation
        case originalMTI, originalSTAN, originalTransmissionDateTime, originalAcquirer, originalForwarder

        /// Whether the text is one of the merchant's values.
        @inlinable var isMerchantValue: Bool { (TextField.merchantID.rawValue...TextField.merchantLocation.rawValue).contains(rawValue) }
    }

    /// Calls `body` with a short text's UTF-8, or nil when it has none, without building a
    /// string: for writing it on the wire. Not generic, so that a call from another module needs
    /// no generic metadata.
    package func withText(_ field: TextField, _ body: (UnsafeBufferPointer<UInt8>?) -> Void) {
        texts.withUTF8(field, body)
    }

    /// Copies the first bytes of a short text into `buffer` (as many as fit), without a closure or
    /// a string; returns the text's whole length in bytes and whether it is all ASCII, or nil when
    /// it has none.
    package func copyText(_ field: TextField, into buffer: UnsafeMutableBufferPointer<UInt8>) -> (count: Int, isASCII: Bool)? {
        var result: (count: Int, isASCII: Bool)? = nil
        texts.withUTF8(field) { bytes in
            guard let bytes else { return }
            let copied = min(bytes.count, buffer.count)
            if copied > 0 { buffer.baseAddress!.update(from: bytes.baseAddress!, count: copied) }
            result = (bytes.count, PaymentModel.isASCII(bytes))
        }
        return result
    }

    /// Whether a short text is set, without building it.
    package func hasText(_ field: TextField) -> Bool {
        var present = false
        texts.withUTF8(field) { present = $0 != nil }
        return present
    }

    /// Sets a short text from UTF-8 bytes, without building a string when it fits inline. Bytes
    /// that are not valid UTF-8 are kept as they are and repaired when read as a string. A
    /// merchant's value makes the merchant present.
    ///
    /// - Parameter readableBytes: how many bytes may be read from the start of `bytes` (at least
    ///   its count): when 24 or more, as in a frame with more after the value, the slot is filled
    ///   with three loads and masks rather than loads sized to the value.
    ///
    /// Inlinable: the decoder sets a dozen texts per message, and a call cost as much as the copy.
    @inlinable @inline(__always)
    package mutating func setText(_ field: TextField, utf8 bytes: UnsafeBufferPointer<UInt8>, readableBytes: Int = 0) {
        texts.set(field, utf8: bytes, readableBytes: readableBytes)
        if field.isMerchantValue { hasMerchant = true }
    }
}

/// The short texts of a card message (STAN, RRN, dates, codes, the merchant's and the original's
/// values), inline: no allocation and no reference counting, so a message is created, copied and
/// destroyed without touching them one by one.
///
/// Each slot holds up to 23 bytes of UTF-8. A longer text goes into one box shared by all the
/// slots (copy on write), which a card message from the wire almost never needs. A given text
/// always takes the same form, so `==` and `hash` compare like for like.
@usableFromInline
struct CardTexts: Sendable, Hashable {
    // Computed, not stored: inlined code would reach a stored static through its lazy initialiser.
    @inlinable static var inlineCapacity: Int { 23 }
    /// State byte: 0 none, 1 + length inline, ``longState`` in the box.
    @inlinable static var longState: UInt8 { 0xFF }

    @usableFromInline typealias Slot = (UInt64, UInt64, UInt64)
    /// One slot per ``PaymentMessage/TextField``, all zero (none) at first.
    @usableFromInline var slots: (Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot,
                        Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot, Slot) = (
        (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0),
        (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0))

    /// The texts longer than a slot, by field.
    final class LongTexts: @unchecked Sendable {
        // Changed only through `setLong`, which first makes the box unique to its message.
        var values: [Int: String]

        init(_ values: [Int: String]) { self.values = values }
    }

    private var long: LongTexts?

    init() {}

    subscript(field: PaymentMessage.TextField) -> String? {
        get {
            var text: String?
            withUTF8(field) { bytes in
                guard let bytes else { return }
                text = String(unsafeUninitializedCapacity: bytes.count) { $0.initialize(fromContentsOf: bytes) }
            }
            return text
        }
        set {
            guard var newValue else {
                clear(field)
                return
            }
            newValue.withUTF8 { set(field, utf8: $0) }
        }
    }

    /// Calls `body` with the field's UTF-8, or nil when it has none.
    @inline(__always)
    func withUTF8(_ field: PaymentMessage.TextField, _ body: (UnsafeBufferPointer<UInt8>?) -> Void) {
        // One slot copied out (24 bytes), not the whole table: `withUnsafeBytes(of: slots)` would copy it all.
        let slot = self.slot(field)
        withUnsafeBytes(of: slot) { raw in
            let state = raw[CardTexts.inlineCapacity]
            switch state {
            case 0:
                body(nil)
            case CardTexts.longState:
                guard var text = long?.values[field.rawValue] else { return body(nil) }
                text.withUTF8 { body($0) }
            default:
                body(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: Int(state) - 1))
            }
        }
    }

    /// The slot of a field, read by position.
    @inline(__always)
    private func slot(_ field: PaymentMessage.TextField) -> Slot {
        switch field.rawValue {
        case 0: slots.0
        case 1: slots.1
        case 2: slots.2
        case 3: slots.3
        case 4: slots.4
        case 5: slots.5
        case 6: slots.6
        case 7: slots.7
        case 8: slots.8
        case 9: slots.9
        case 10: slots.10
        case 11: slots.11
        case 12: slots.12
        case 13: slots.13
        case 14: slots.14
        case 15: slots.15
        case 16: slots.16
        case 17: slots.17
        case 18: slots.18
        case 19: slots.19
        case 20: slots.20
        default: preconditionFailure("a text field has a slot")
        }
    }

    @inlinable @inline(__always)
    mutating func set(_ field: PaymentMessage.TextField, utf8 bytes: UnsafeBufferPointer<UInt8>, readableBytes: Int = 0) {
        guard bytes.count <= CardTexts.inlineCapacity else {
            setLong(field, String(unsafeUninitializedCapacity: bytes.count) { $0.initialize(fromContentsOf: bytes) })
            return
        }
        if mutableState(field) == CardTexts.longState { removeLong(field) }
        // Composed in registers (bytes written to a stack buffer and read back as words stall on
        // store forwarding) and stored in place (a jump table per field mispredicts).
        let count = bytes.count
        let state = UInt64(count + 1) << 56
        if readableBytes >= MemoryLayout<Slot>.size, let source = UnsafeRawPointer(bytes.baseAddress) {
            func word(_ index: Int) -> UInt64 {
                let loaded = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))
                let kept = count - 8 * index
                return kept >= 8 ? loaded : kept <= 0 ? 0 : loaded & (1 &<< UInt64(8 * kept) &- 1)
            }
            store(field, word(0), word(1), word(2) | state)
            return
        }
        let source = UnsafeRawPointer(bytes.baseAddress)
        store(field, littleEndianWord(source, 0, min(count, 8)), littleEndianWord(source, 8, min(max(count - 8, 0), 8)),
              littleEndianWord(source, 16, max(count - 16, 0)) | state)
    }

    /// A slot's state byte, read in place (a mutating access addresses the table without a copy).
    @inlinable @inline(__always)
    mutating func mutableState(_ field: PaymentMessage.TextField) -> UInt8 {
        let offset = field.rawValue * MemoryLayout<Slot>.stride + CardTexts.inlineCapacity
        return withUnsafeMutableBytes(of: &slots) { $0[offset] }
    }

    /// Stores a slot's three words, given as little-endian numbers (the state byte is the top one).
    @inlinable @inline(__always)
    mutating func store(_ field: PaymentMessage.TextField, _ first: UInt64, _ second: UInt64, _ third: UInt64) {
        let offset = field.rawValue * MemoryLayout<Slot>.stride
        withUnsafeMutableBytes(of: &slots) { raw in
            raw.storeBytes(of: first.littleEndian, toByteOffset: offset, as: UInt64.self)
            raw.storeBytes(of: second.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
            raw.storeBytes(of: third.littleEndian, toByteOffset: offset + 16, as: UInt64.self)
        }
    }

    private mutating func clear(_ field: PaymentMessage.TextField) {
        if mutableState(field) == CardTexts.longState { removeLong(field) }
        store(field, 0, 0, 0)
    }

    @usableFromInline
    mutating func setLong(_ field: PaymentMessage.TextField, _ text: String) {
        clear(field)
        if !isKnownUniquelyReferenced(&long) { long = LongTexts(long?.values ?? [:]) }
        long!.values[field.rawValue] = text
        store(field, 0, 0, UInt64(CardTexts.longState) << 56)
    }

    /// Drops a long text; the box goes when it is empty, so an emptied box equals none.
    @usableFromInline
    mutating func removeLong(_ field: PaymentMessage.TextField) {
        if !isKnownUniquelyReferenced(&long) { long = LongTexts(long?.values ?? [:]) }
        long!.values[field.rawValue] = nil
        if long!.values.isEmpty { long = nil }
    }

    @usableFromInline
    static func == (lhs: CardTexts, rhs: CardTexts) -> Bool {
        for field in PaymentMessage.TextField.allCases {
            let (left, right) = (lhs.slot(field), rhs.slot(field))
            guard left.0 == right.0, left.1 == right.1, left.2 == right.2 else { return false }
        }
        return lhs.long === rhs.long || (lhs.long?.values ?? [:]) == (rhs.long?.values ?? [:])
    }

    @usableFromInline
    func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: slots) { hasher.combine(bytes: $0) }
        if let long { hasher.combine(long.values) }
    }
}
