extension ISO8583Message {
    /// The frame this message was decoded from, with any ``overwriteDigits(_:with:)`` applied; nil
    /// once a field was set or removed or the MTI changed (then ``encoded(as:)`` writes it anew).
    ///
    /// A switch forwarding between two links of one dialect sends this: the bytes it received with
    /// only the fields it owns rewritten, no re-encode.
    public var receivedFrame: [UInt8]? {
        guard let frameMTI, frameMTI == mti else { return nil }
        return storage
    }

    /// Writes `value` over a present numeric field's digits in place, in the field's own form and
    /// width (leading zeros), moving no other byte.
    ///
    /// - Returns: false, changing nothing, when the field is absent, is not stored as digits
    ///   (ASCII, EBCDIC or BCD), or is too narrow for `value`.
    @discardableResult
    public mutating func overwriteDigits(_ field: Int, with value: UInt64) -> Bool {
        guard let index = slotIndex(field) else { return false }
        let slot = slots[index]
        let units = Int(slot.units)
        var limit: UInt64 = 1
        for _ in 0..<min(units, 19) { limit &*= 10 }
        guard units >= 19 || value < limit else { return false }
        let start = Int(slot.offset)
        switch slot.form {
        case .text, .ebcdic037, .ebcdic1047:
            guard Int(slot.byteCount) == units else { return false }
            let zone: UInt8 = slot.form == .text ? 0x30 : 0xF0
            var rest = value
            for position in stride(from: start + units - 1, through: start, by: -1) {
                storage[position] = zone | UInt8(rest % 10)
                rest /= 10
            }
        case .bcdLeft, .bcdRight:
            // Digits fill nibbles from the right; an odd count leaves the pad nibble where it was.
            let skip = slot.form == .bcdLeft ? units & 1 : 0
            var rest = value
            for nibbleIndex in stride(from: skip + units - 1, through: skip, by: -1) {
                let position = start + nibbleIndex >> 1
                let digit = UInt8(rest % 10)
                rest /= 10
                storage[position] = nibbleIndex & 1 == 0 ? storage[position] & 0x0F | digit << 4 : storage[position] & 0xF0 | digit
            }
        case .binary, .hex, .signedBCD:
            return false
        }
        return true
    }

    /// The message with its sensitive authentication data overwritten in place: every element the
    /// dialect marks as track data, PIN block or card verification value gets zeros in its own
    /// form (`0` characters, zero bytes or BCD digits), so no more than PCI DSS allows is kept once
    /// a transaction is authorized. Lengths and every other byte stay: the frame still decodes,
    /// and ``receivedFrame`` stays valid.
    public func withoutAuthenticationData(dialect: Dialect) -> ISO8583Message {
        var copy = self
        for slot in slots {
            switch dialect[field: Int(slot.number)]?.sensitivity {
            case .track?, .pin?, .cvv?: break
            default: continue
            }
            let filler: UInt8
            switch slot.form {
            case .text, .hex: filler = 0x30
            case .ebcdic037, .ebcdic1047: filler = 0xF0
            case .bcdLeft, .bcdRight, .binary, .signedBCD: filler = 0x00
            }
            let start = Int(slot.offset)
            copy.storage.replaceSubrange(start..<start + Int(slot.byteCount), with: repeatElement(filler, count: Int(slot.byteCount)))
        }
        return copy
    }

    /// Replaces a present binary field's bytes with as many others, in place, moving no other
    /// byte (a PIN block re-encrypted for the next hop keeps the received frame).
    ///
    /// - Returns: false, changing nothing, when the field is absent, is not stored as raw bytes,
    ///   or `bytes` has another length.
    @discardableResult
    public mutating func overwriteBytes(_ field: Int, with bytes: [UInt8]) -> Bool {
        guard let index = slotIndex(field) else { return false }
        let slot = slots[index]
        guard slot.form == .binary, Int(slot.byteCount) == bytes.count, Int(slot.units) == bytes.count else { return false }
        storage.replaceSubrange(Int(slot.offset)..<Int(slot.offset) + bytes.count, with: bytes)
        return true
    }

    /// The fields of a frame that decode, up to the first that does not: enough to answer a
    /// malformed request with a format error when its MTI and STAN can be read.
    ///
    /// - Returns: The message of the readable fields (no ``receivedFrame``), and the error that
    ///   stopped decoding (nil when the whole frame decodes); nil when not even the MTI and bitmap read.
    public static func readableHead(of frame: [UInt8], dialect: Dialect) -> (message: ISO8583Message, error: ISO8583Error?)? {
        do {
            return (try ISO8583Message(decoding: frame, dialect: dialect), nil)
        } catch {
            guard let field = error.field, field >= 2 else { return nil }
            // Decode again, stopping before the failing field: every field before it reads as it did.
            guard let head = try? MessageDecoder.prefix(frame, dialect: dialect, before: field) else { return nil }
            return (head, error)
        }
    }
}
