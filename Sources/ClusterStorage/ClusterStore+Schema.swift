import PostgresNIO

extension ClusterStore {
    /// The schema, one migration per version, applied in order and never edited once shipped: a
    /// change is a new version.
    static let migrations: [(version: Int, statements: [String])] = [
        (1, [
            // A node: its epoch is raised when it joins and when a survivor fences it; a write of a
            // node names the epoch it holds.
            """
            CREATE TABLE node (
                id text PRIMARY KEY,
                epoch bigint NOT NULL,
                state text NOT NULL CHECK (state IN ('alive', 'dead')),
                heartbeat_at timestamptz NOT NULL,
                lease_until timestamptz NOT NULL
            )
            """,
            // A claim on a request, written before it is forwarded: the same request reaching two
            // nodes is forwarded by one. No card data: the originator, DE 7 and DE 11 (or an ISO
            // 20022 message's ids).
            """
            CREATE TABLE claim (
                originator text NOT NULL,
                transmitted text NOT NULL,
                trace text NOT NULL,
                node text NOT NULL REFERENCES node (id),
                epoch bigint NOT NULL,
                claimed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (originator, transmitted, trace)
            )
            """,
            // The next STAN to hand out to a host's links, in blocks: nodes never share a STAN.
            """
            CREATE TABLE stan_block (
                host text PRIMARY KEY,
                next integer NOT NULL CHECK (next BETWEEN 1 AND 999999)
            )
            """,
        ]),
        (2, [
            // The switch's own storage (the SwitchStorage protocol), as SQLiteStorage keeps it: the
            // journal and the claims in sealed blocks, the store-and-forward queue, key-values.
            """
            CREATE TABLE journal_block (
                seq bigserial PRIMARY KEY,
                first_started bigint NOT NULL,
                last_started bigint NOT NULL,
                count integer NOT NULL,
                records bytea NOT NULL,
                messages bytea
            )
            """,
            "CREATE INDEX journal_block_started ON journal_block (first_started)",
            """
            CREATE TABLE claim_block (
                id bigserial PRIMARY KEY,
                journal_mark bigint NOT NULL,
                sealed_whole boolean NOT NULL,
                claims bytea NOT NULL
            )
            """,
            """
            CREATE TABLE forward (
                id bigserial PRIMARY KEY,
                channel text NOT NULL,
                kind text NOT NULL,
                txn text NOT NULL,
                message bytea NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                created bigint NOT NULL,
                state text NOT NULL DEFAULT 'pending',
                response_code text,
                acknowledged bigint,
                UNIQUE (txn, kind)
            )
            """,
            "CREATE INDEX forward_pending ON forward (state, id)",
            "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        ]),
        (3, [
            // The shared store-and-forward queue: an item's id is deterministic (the transaction and
            // the kind: one reversal per original, whichever node queues it); `seq` keeps each
            // host's order; the payload is sealed by the switch and emptied once acknowledged.
            """
            CREATE TABLE saf (
                id text PRIMARY KEY,
                host text NOT NULL,
                seq bigserial NOT NULL,
                payload bytea NOT NULL,
                state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acknowledged')),
                attempts integer NOT NULL DEFAULT 0,
                owner text NOT NULL REFERENCES node (id),
                epoch bigint NOT NULL
            )
            """,
            "CREATE INDEX saf_pending ON saf (host, seq) WHERE state = 'pending'",
            // One sender per host at a time, so that the host sees the queue in order.
            """
            CREATE TABLE saf_host (
                host text PRIMARY KEY,
                owner text NOT NULL REFERENCES node (id),
                epoch bigint NOT NULL,
                lease_until timestamptz NOT NULL
            )
            """,
            // Whether a node (at an epoch) holds a host's queue now: its lease running, its epoch
            // current. Every send and acknowledgement checks it in the same statement.
            """
            CREATE FUNCTION payswitch_holds_host(queue_host text, holder text, holder_epoch bigint) RETURNS boolean
            LANGUAGE sql STABLE AS $$
                SELECT EXISTS (
                    SELECT 1 FROM saf_host JOIN node ON node.id = saf_host.owner AND node.epoch = saf_host.epoch AND node.state = 'alive'
                    WHERE saf_host.host = queue_host AND saf_host.owner = holder AND saf_host.epoch = holder_epoch
                      AND saf_host.lease_until > now())
            $$
            """,
        ]),
        (4, [
            // The store-and-forward queue is one table, shared: `forward` (whose (txn, kind) is
            // already the deterministic id) gains the node and epoch that queued or adopted an item;
            // null outside a cluster. The separate `saf` table of version 3 goes (never used by a switch).
            "DROP TABLE saf",
            "ALTER TABLE forward ADD COLUMN owner text REFERENCES node (id), ADD COLUMN epoch bigint",
            "CREATE INDEX forward_channel_pending ON forward (channel, id) WHERE state = 'pending'",
            // A claim block belongs to the node that wrote it: a node recovers its own, a survivor a dead node's.
            "ALTER TABLE claim_block ADD COLUMN owner text REFERENCES node (id)",
        ]),
        (5, [
            // The answer a claimed request got, sealed with the data key: a retransmission of it,
            // on any node, gets that answer back (a duplicate answer only while there is none).
            // A table of its own, inserted into: an update of the claim would leave a dead row per request.
            """
            CREATE TABLE claim_answer (
                originator text NOT NULL,
                transmitted text NOT NULL,
                trace text NOT NULL,
                answer bytea NOT NULL,
                PRIMARY KEY (originator, transmitted, trace)
            )
            """,
        ]),
    ]

    /// The schema version the database is at (0 for an empty database).
    public func schemaVersion() throws(ClusterStoreError) -> Int {
        try exclusive { () throws(ClusterStoreError) -> Int in
            let exists = try rows("SELECT to_regclass('payswitch_schema') IS NOT NULL", "read the schema version")
            guard try exists.first.map({ row throws(ClusterStoreError) in try decode(row, as: Bool.self, "read the schema version") }) == true else {
                return 0
            }
            let version = try rows("SELECT coalesce(max(version), 0) FROM payswitch_schema", "read the schema version")
            return try version.first.map { row throws(ClusterStoreError) in Int(try decode(row, as: Int64.self, "read the schema version")) } ?? 0
        }
    }

    /// Brings the schema to the latest version; returns it. Safe when several nodes start at once:
    /// each migration runs in a transaction under an advisory lock, and one already applied is skipped.
    @discardableResult
    public func migrate() throws(ClusterStoreError) -> Int {
        for (version, statements) in ClusterStore.migrations {
            try transaction("migrate the schema to version \(version)") { () throws(ClusterStoreError) in
                let purpose = "migrate the schema to version \(version)"
                // Under the lock, so that two nodes never race to create the version table either.
                try rows("SELECT pg_advisory_xact_lock(\(ClusterStore.schemaLock))", purpose)
                try rows("CREATE TABLE IF NOT EXISTS payswitch_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                         purpose)
                let applied = try rows("SELECT 1 FROM payswitch_schema WHERE version = \(version)", purpose)
                guard applied.isEmpty else { return }
                for statement in statements { try rows(PostgresQuery(unsafeSQL: statement), purpose) }
                try rows("INSERT INTO payswitch_schema (version) VALUES (\(version))", purpose)
            }
        }
        return try schemaVersion()
    }

    /// The advisory lock migrations take (any number the rest of the schema does not use).
    static let schemaLock: Int64 = 0x7061_7973_7769  // "payswi"

    /// The first column of `row` as a `T`.
    func decode<T: PostgresDecodable>(_ row: PostgresRow, as type: T.Type, _ purpose: String) throws(ClusterStoreError) -> T {
        do {
            return try row.decode(T.self)
        } catch {
            throw ClusterStoreError(purpose: purpose, error: error)
        }
    }
}
