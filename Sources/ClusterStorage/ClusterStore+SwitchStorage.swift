import Foundation
internal import NIOCore
import PostgresNIO
public import Switch

/// The switch's storage on PostgreSQL, the same protocol and tables as `SQLiteStorage` (the
/// embedded default): chosen with `storage: path: postgres://…`. Each batch is one transaction;
/// PostgreSQL's commit is durable (fsync) unless the server was told otherwise.
extension ClusterStore: SwitchStorage {
    /// Opens the database at `url` as a switch's storage and brings its schema up to date, unless
    /// it is opened only for `reading` (the journal commands), which changes nothing. A cluster
    /// node's storage names the node (`member`): what it queues and claims is the node's.
    public static func switchStorage(_ url: String, reading: Bool = false, member: NodeLease? = nil) throws(StorageError) -> ClusterStore {
        do {
            let store = try ClusterStore.connect(url, member: member)
            if !reading { try store.migrate() }
            return store
        } catch {
            throw StorageError(operation: "opening the PostgreSQL storage", reason: "\(error)")
        }
    }

    /// Writes the batch as one statement (its parts data-modifying `WITH` queries over arrays):
    /// one round trip and one commit, atomic as a statement is, however many parts it has. A
    /// cluster node's batch writes nothing once the node was fenced (its epoch no longer current):
    /// what it held is a survivor's now, and the write fails.
    public func write(_ batch: StorageBatch) throws(StorageError) -> StorageReceipt {
        let purpose = "write a batch"
        let forwards = batch.newForwards
        let query = ClusterStore.writeQuery(batch, member: member, now: Int64(Date().timeIntervalSince1970 * 1000))
        return try storage(purpose) { () throws(ClusterStoreError) -> StorageReceipt in
            let found = try exclusive { () throws(ClusterStoreError) -> [PostgresRow] in try rows(prepared: WriteBatchText.self, query, purpose) }
            var receipt = StorageReceipt()
            var forwardIDs: [String: Int64] = [:]
            do {
                for row in found {
                    let (part, id, transaction, kind) = try row.decode((String, Int64, String, String).self)
                    switch part {
                    case "claim": receipt.claimBlock = id
                    case "forward": forwardIDs[transaction + "/" + kind] = id
                    case "fenced":
                        throw ClusterStoreError(purpose: purpose, reason: "this node was fenced: what it held is another node's now, and it writes nothing more")
                    default: break
                    }
                }
            } catch {
                throw ClusterStoreError(purpose: purpose, error: error)
            }
            for item in forwards {
                guard let id = forwardIDs[item.transaction + "/" + item.kind.rawValue] else {
                    throw ClusterStoreError(purpose: purpose, reason: "no id for a new forward item")
                }
                receipt.forwardIDs.append(id)
            }
            return receipt
        }
    }

