import PostgresNIO
public import Switch

/// The outcome of a claim (keyed by ``ClusterClaimKey``: originator, DE 7, DE 11; never card data).
public enum ClaimOutcome: Sendable, Equatable {
    /// This node forwards the request.
    case claimed
    /// Another claim holds the request (another node's, or this node's own earlier one): answer
    /// it with the answer the claimed request got (`answer`, sealed), or as a duplicate while it has none.
    case duplicate(node: String, answer: [UInt8]? = nil)
    /// The node's epoch is no longer current: it was fenced and must forward nothing.
    case fenced
}

extension ClusterStore {
    /// Claims `key` for the node holding `lease`, before it forwards the request: the database's
    /// unique key makes one claim win, whichever node and connection each copy reached. A node
    /// whose epoch was raised (fenced) claims nothing.
    public func claim(_ key: ClusterClaimKey, by lease: NodeLease) throws(ClusterStoreError) -> ClaimOutcome {
        try claim([key], by: lease)[0]
    }

    /// Claims `keys` together, in one statement and one commit (a node's claims made while the last
    /// batch was written): each outcome as ``claim(_:by:)`` gives it, in order. A key given twice is
    /// claimed by its first place and a duplicate at the others.
    public func claim(_ keys: [ClusterClaimKey], by lease: NodeLease) throws(ClusterStoreError) -> [ClaimOutcome] {
        guard !keys.isEmpty else { return [] }
        return try exclusive { () throws(ClusterStoreError) -> [ClaimOutcome] in
            let purpose = "claim requests"
            let (originators, times, traces) = (keys.map(\.originator), keys.map(\.transmitted), keys.map(\.trace))
            var inserted = Set<ClusterClaimKey>()
            do {
                for row in try rows(prepared: ClaimText.self, ClusterStore.claimQuery(keys, by: lease), purpose) {
                    let (originator, transmitted, trace) = try row.decode((String, String, String).self)
                    inserted.insert(ClusterClaimKey(originator: originator, transmitted: transmitted, trace: trace))
                }
            } catch {
                throw ClusterStoreError(purpose: purpose, error: error)
            }
            if inserted.count == Set(keys).count { return ClusterStore.outcomes(keys, inserted: inserted, holders: [:], claimer: lease.node) }
            // Some were not claimed: held by a claim already, or none was, the node being fenced.
            var holders: [ClusterClaimKey: (node: String, answer: [UInt8]?)] = [:]
            do {
                for row in try rows("""
                    SELECT claim.originator, claim.transmitted, claim.trace, claim.node, claim_answer.answer FROM claim
                    JOIN unnest(\(originators)::text[], \(times)::text[], \(traces)::text[]) AS k (originator, transmitted, trace)
                      ON claim.originator = k.originator AND claim.transmitted = k.transmitted AND claim.trace = k.trace
                    LEFT JOIN claim_answer ON claim_answer.originator = claim.originator AND claim_answer.transmitted = claim.transmitted
                      AND claim_answer.trace = claim.trace
                    """, purpose) {
                    let (originator, transmitted, trace, node, answer) = try row.decode((String, String, String, String, ByteBuffer?).self)
                    holders[ClusterClaimKey(originator: originator, transmitted: transmitted, trace: trace)] =
                        (node, answer.map { Array($0.readableBytesView) })
                }
            } catch {
                throw ClusterStoreError(purpose: purpose, error: error)
            }
            return ClusterStore.outcomes(keys, inserted: inserted, holders: holders, claimer: lease.node)
        }
    }

    /// The statement claiming `keys` (see ``claim(_:by:)``), prepared once per connection (``ClaimText``).
    static func claimQuery(_ keys: [ClusterClaimKey], by lease: NodeLease) -> PostgresQuery {
        """
        INSERT INTO claim (originator, transmitted, trace, node, epoch)
        SELECT k.originator, k.transmitted, k.trace, node.id, node.epoch
        FROM unnest(\(keys.map(\.originator))::text[], \(keys.map(\.transmitted))::text[], \(keys.map(\.trace))::text[]) AS k (originator, transmitted, trace), node
        WHERE node.id = \(lease.node) AND node.epoch = \(lease.epoch) AND node.state = 'alive'
        ON CONFLICT (originator, transmitted, trace) DO NOTHING
        RETURNING originator, transmitted, trace
        """
    }

    /// Each key's outcome: claimed at its first place when inserted (a duplicate of `claimer` at the
    /// others), a duplicate of its holder otherwise, fenced when no claim holds it (the node's epoch
    /// refused the insert).
    private static func outcomes(_ keys: [ClusterClaimKey], inserted: Set<ClusterClaimKey>, holders: [ClusterClaimKey: (node: String, answer: [UInt8]?)],
                                 claimer: String) -> [ClaimOutcome] {
        var seen = Set<ClusterClaimKey>()
        return keys.map { key in
            let first = seen.insert(key).inserted
            if inserted.contains(key) { return first ? .claimed : .duplicate(node: claimer) }
            if let holder = holders[key] { return .duplicate(node: holder.node, answer: holder.answer) }
            return .fenced
        }
    }
}

/// The prepared statement of ``ClusterStore/claim(_:by:)``.
enum ClaimText: PreparedText {
    static let name = "payswitch_claim"
    static let sql = ClusterStore.claimQuery([], by: NodeLease(node: "", epoch: 0)).sql
}
