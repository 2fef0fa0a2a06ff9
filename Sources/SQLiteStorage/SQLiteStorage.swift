import Foundation
internal import GRDB
public import Switch

/// The embedded storage: one SQLite database in WAL mode (through GRDB). With `synchronous: .full`
/// (the default) a committed batch survives a crash of the process or of the machine; with
/// `.normal`, of the process only (SQLite syncs at checkpoints).
///
/// Tables: `journal` (one row per transaction), `forward` (the store-and-forward queue, its
/// messages sealed), `meta` (the data key's check value). Migrations are versioned by GRDB's
/// migrator; a database written by a newer payswitch is refused.
public final class SQLiteStorage: SwitchStorage {
    private let pool: DatabasePool
    public let path: String

    /// Opens (creating when needed) the database at `path` and brings its schema up to date.
    public init(path: String, readOnly: Bool = false, synchronous: StorageConfiguration.Synchronous = .full) throws(StorageError) {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(5)
        let pragma = synchronous == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"
        configuration.prepareDatabase { db in
            if !db.configuration.readonly { try db.execute(sql: pragma) }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if !readOnly {
                let migrator = SQLiteStorage.migrator
                if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                    throw StorageError(operation: "opening \(path)", reason: "the database was written by a newer payswitch")
                }
                try migrator.migrate(pool)
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(operation: "opening \(path)", reason: "\(error)")
        }
    }

    public func write(_ batch: StorageBatch) throws(StorageError) -> [Int64] {
        do {
            return try pool.write { db in
                var ids: [Int64] = []
                if !batch.claims.isEmpty {
                    let insert = try db.cachedStatement(sql: SQLiteStorage.insertClaim)
                    for claim in batch.claims { try SQLiteStorage.insert(claim, with: insert, in: db) }
                }
                if !batch.settledClaims.isEmpty {
                    let delete = try db.cachedStatement(sql: "DELETE FROM claim WHERE txn = ?")
                    for transaction in batch.settledClaims {
                        var row = Binder(delete)
                        row.text(transaction)
                        try row.step(db)
                    }
                }
                if !batch.journal.isEmpty {
                    let insert = try db.cachedStatement(sql: SQLiteStorage.insertJournal)
                    for record in batch.journal { try SQLiteStorage.insert(record, with: insert, in: db) }
                }
                var lastStans: [String: String] = [:]
                for record in batch.journal { if let stan = record.hostStan { lastStans[record.channel] = stan } }
                for (channel, stan) in lastStans {
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
                        ids.append(db.lastInsertedRowID)
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
                return ids
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

    public func openClaims() throws(StorageError) -> [Claim] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM claim ORDER BY created, txn").map { row in
                    let sealed: Data = row["sealed"]
                    return Claim(transaction: row["txn"], channel: row["channel"], listener: row["listener"], message: row["message"],
                                 stan: row["stan"], reversible: row["reversible"], sealedMessage: Array(sealed), created: row["created"])
                }
            }
        } catch {
            throw StorageError(operation: "reading the open claims of \(path)", reason: "\(error)")
        }
    }

    public func journal(_ query: JournalQuery) throws(StorageError) -> [JournalRecord] {
        let (condition, arguments) = SQLiteStorage.condition(query)
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT journal.*, forward.state AS forward_state, forward.response_code AS forward_result
                    FROM journal LEFT JOIN forward ON forward.txn = journal.id \(condition) ORDER BY journal.started, journal.id LIMIT \(max(0, query.limit))
                    """, arguments: arguments).map(SQLiteStorage.record)
            }
        } catch {
            throw StorageError(operation: "querying the journal of \(path)", reason: "\(error)")
        }
    }

    public func journalStats(_ query: JournalQuery) throws(StorageError) -> [JournalCount] {
        let (condition, arguments) = SQLiteStorage.condition(query)
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT channel, outcome, response_code, COUNT(*) AS count FROM journal \(condition)
                    GROUP BY channel, outcome, response_code ORDER BY channel, outcome, response_code
                    """, arguments: arguments).map { row in
                    JournalCount(channel: row["channel"], outcome: row["outcome"], responseCode: row["response_code"], count: row["count"])
                }
            }
        } catch {
            throw StorageError(operation: "counting the journal of \(path)", reason: "\(error)")
        }
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