    /// The statement writing `batch` (see ``write(_:)``); parameters only, so that every batch runs
    /// the one statement prepared on the connection (``WriteBatchText``). Nullable parameters are
    /// cast: their type is fixed by the first batch, which may have none.
    static func writeQuery(_ batch: StorageBatch, member: NodeLease?, now: Int64) -> PostgresQuery {
        // An item answered while its next attempt waits in the same batch: one update, the answer
        // (a statement may change a row once).
        let acknowledgedIDs = batch.acknowledged.map(\.id)
        let answered = Set(acknowledgedIDs)
        let attempts = batch.attempts.filter { !answered.contains($0.id) }
        let journal = batch.journal
        let stans = batch.hostStans.sorted { $0.key < $1.key }
        let forwards = batch.newForwards
        let answers = batch.claimAnswers
        return """
            WITH writer AS (
                SELECT 1 FROM node WHERE id = \(member?.node ?? "") AND epoch = \(member?.epoch ?? 0) AND state = 'alive'
                UNION ALL SELECT 1 WHERE \(member == nil)),
            released AS (DELETE FROM claim_block WHERE id = ANY(\(batch.releasedClaimBlocks)::bigint[]) AND EXISTS (SELECT 1 FROM writer) RETURNING 1),
            claims AS (
                INSERT INTO claim_block (journal_mark, sealed_whole, claims, owner)
                SELECT (SELECT coalesce(max(seq), 0) FROM journal_block), true, \(ByteBuffer(bytes: batch.claims ?? [])), \(member?.node)::text
                WHERE \(batch.claims != nil) AND EXISTS (SELECT 1 FROM writer) RETURNING id),
            journal AS (
                INSERT INTO journal_block (first_started, last_started, count, records, messages)
                SELECT \(journal?.firstStarted ?? 0), \(journal?.lastStarted ?? 0), \(journal?.count ?? 0), \(ByteBuffer(bytes: journal?.records ?? [])),
                       \(journal.flatMap { $0.sealedMessages.isEmpty ? nil : ByteBuffer(bytes: $0.sealedMessages) })::bytea
                WHERE \(journal != nil) AND EXISTS (SELECT 1 FROM writer) RETURNING 1),
            stans AS (
                INSERT INTO meta (key, value)
                SELECT * FROM unnest(\(stans.map { "stan:" + $0.key })::text[], \(stans.map(\.value))::text[]) WHERE EXISTS (SELECT 1 FROM writer)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value RETURNING 1),
            forwards AS (
                INSERT INTO forward (channel, kind, txn, message, attempts, created, owner, epoch)
                SELECT f.channel, f.kind, f.txn, f.message, f.attempts, f.created, \(member?.node)::text, \(member?.epoch)::bigint
                FROM unnest(\(forwards.map(\.channel))::text[], \(forwards.map(\.kind.rawValue))::text[], \(forwards.map(\.transaction))::text[],
                            \(forwards.map { ByteBuffer(bytes: $0.sealedMessage) })::bytea[], \(forwards.map(\.attempts))::int[],
                            \(forwards.map(\.created))::bigint[]) AS f (channel, kind, txn, message, attempts, created)
                WHERE EXISTS (SELECT 1 FROM writer)
                RETURNING id, txn, kind),
            attempts AS (
                UPDATE forward SET attempts = u.attempts FROM unnest(\(attempts.map(\.id))::bigint[], \(attempts.map(\.attempts))::int[]) AS u (id, attempts)
                WHERE forward.id = u.id AND EXISTS (SELECT 1 FROM writer) RETURNING 1),
            acknowledged AS (
                UPDATE forward SET state = 'acknowledged', response_code = u.code, acknowledged = \(now)
                FROM unnest(\(acknowledgedIDs)::bigint[], \(batch.acknowledged.map(\.responseCode))::text[]) AS u (id, code)
                WHERE forward.id = u.id AND EXISTS (SELECT 1 FROM writer) RETURNING 1),
            answers AS (
                INSERT INTO claim_answer (originator, transmitted, trace, answer)
                SELECT * FROM unnest(\(answers.map(\.key.originator))::text[], \(answers.map(\.key.transmitted))::text[],
                                     \(answers.map(\.key.trace))::text[], \(answers.map { ByteBuffer(bytes: $0.sealedAnswer) })::bytea[])
                WHERE EXISTS (SELECT 1 FROM writer)
                ON CONFLICT DO NOTHING RETURNING 1)
            SELECT 'claim', id, '', '' FROM claims
            UNION ALL SELECT 'forward', id, txn, kind FROM forwards
            UNION ALL SELECT 'fenced', 0, '', '' WHERE NOT EXISTS (SELECT 1 FROM writer)
            UNION ALL SELECT 'counts', (SELECT count(*) FROM released) + (SELECT count(*) FROM journal) + (SELECT count(*) FROM stans)
                + (SELECT count(*) FROM attempts) + (SELECT count(*) FROM acknowledged) + (SELECT count(*) FROM answers), '', ''
            """
    }

    public func pendingForwards() throws(StorageError) -> [ForwardItem] {
        try storage("read the store-and-forward queue") { () throws(ClusterStoreError) -> [ForwardItem] in
            try exclusive { () throws(ClusterStoreError) -> [ForwardItem] in
                let purpose = "read the store-and-forward queue"
                return try rows("SELECT id, channel, kind, txn, message, attempts, created FROM forward WHERE state = 'pending' ORDER BY id", purpose)
                    .map { row throws(ClusterStoreError) in
                        do {
                            let (id, channel, kind, transaction, message, attempts, created) =
                                try row.decode((Int64, String, String, String, ByteBuffer, Int, Int64).self)
                            return ForwardItem(id: id, channel: channel, kind: ForwardItem.Kind(rawValue: kind) ?? .reversal, transaction: transaction,
                                               sealedMessage: Array(message.readableBytesView), attempts: attempts, created: created)
                        } catch {
                            throw ClusterStoreError(purpose: purpose, error: error)
                        }
                    }
            }
        }
    }

    public func forwardStates(of transactions: [String]) throws(StorageError) -> [String: ForwardState] {
        try storage("read the store-and-forward queue") { () throws(ClusterStoreError) -> [String: ForwardState] in
            try exclusive { () throws(ClusterStoreError) -> [String: ForwardState] in
                let purpose = "read the store-and-forward queue"
                var states: [String: ForwardState] = [:]
                for transaction in transactions {
                    for row in try rows("SELECT state, response_code FROM forward WHERE txn = \(transaction) ORDER BY id", purpose) {
                        do {
                            let (state, code) = try row.decode((String, String?).self)
                            states[transaction] = ForwardState(state: state, responseCode: code)
                        } catch {
                            throw ClusterStoreError(purpose: purpose, error: error)
                        }
                    }
                }
                return states
            }
        }
    }

