import Foundation
internal import GRDB
internal import GRDBSQLite
import Switch

extension SQLiteStorage {
    /// The schema's versions, oldest first; a version once released is never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE journal (
                    id TEXT PRIMARY KEY NOT NULL,
                    started INTEGER NOT NULL,
                    listener TEXT NOT NULL,
                    message TEXT NOT NULL,
                    stan TEXT, rrn TEXT, terminal TEXT, merchant TEXT,
                    masked_pan TEXT, pan_hash TEXT,
                    amount INTEGER, currency TEXT,
                    uetr TEXT, end_to_end_id TEXT, message_id TEXT,
                    rule TEXT NOT NULL, channel TEXT NOT NULL, channels_tried TEXT NOT NULL, host_stan TEXT,
                    result INTEGER NOT NULL, response_code TEXT, outcome TEXT NOT NULL,
                    total_us INTEGER NOT NULL, host_us INTEGER,
                    forward TEXT NOT NULL,
                    request BLOB, answer BLOB
                );
                CREATE INDEX journal_started ON journal (started);
                CREATE INDEX journal_stan ON journal (stan);
                CREATE INDEX journal_rrn ON journal (rrn);
                CREATE INDEX journal_terminal ON journal (terminal);
                CREATE INDEX journal_pan_hash ON journal (pan_hash);
                CREATE INDEX journal_uetr ON journal (uetr) WHERE uetr IS NOT NULL;
                CREATE INDEX journal_end_to_end_id ON journal (end_to_end_id) WHERE end_to_end_id IS NOT NULL;
                CREATE TABLE forward (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    channel TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    txn TEXT NOT NULL,
                    message BLOB NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending',
                    response_code TEXT,
                    acknowledged INTEGER
                );
                CREATE UNIQUE INDEX forward_one_per_transaction ON forward (txn, kind);
                CREATE INDEX forward_pending ON forward (state, id);
                CREATE TABLE claim (
                    txn TEXT PRIMARY KEY NOT NULL,
                    channel TEXT NOT NULL,
                    listener TEXT NOT NULL,
                    message TEXT NOT NULL,
                    stan TEXT,
                    reversible INTEGER NOT NULL,
                    sealed BLOB NOT NULL,
                    created INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v2") { db in
            // The journal and the claims in blocks, a row per batch (see JournalBlock, ClaimBlock).
            try db.execute(sql: """
                CREATE TABLE journal_block (
                    seq INTEGER PRIMARY KEY,
                    first_started INTEGER NOT NULL,
                    last_started INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    records BLOB NOT NULL,
                    messages BLOB
                );
                CREATE INDEX journal_block_started ON journal_block (first_started);
                CREATE TABLE claim_block (
                    id INTEGER PRIMARY KEY,
                    journal_mark INTEGER NOT NULL,
                    sealed_whole INTEGER NOT NULL,
                    claims BLOB NOT NULL
                );
                """)
            try migrateFirstSchema(db)
        }
        return migrator
    }

    /// Moves the rows of the first schema's `journal` and `claim` tables into blocks, as they are:
    /// their messages stay sealed one by one (the migration has no key to open them).
    private static func migrateFirstSchema(_ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM journal ORDER BY started, id")
        var builder = JournalBlock.Builder()
        func flush() throws {
            guard !builder.isEmpty else { return }
            try insert(builder.finish { $0 }, in: db)
            builder = JournalBlock.Builder()
        }
        while let row = try rows.next() {
            var record = record(row)
            let request = (row["request"] as Data?).map { SealedMessages.Part(sealed: Array($0), range: nil) }
            let answer = (row["answer"] as Data?).map { SealedMessages.Part(sealed: Array($0), range: nil) }
            if request != nil || answer != nil { record.messages = SealedMessages(request: request, answer: answer) }
            builder.append(record)
            if builder.count == 1_000 { try flush() }
        }
        try flush()
        let claims = try Row.fetchAll(db, sql: "SELECT * FROM claim ORDER BY created, txn").map { row in
            let sealed: Data = row["sealed"]
            return (claim: Claim(transaction: row["txn"], channel: row["channel"], listener: row["listener"], message: row["message"],
                                 stan: row["stan"], reversible: row["reversible"], sent: [], created: row["created"]),
                    sealedRequest: Array(sealed))
        }
        if !claims.isEmpty {
            let mark = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM journal_block") ?? 0
            try db.execute(sql: "INSERT INTO claim_block (journal_mark, sealed_whole, claims) VALUES (?, 0, ?)",
                           arguments: [mark, Data(ClaimBlock.encoded(individuallySealed: claims))])
        }
        try db.execute(sql: "DROP TABLE journal; DROP TABLE claim")
    }

    /// Inserts a journal block.
    static func insert(_ block: JournalBlock, in db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO journal_block (first_started, last_started, count, records, messages) VALUES (?, ?, ?, ?, ?)
            """)
        var row = Binder(statement)
        row.integer(block.firstStarted)
        row.integer(block.lastStarted)
        row.integer(Int64(block.count))
        row.blob(block.records)
        row.blob(block.sealedMessages.isEmpty ? nil : block.sealedMessages)
        try row.step(db)
    }

    /// A journal record as the first schema's `journal` table holds it (without its messages).
    private static func record(_ row: Row) -> JournalRecord {
        var record = JournalRecord(id: row["id"], started: row["started"], listener: row["listener"], message: row["message"],
                                   rule: row["rule"], channel: row["channel"], channelsTried: row["channels_tried"],
                                   result: row["result"], outcome: row["outcome"], totalMicros: row["total_us"], forward: row["forward"])
        record.stan = row["stan"]
        record.rrn = row["rrn"]
        record.terminal = row["terminal"]
        record.merchant = row["merchant"]
        record.maskedPAN = row["masked_pan"]
        record.panHash = row["pan_hash"]
        record.amount = row["amount"]
        record.currency = row["currency"]
        record.uetr = row["uetr"]
        record.endToEndId = row["end_to_end_id"]
        record.messageId = row["message_id"]
        record.hostStan = row["host_stan"]
        record.responseCode = row["response_code"]
        record.hostMicros = row["host_us"]
        return record
    }
}
