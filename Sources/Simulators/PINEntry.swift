internal import ISO8583
public import SecurityModule

/// PINs the POS simulator enters, written into each request's frame in place: under the
/// terminal's PIN key, or under DUKPT (the key is a TDES base derivation key) with a KSN per
/// request (the counter follows the request's sequence) written into the KSN's element too.
public struct PINEntry: Sendable {
    /// A terminal PIN key, or a DUKPT BDK.
    public let key: WorkingKey
    /// DUKPT: the terminal's initial KSN (its counter is replaced per request).
    public let initialKSN: [UInt8]
    /// ASCII digits.
    public let pin: [UInt8]
    public let format: PINBlock.Format
    /// DUKPT: the data element the KSN goes in, as 20 hexadecimal characters.
    public let ksnField: Int

    var isDUKPT: Bool { key.usage == .baseDerivation }

    public init(key: WorkingKey, initialKSN: [UInt8] = [], pin: [UInt8], format: PINBlock.Format = .iso0, ksnField: Int = 62) throws {
        if key.usage == .baseDerivation {
            guard key.cipher == .tdes, initialKSN.count == 10 else { throw SimulatorError("TDES DUKPT takes a 10-byte KSN (20 hexadecimal digits)") }
            guard format != .iso4 else { throw SimulatorError("TDES DUKPT PIN blocks are formats 0, 1 and 3") }
        } else {
            _ = try PINBlock.Zone(key: key, format: format)
        }
        self.key = key
        self.initialKSN = initialKSN
        self.pin = pin
        self.format = format
        self.ksnField = ksnField
    }

    /// The KSN of request `sequence`: a counter of at most 10 bits set (X9.24), following the sequence.
    func ksn(_ sequence: Int) -> [UInt8] {
        var counter = UInt32(sequence % 0x1F_FFFF) + 1
        while counter.nonzeroBitCount > 10 { counter &= counter - 1 }
        var ksn = initialKSN
        ksn[7] = ksn[7] & 0xE0 | UInt8(truncatingIfNeeded: counter >> 16)
        ksn[8] = UInt8(truncatingIfNeeded: counter >> 8)
        ksn[9] = UInt8(truncatingIfNeeded: counter)
        return ksn
    }

    /// Where the PIN block and the KSN go in a template's frame.
    struct Places: Sendable {
        /// DE 52: 8 raw bytes, or 16 hexadecimal characters.
        var block: Range<Int>
        var ksn: Range<Int>?
        var pan: [UInt8]
    }

    /// The template with room for the PIN block (and the KSN), and where they are.
    func prepare(_ message: inout ISO8583Message) {
        message.set(52, bytes: [UInt8](repeating: 0, count: 8))
        if isDUKPT { message.set(ksnField, String(repeating: "0", count: 20)) }
    }

    func places(in encoded: ISO8583Message) throws -> Places {
        guard let block = encoded.wireBytes(52), block.count == 8 || block.count == 16, let pan = encoded.bytes(2) else {
            throw SimulatorError("the template cannot take a PIN block in place (it needs DE 2 and DE 52)")
        }
        var places = Places(block: block.startIndex..<block.endIndex, ksn: nil, pan: pan)
        if isDUKPT {
            guard let ksn = encoded.wireBytes(ksnField), ksn.count == 20 else {
                throw SimulatorError("the template cannot take a KSN in place (DE \(ksnField) in ASCII)")
            }
            places.ksn = ksn.startIndex..<ksn.endIndex
        }
        return places
    }

    /// Writes request `sequence`'s PIN block (and KSN) into its frame.
    func write(_ sequence: Int, places: Places, into frame: inout [UInt8]) {
        let ksn = isDUKPT ? ksn(sequence) : []
        guard let pinKey = isDUKPT ? try? DUKPT.pinKey(bdk: key, ksn: ksn) : key, let zone = try? PINBlock.Zone(key: pinKey, format: format),
              let block = try? PINBlock.encrypt(pin: pin, pan: places.pan, zone: zone) else { return }
        func hex(_ bytes: [UInt8]) -> [UInt8] { Array(Hex.encode(bytes).utf8) }
        frame.replaceSubrange(places.block, with: places.block.count == 8 ? block : hex(block))
        if let place = places.ksn { frame.replaceSubrange(place, with: hex(ksn)) }
    }
}

/// What the issuer simulator checks of a PIN block: that it holds the expected PIN under its zone key.
public struct PINCheck: Sendable {
    public let zone: PINBlock.Zone
    /// ASCII digits.
    public let pin: [UInt8]

    public init(zone: PINBlock.Zone, pin: [UInt8]) {
        self.zone = zone
        self.pin = pin
    }

    /// Whether the request's DE 52 holds the PIN for its card (DE 2).
    func verifies(_ request: ISO8583Message) -> Bool {
        guard let block = request.bytes(52), let pan = request.bytes(2) else { return false }
        return PINBlock.verify(block, pin: pin, pan: pan, zone: zone)
    }
}
