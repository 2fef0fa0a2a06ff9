public import SecurityModule

/// The claims of one storage batch, stored as one row and sealed whole with the data key: a claim
/// holds the request as sent to the host, card data and all, for the reversal a restart may owe.
///
/// A block is deleted once every claim in it is settled (its transaction journalled); until then a
/// restart reads it and settles what the journal does not show finished (``SwitchStorage/openClaims(protection:)``).
public struct StoredClaimBlock: Sendable, Equatable {
    /// Given by the store.
    public var id: Int64
    /// The store's last journal block when this one was written: a claim of the block is settled
    /// when a later journal block holds its transaction.
    public var journalMark: Int64
    /// The claims as ``ClaimBlock/encoded(_:)`` writes them, sealed whole; or, from the first
    /// storage schema, unsealed with each request sealed on its own (`sealedWhole` false).
    public var bytes: [UInt8]
    public var sealedWhole: Bool

    public init(id: Int64, journalMark: Int64, bytes: [UInt8], sealedWhole: Bool = true) {
        self.id = id
        self.journalMark = journalMark
        self.bytes = bytes
        self.sealedWhole = sealedWhole
    }
}

/// The layout of a block of claims.
public enum ClaimBlock {
    static let format: UInt8 = 1

    /// The claims one after another, sealed whole with the data key: a ``StorageBatch/claims``.
    public static func sealed(_ claims: [Claim], protection: DataProtection) throws(SecurityError) -> [UInt8] {
        var writer = StoredBytesWriter()
        writer.bytes.append(format)
        for claim in claims { append(claim, sent: .plain(claim.sent), to: &writer) }
        return try protection.seal(writer.bytes)
    }

    /// Claims of the first storage schema, each request already sealed on its own: the block is
    /// stored unsealed (`sealedWhole` false). Used by the schema migration, which has no key.
    public static func encoded(individuallySealed claims: [(claim: Claim, sealedRequest: [UInt8])]) -> [UInt8] {
        var writer = StoredBytesWriter()
        writer.bytes.append(format)
        for (claim, sealed) in claims { append(claim, sent: .sealed(sealed), to: &writer) }
        return writer.bytes
    }

    private enum Sent {
        case plain([UInt8])
        case sealed([UInt8])
    }

    private static func append(_ claim: Claim, sent: Sent, to writer: inout StoredBytesWriter) {
        writer.text(claim.transaction)
        writer.text(claim.channel)
        writer.text(claim.listener)
        writer.text(claim.message)
        writer.text(claim.stan)
        writer.bytes.append(claim.reversible ? 1 : 0)
        writer.integer(claim.created)
        switch sent {
        case .plain(let bytes):
            writer.bytes.append(1)
            writer.data(bytes)
        case .sealed(let bytes):
            writer.bytes.append(2)
            writer.data(bytes)
        }
    }

    /// The claims of a stored block, opened with the data key.
    static func decoded(_ stored: StoredClaimBlock, protection: DataProtection) throws -> [Claim] {
        let name = "claim block \(stored.id)"
        let bytes = stored.sealedWhole ? try protection.open(stored.bytes) : stored.bytes
        var reader = StoredBytesReader(bytes, what: name)
        guard try reader.byte() == format else {
            throw StorageError(operation: "reading \(name)", reason: "its claims are in a layout this payswitch does not know (a newer one?)")
        }
        var claims: [Claim] = []
        while !reader.isAtEnd {
            let transaction = try reader.text(), channel = try reader.text(), listener = try reader.text(), message = try reader.text()
            let stan = try reader.optionalText()
            let reversible = try reader.byte() != 0
            let created = try reader.integer()
            let kind = try reader.byte()
            let data = try reader.data()
            let sent: [UInt8]
            switch kind {
            case 1: sent = data
            case 2: sent = data.isEmpty ? [] : try protection.open(data)  // an unsealable request was kept as nothing
            default: throw reader.failure("request kind \(kind) is unknown")
            }
            claims.append(Claim(transaction: transaction, channel: channel, listener: listener, message: message, stan: stan,
                                reversible: reversible, sent: sent, created: created))
        }
        return claims
    }
}
