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
        return migrator
    }

    static let insertJournal = """
        INSERT INTO journal (id, started, listener, message, stan, rrn, terminal, merchant, masked_pan, pan_hash, amount, currency,
            uetr, end_to_end_id, message_id, rule, channel, channels_tried, host_stan, result, response_code, outcome,
            total_us, host_us, forward, request, answer)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Inserts a journal record with `statement` (``insertJournal``).
    static func insert(_ record: JournalRecord, with statement: Statement, in db: Database) throws {
        var row = Binder(statement)
        row.text(record.id); row.integer(record.started); row.text(record.listener); row.text(record.message); row.text(record.stan)
        row.text(record.rrn); row.text(record.terminal); row.text(record.merchant); row.text(record.maskedPAN); row.text(record.panHash)
        row.integer(record.amount); row.text(record.currency); row.text(record.uetr); row.text(record.endToEndId); row.text(record.messageId)
        row.text(record.rule); row.text(record.channel); row.text(record.channelsTried); row.text(record.hostStan)
        row.integer(Int64(record.result)); row.text(record.responseCode); row.text(record.outcome); row.integer(record.totalMicros)
        row.integer(record.hostMicros); row.text(record.forward); row.blob(record.sealedRequest); row.blob(record.sealedAnswer)
        try row.step(db)
    }

    /// Inserts a claim with `statement` (``insertClaim``).
    static func insert(_ claim: Claim, with statement: Statement, in db: Database) throws {
        var row = Binder(statement)
        row.text(claim.transaction); row.text(claim.channel); row.text(claim.listener); row.text(claim.message); row.text(claim.stan)
        row.integer(claim.reversible ? 1 : 0); row.blob(claim.sealedMessage); row.integer(claim.created)
        try row.step(db)
    }

    static let insertClaim = "INSERT INTO claim (txn, channel, listener, message, stan, reversible, sealed, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


    static func record(_ row: Row) -> JournalRecord {
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
        record.forwardState = row["forward_state"]
        record.forwardResult = row["forward_result"]
        record.sealedRequest = (row["request"] as Data?).map { Array($0) }
        record.sealedAnswer = (row["answer"] as Data?).map { Array($0) }
        return record
    }

    /// The WHERE clause of a query, with its arguments.
    static func condition(_ query: JournalQuery) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        func equal(_ column: String, _ value: String?) {
            guard let value else { return }
            clauses.append("journal.\(column) = ?")
            arguments.append(value)
        }
        equal("stan", query.stan)
        equal("rrn", query.rrn)
        equal("terminal", query.terminal)
        equal("masked_pan", query.maskedPAN)
        equal("pan_hash", query.panHash)
        equal("uetr", query.uetr)
        equal("end_to_end_id", query.endToEndId)
        equal("outcome", query.outcome)
        equal("channel", query.channel)
        if let since = query.since {
            clauses.append("journal.started >= ?")
            arguments.append(since)
        }
        if let until = query.until {
            clauses.append("journal.started < ?")
            arguments.append(until)
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), StatementArguments(arguments))
    }
}
