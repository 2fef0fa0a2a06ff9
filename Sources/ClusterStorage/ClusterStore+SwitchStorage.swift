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

    public func write(_ batch: StorageBatch) throws(StorageError) -> StorageReceipt {
        try storage("write a batch") { () throws(ClusterStoreError) -> StorageReceipt in
            try transaction("write a batch") { () throws(ClusterStoreError) -> StorageReceipt in
                let purpose = "write a batch"
                var receipt = StorageReceipt()
                if let claims = batch.claims {
                    // Written before this batch's journal block: a claim is settled by a later block.
                    let inserted = try rows("""
                        INSERT INTO claim_block (journal_mark, sealed_whole, claims, owner)
                        VALUES ((SELECT coalesce(max(seq), 0) FROM journal_block), true, \(ByteBuffer(bytes: claims)), \(member?.node)) RETURNING id
                        """, purpose)
                    receipt.claimBlock = try inserted.first.map { row throws(ClusterStoreError) in try decode(row, as: Int64.self, purpose) }
                }
                for id in batch.releasedClaimBlocks { try rows("DELETE FROM claim_block WHERE id = \(id)", purpose) }
                if let block = batch.journal {
                    let messages = block.sealedMessages.isEmpty ? nil : ByteBuffer(bytes: block.sealedMessages)
                    try rows("""
                        INSERT INTO journal_block (first_started, last_started, count, records, messages)
                        VALUES (\(block.firstStarted), \(block.lastStarted), \(block.count), \(ByteBuffer(bytes: block.records)), \(messages))
                        """, purpose)
                }
                for (channel, stan) in batch.hostStans {
                    try rows("""
                        INSERT INTO meta (key, value) VALUES (\("stan:" + channel), \(stan)) ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """, purpose)
                }
                for item in batch.newForwards {
                    let inserted = try rows("""
                        INSERT INTO forward (channel, kind, txn, message, attempts, created, owner, epoch)
                        VALUES (\(item.channel), \(item.kind.rawValue), \(item.transaction), \(ByteBuffer(bytes: item.sealedMessage)), \(item.attempts), \(item.created),
                                \(member?.node), \(member?.epoch))
                        RETURNING id
                        """, purpose)
                    guard let row = inserted.first else { throw ClusterStoreError(purpose: purpose, reason: "no id for a new forward item") }
                    receipt.forwardIDs.append(try decode(row, as: Int64.self, purpose))
                }
                for attempt in batch.attempts {
                    try rows("UPDATE forward SET attempts = \(attempt.attempts) WHERE id = \(attempt.id)", purpose)
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for acknowledged in batch.acknowledged {
                    try rows("""
                        UPDATE forward SET state = 'acknowledged', response_code = \(acknowledged.responseCode), acknowledged = \(now) WHERE id = \(acknowledged.id)
                        """, purpose)
                }
                return receipt
            }
        }
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
