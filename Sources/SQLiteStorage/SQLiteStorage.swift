import Foundation
internal import GRDB
public import Switch

/// The embedded storage: one SQLite database in WAL mode (through GRDB). With `synchronous: .full`
/// (the default) a committed batch survives a crash of the process or of the machine; with
/// `.normal`, of the process only (SQLite syncs at checkpoints).
///
/// Tables: `journal_block` (a row per batch of journal records, ``JournalBlock``), `claim_block`
/// (a row per batch of claims, sealed), `forward` (the store-and-forward queue, its messages
/// sealed), `meta` (the data key's check value, the last host STAN per channel). Migrations are
/// versioned by GRDB's migrator; a database written by a newer payswitch is refused.
public final class SQLiteStorage: SwitchStorage {
    private let pool: DatabasePool
    public let path: String
    /// Keeps the log copied into the database, off the writer (nil when read-only).
    private let checkpointer: Checkpointer?

    /// Opens (creating when needed) the database at `path` and brings its schema up to date.
    public init(path: String, readOnly: Bool = false, synchronous: StorageConfiguration.Synchronous = .full) throws(StorageError) {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(5)
        let pragma = synchronous == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"
        configuration.prepareDatabase { db in
            guard !db.configuration.readonly else { return }
            try db.execute(sql: pragma)
            // Checkpoints run on the checkpointer's connection, not in the writer's commits; the
            // log file is cut back to 64 MiB after each.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if readOnly {
                checkpointer = nil
            } else {
                let migrator = SQLiteStorage.migrator
                if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                    throw StorageError(operation: "opening \(path)", reason: "the database was written by a newer payswitch")
                }
                try migrator.migrate(pool)
                checkpointer = try Checkpointer(path: path, interval: .milliseconds(100))
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(operation: "opening \(path)", reason: "\(error)")
        }
    }

    public func write(_ batch: StorageBatch) throws(StorageError) -> StorageReceipt {
        do {
            return try pool.write { db in
                var receipt = StorageReceipt()
                if let claims = batch.claims {
                    // Written before this batch's journal block: a claim is settled by a later block.
                    let mark = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM journal_block") ?? 0
                    let insert = try db.cachedStatement(sql: "INSERT INTO claim_block (journal_mark, sealed_whole, claims) VALUES (?, 1, ?)")
                    var row = Binder(insert)
                    row.integer(mark)
                    row.blob(claims)
                    try row.step(db)
                    receipt.claimBlock = db.lastInsertedRowID
                }
                if !batch.releasedClaimBlocks.isEmpty {
                    let delete = try db.cachedStatement(sql: "DELETE FROM claim_block WHERE id = ?")
                    for id in batch.releasedClaimBlocks {
                        var row = Binder(delete)
                        row.integer(id)
                        try row.step(db)
                    }
                }
                if let block = batch.journal { try SQLiteStorage.insert(block, in: db) }
                for (channel, stan) in batch.hostStans {
                    try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                   arguments: ["stan:" + channel, stan])
                }
                if !batch.newForwards.isEmpty {
                    let insert = try db.cachedStatement(sql: """
                        INSERT INTO forward (channel, kind, txn, message, attempts, created) VALUES (?, ?, ?, ?, ?, ?)
                        """)
                    for item in batch.newForwards {
                        try insert.execute(arguments: [item.channel, item.kind.rawValue, item.transaction, Data(item.sealedMessage),
                                                       item.attempts, item.created])
                        receipt.forwardIDs.append(db.lastInsertedRowID)
                    }
                }
                for attempt in batch.attempts {
                    try db.execute(sql: "UPDATE forward SET attempts = ? WHERE id = ?", arguments: [attempt.attempts, attempt.id])
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for acknowledged in batch.acknowledged {
                    try db.execute(sql: "UPDATE forward SET state = 'acknowledged', response_code = ?, acknowledged = ? WHERE id = ?",
                                   arguments: [acknowledged.responseCode, now, acknowledged.id])
                }
                return receipt
            }
        } catch {
            throw StorageError(operation: "writing a batch to \(path)", reason: "\(error)")
        }
    }

    public func pendingForwards() throws(StorageError) -> [ForwardItem] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, channel, kind, txn, message, attempts, created FROM forward WHERE state = 'pending' ORDER BY id")
                    .map { row in
                        let kind: String = row["kind"]
                        let message: Data = row["message"]
                        return ForwardItem(id: row["id"], channel: row["channel"], kind: ForwardItem.Kind(rawValue: kind) ?? .reversal,
                                           transaction: row["txn"], sealedMessage: Array(message), attempts: row["attempts"], created: row["created"])
                    }
            }
        } catch {
            throw StorageError(operation: "reading the store-and-forward queue of \(path)", reason: "\(error)")
        }
    }

    public func forwardStates(of transactions: [String]) throws(StorageError) -> [String: ForwardState] {
        do {
            return try pool.read { db in
                var states: [String: ForwardState] = [:]
                let select = try db.cachedStatement(sql: "SELECT state, response_code FROM forward WHERE txn = ? ORDER BY id")
                for transaction in transactions {
                    for row in try Row.fetchAll(select, arguments: [transaction]) {
                        states[transaction] = ForwardState(state: row["state"], responseCode: row["response_code"])
                    }
                }
                return states
            }
        } catch {
            throw StorageError(operation: "reading the store-and-forward queue of \(path)", reason: "\(error)")
        }
    }

    public func lastHostStans() throws(StorageError) -> [String: UInt32] {
        do {
            return try pool.read { db in
                var stans: [String: UInt32] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key LIKE 'stan:%'") {
                    let key: String = row["key"]
                    let value: String = row["value"]
                    if let stan = UInt32(value) { stans[String(key.dropFirst(5))] = stan }
                }
                return stans
            }
        } catch {
            throw StorageError(operation: "reading the last STANs of \(path)", reason: "\(error)")
        }
    }

    public func claimBlocks() throws(StorageError) -> [StoredClaimBlock] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, journal_mark, sealed_whole, claims FROM claim_block ORDER BY id").map { row in
                    let claims: Data = row["claims"]
                    return StoredClaimBlock(id: row["id"], journalMark: row["journal_mark"], bytes: Array(claims), sealedWhole: row["sealed_whole"])
                }
            }
        } catch {
            throw StorageError(operation: "reading the claims of \(path)", reason: "\(error)")
        }
    }

    public func journalBlocks(_ selection: JournalBlockSelection, _ body: (StoredJournalBlock) throws(StorageError) -> Bool) throws(StorageError) {
        var clauses: [String] = []
        var arguments: [Int64] = []
        if let after = selection.after {
            clauses.append("seq > ?")
            arguments.append(after)
        }
        if let since = selection.since {
            clauses.append("last_started >= ?")
            arguments.append(since)
        }
        if let until = selection.until {
            clauses.append("first_started < ?")
            arguments.append(until)
        }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let order = selection.after != nil ? "seq" : "first_started, seq"
        var failure: StorageError?
        do {
            try pool.read { db in
                let cursor = try Row.fetchCursor(db, sql: """
                    SELECT seq, first_started, last_started, count, records, messages FROM journal_block \(condition) ORDER BY \(order)
                    """, arguments: StatementArguments(arguments))
                while let row = try cursor.next() {
                    let records: Data = row["records"]
                    let messages: Data? = row["messages"]
                    let block = JournalBlock(records: Array(records), sealedMessages: messages.map { Array($0) } ?? [], count: row["count"],
                                             firstStarted: row["first_started"], lastStarted: row["last_started"])
                    do throws(StorageError) {
                        guard try body(StoredJournalBlock(sequence: row["seq"], block: block)) else { return }
                    } catch {
                        failure = error
                        return
                    }
                }
            }
        } catch {
            throw StorageError(operation: "reading the journal of \(path)", reason: "\(error)")
        }
        if let failure { throw failure }
    }

    public func bind(keyCheck check: String) throws(StorageError) {
        let stored: String?
        do {
            stored = try pool.write { db -> String? in
                if let existing = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'key-check'") { return existing }
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('key-check', ?)", arguments: [check])
                return nil
            }
        } catch {
            throw StorageError(operation: "checking the data key against \(path)", reason: "\(error)")
        }
        if let stored, stored != check {
            throw StorageError(operation: "opening \(path)", reason: "it was written under another data key: its stored messages cannot be read with this one")
        }
    }
}
