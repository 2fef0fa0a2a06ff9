public import PaymentModel

/// The stable identity of a transaction, hashed: what a weighted split is seeded with, so that a
/// repeat, a reversal and a status request land on the channel the original went to.
///
/// - Card messages: PAN, acquirer and STAN. A reversal or advice carries the original's STAN and
///   acquirer in its original data (DE 90 / DE 56), and those are used instead of its own; a repeat
///   (x1x1) keeps the STAN of the original. Leading zeros are dropped, because DE 90 pads the
///   acquirer to eleven digits while DE 32 does not.
/// - ISO 20022: the UETR (case ignored) when present, else EndToEndId and TxId. pacs.028 and
///   camt.056 carry the original's identifications in the same canonical fields.
public enum TransactionKey {
    /// FNV-1a over the transaction's identity: the same in every process and every release.
    public static func hash(_ message: PaymentMessage) -> UInt64 {
        var hash = FNV1a()
        if let pan = message.pan {
            pan.withRevealedDigits { digits in
                for byte in digits { hash.add(byte) }
            }
            hash.add(0x1F)  // the separator add(_: String) writes
            // Read as bytes from the message's inline texts: no string is built.
            let useOriginal = message.hasOriginal && message.hasText(.originalSTAN)
            let acquirer: PaymentMessage.TextField = useOriginal && message.hasText(.originalAcquirer) ? .originalAcquirer : .acquirer
            addNumber(acquirer, of: message, to: &hash)
            addNumber(useOriginal ? .originalSTAN : .stan, of: message, to: &hash)
        } else if let uetr = message.identifiers.uetr {
            for byte in uetr.utf8 { hash.add(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
        } else {
            hash.add(message.identifiers.endToEndId ?? "")
            hash.add(message.identifiers.transactionId ?? "")
        }
        return hash.value
    }

    /// Adds a number-like text without its leading zeros.
    @inline(__always)
    private static func addNumber(_ field: PaymentMessage.TextField, of message: PaymentMessage, to hash: inout FNV1a) {
        message.withText(field) { bytes in
            var leading = true
            for byte in bytes ?? UnsafeBufferPointer(start: nil, count: 0) {
                if leading && byte == 0x30 { continue }
                leading = false
                hash.add(byte)
            }
        }
        hash.add(0x1F)
    }

    /// The arm of a split a transaction hash selects, weights taken as relative.
    @inline(__always)
    static func arm(_ arms: [SplitArm], hash: UInt64) -> Int {
        var total: UInt64 = 0
        for arm in arms { total += UInt64(arm.weight) }
        // Mix the high bits in: FNV-1a's low bits are weak for short keys.
        var point = (hash ^ (hash >> 29)) &* 0xbf58_476d_1ce4_e5b9
        point = (point ^ (point >> 32)) % total
        for (index, arm) in arms.enumerated() {
            if point < UInt64(arm.weight) { return index }
            point -= UInt64(arm.weight)
        }
        return arms.count - 1
    }
}
