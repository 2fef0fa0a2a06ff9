import ISO8583

/// The dialect and mapping of a listener's or channel's ISO 8583 side, read per message from one
/// object: pattern-matching them out of ``WireFormat`` copies both, retaining every array inside,
/// several times per request on objects every loop shares.
final class ISO8583Side: Sendable {
    let dialect: Dialect
    let mapping: ISO8583Mapping

    /// The ISO 8583 side of `wire`, or nil for ISO 20022.
    init?(_ wire: WireFormat) {
        guard case .iso8583(let dialect, let mapping) = wire else { return nil }
        self.dialect = dialect
        self.mapping = mapping
    }

    /// Whether a message passes between the two sides as received (same dialect).
    func isSameDialect(as other: ISO8583Side) -> Bool { self === other || dialect.name == other.dialect.name }
}
