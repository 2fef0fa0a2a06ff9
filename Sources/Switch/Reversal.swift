import ISO8583

/// Reversals the switch sends when a host did not answer an authorization or financial request in
/// time, and the repeats of store-and-forward messages.
enum Reversal {
    /// Fields never carried into a reversal: PIN block, track data, security control, chip data and
    /// MACs (a reversal undoes the original; it does not authenticate the cardholder again).
    static let excludedFields: Set<Int> = [14, 35, 36, 38, 39, 45, 52, 53, 55, 64, 128]

    /// Whether a timed-out request of this MTI leaves a reversal behind: authorization and
    /// financial requests (x100, x200). Advices and reversals are repeated, never reversed.
    static func applies(to mti: MTI) -> Bool {
        (mti.messageClass == 1 || mti.messageClass == 2) && mti.function == 0
    }

    /// The reversal of `original` (the request as the host received it), as a request (x400) or
    /// an advice (x420) in the original's ISO 8583 version.
    ///
    /// Its original data elements go in DE 90 (1987: MTI, STAN, transmission date and time,
    /// acquirer and forwarder, n42) or DE 56 (1993 and later: MTI, STAN, local date and time,
    /// LL acquirer). DE 11 is left as 000000: each send writes the STAN it goes with.
    static func make(from original: ISO8583Message, advice: Bool, dialect: Dialect, transmitted: String) throws -> ISO8583Message {
        let version = original.mti.version
        guard let mti = MTI("\(version)4\(advice ? 2 : 0)0") else { throw SwitchError("no reversal MTI for \(original.mti)") }
        var reversal = ISO8583Message(mti: mti)
        for field in original.fieldNumbers where !excludedFields.contains(field) && field != 11 && field != 7 && field != 1 && field != 65 {
            if let bytes = original.bytes(field) { reversal.set(field, bytes: bytes) }
        }
        reversal.set(7, transmitted)
        reversal.set(11, "000000")
        let stan = original.string(11) ?? "000000"
        if version == 0 {
            guard dialect.fields.indices.contains(90), dialect.fields[90] != nil else {
                throw SwitchError("dialect \(dialect.name) has no DE 90 for a reversal's original data elements")
            }
            reversal.set(90, original.mti.description + stan + (original.string(7) ?? String(repeating: "0", count: 10))
                + rightJustified(original.string(32), 11) + rightJustified(original.string(33), 11))
        } else {
            guard dialect.fields.indices.contains(56), dialect.fields[56] != nil else {
                throw SwitchError("dialect \(dialect.name) has no DE 56 for a reversal's original data elements")
            }
            let acquirer = original.string(32) ?? ""
            let length = acquirer.count < 10 ? "0\(acquirer.count)" : "\(acquirer.count)"
            reversal.set(56, original.mti.description + stan + (original.string(12) ?? String(repeating: "0", count: 12)) + length + acquirer)
            // Function code: full reversal; message reason: no answer in time (ISO 8583:1993 4021).
            if dialect.fields.indices.contains(24), dialect.fields[24] != nil { reversal.set(24, "400") }
            if dialect.fields.indices.contains(25), dialect.fields[25] != nil { reversal.set(25, "4021") }
        }
        return reversal
    }

    /// The repeat of a store-and-forward message: its MTI's origin digit one up (0400 → 0401, 0420 → 0421).
    static func repeated(_ mti: MTI) -> MTI {
        guard mti.origin % 2 == 0 else { return mti }
        return MTI("\(mti.version)\(mti.messageClass)\(mti.function)\(mti.origin + 1)") ?? mti
    }

    private static func rightJustified(_ digits: String?, _ width: Int) -> String {
        let value = String((digits ?? "").suffix(width))
        return String(repeating: "0", count: width - value.count) + value
    }
}