    public func lastHostStans() throws(StorageError) -> [String: UInt32] {
        try storage("read the last STANs") { () throws(ClusterStoreError) -> [String: UInt32] in
            try exclusive { () throws(ClusterStoreError) -> [String: UInt32] in
                var stans: [String: UInt32] = [:]
                for row in try rows("SELECT key, value FROM meta WHERE key LIKE 'stan:%'", "read the last STANs") {
                    guard let (key, value) = try? row.decode((String, String).self), let stan = UInt32(value) else { continue }
                    stans[String(key.dropFirst("stan:".count))] = stan
                }
                return stans
            }
        }
    }

    public func claimBlocks() throws(StorageError) -> [StoredClaimBlock] {
        try storage("read the claims") { () throws(ClusterStoreError) -> [StoredClaimBlock] in
            try exclusive { () throws(ClusterStoreError) -> [StoredClaimBlock] in
                let purpose = "read the claims"
                // A node's own blocks only: another live node's are its requests in flight.
                return try rows("""
                    SELECT id, journal_mark, sealed_whole, claims FROM claim_block WHERE owner IS NOT DISTINCT FROM \(member?.node) ORDER BY id
                    """, purpose).map { row throws(ClusterStoreError) in
                    do {
                        let (id, mark, whole, claims) = try row.decode((Int64, Int64, Bool, ByteBuffer).self)
                        return StoredClaimBlock(id: id, journalMark: mark, bytes: Array(claims.readableBytesView), sealedWhole: whole)
                    } catch {
                        throw ClusterStoreError(purpose: purpose, error: error)
                    }
                }
            }
        }
    }

    public func journalBlocks(_ selection: JournalBlockSelection, _ body: (StoredJournalBlock) throws(StorageError) -> Bool) throws(StorageError) {
        let purpose = "read the journal"
        // Bounds as numbers in the text, never the caller's strings: they are Int64.
        var clauses: [String] = []
        if let after = selection.after { clauses.append("seq > \(after)") }
        if let since = selection.since { clauses.append("last_started >= \(since)") }
        if let until = selection.until { clauses.append("first_started < \(until)") }
        let bySequence = selection.after != nil
        // Read a page at a time, each after the last block read (its place in the order), so that a
        // query that stops early (a limit) does not load the whole journal.
        var last: (first: Int64, seq: Int64)?
        while true {
            var page = clauses
            if let last { page.append(bySequence ? "seq > \(last.seq)" : "(first_started, seq) > (\(last.first), \(last.seq))") }
            let condition = page.isEmpty ? "" : "WHERE " + page.joined(separator: " AND ")
            let found = try storage(purpose) { () throws(ClusterStoreError) -> [PostgresRow] in
                try exclusive { () throws(ClusterStoreError) -> [PostgresRow] in
                    try rows(PostgresQuery(unsafeSQL: """
                        SELECT seq, first_started, last_started, count, records, messages FROM journal_block \(condition)
                        ORDER BY \(bySequence ? "seq" : "first_started, seq") LIMIT \(ClusterStore.journalPage)
                        """), purpose)
                }
            }
            for row in found {
                let block: StoredJournalBlock
                do {
                    let (seq, first, lastStarted, count, records, messages) = try row.decode((Int64, Int64, Int64, Int, ByteBuffer, ByteBuffer?).self)
                    block = StoredJournalBlock(sequence: seq, block: JournalBlock(
                        records: Array(records.readableBytesView), sealedMessages: messages.map { Array($0.readableBytesView) } ?? [],
                        count: count, firstStarted: first, lastStarted: lastStarted))
                    last = (first, seq)
                } catch {
                    throw StorageError(operation: purpose, reason: "\(ClusterStoreError(purpose: purpose, error: error))")
                }
                guard try body(block) else { return }
            }
            guard found.count == ClusterStore.journalPage else { return }
        }
    }

    /// Journal blocks read per query.
    static let journalPage = 64

    public func bind(keyCheck check: String) throws(StorageError) {
        let stored = try storage("check the data key") { () throws(ClusterStoreError) -> String? in
            try transaction("check the data key") { () throws(ClusterStoreError) -> String? in
                let purpose = "check the data key"
                if let row = try rows("SELECT value FROM meta WHERE key = 'key-check'", purpose).first {
                    return try decode(row, as: String.self, purpose)
                }
                try rows("INSERT INTO meta (key, value) VALUES ('key-check', \(check))", purpose)
                return nil
            }
        }
        if let stored, stored != check {
            throw StorageError(operation: "opening the PostgreSQL storage",
                               reason: "it was written under another data key: its stored messages cannot be read with this one")
        }
    }

    /// Runs `body`, its failure as the switch's ``StorageError``.
    private func storage<T>(_ operation: String, _ body: () throws(ClusterStoreError) -> T) throws(StorageError) -> T {
        do {
            return try body()
        } catch {
            throw StorageError(operation: operation, reason: error.description)
        }
    }
}

/// The prepared statement of ``ClusterStore/write(_:)``.
enum WriteBatchText: PreparedText {
    static let name = "payswitch_write_batch"
    static let sql = ClusterStore.writeQuery(StorageBatch(), member: nil, now: 0).sql
}
