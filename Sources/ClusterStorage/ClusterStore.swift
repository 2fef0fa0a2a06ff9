public import Logging
internal import NIOCore
internal import NIOPosix
internal import NIOConcurrencyHelpers
import PostgresNIO

/// The state several switch nodes share in one PostgreSQL database: the schema's version, the
/// nodes with their epochs and leases, the claims on forwarded requests and the STAN blocks.
///
/// Every shared write is a compare-and-set checked by the database: a node's epoch is raised when
/// it joins and when a survivor fences it, and a write of a node names the epoch it holds, so a
/// node that lost its lease (stopped, partitioned) changes nothing after the takeover. The switch
/// runs on Dispatch, not on Swift concurrency: each call blocks its thread until PostgreSQL has
/// answered (postgres-nio runs the connection on an event loop thread of its own).
///
/// A call that finds the connection closed (the server restarted, the network cut) opens a new one
/// first; a call that fails fails, and its caller tries again in its own time.
///
/// `@unchecked Sendable`: the connection is replaced only under ``serial``, as every use of it is.
public final class ClusterStore: @unchecked Sendable {
    private var connection: PostgresConnection
    private let configuration: PostgresConnection.Configuration
    /// Run on each new connection after the first, with ``serial`` held (a node takes its lock again).
    private var reconnected: (@Sendable (ClusterStore) throws(ClusterStoreError) -> Void)?
    let logger: Logger
    /// The cluster node this store writes for, as the switch's storage: the forward items and claim
    /// blocks it writes are the node's, and it reads back only the node's claim blocks. Nil outside a cluster.
    public let member: NodeLease?
    /// One caller at a time on the connection: a transaction's statements must not interleave
    /// with another thread's.
    private let serial = NIOLock()

    private init(connection: PostgresConnection, configuration: PostgresConnection.Configuration, logger: Logger, member: NodeLease?) {
        self.connection = connection
        self.configuration = configuration
        self.logger = logger
        self.member = member
    }

    /// Opens a connection to the database at `url` (`postgres://user[:password]@host[:port]/database`),
    /// for the cluster node holding `member` when it is one.
    public static func connect(_ url: String, member: NodeLease? = nil,
                               logger: Logger = Logger(label: "payswitch.cluster")) throws(ClusterStoreError) -> ClusterStore {
        let location = try ClusterStoreLocation(parsing: url)
        let configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: location.password, database: location.database, tls: .disable)
        let connection = try open(configuration, "connect to \(location.redacted)", logger: logger)
        return ClusterStore(connection: connection, configuration: configuration, logger: logger, member: member)
    }

    private static func open(_ configuration: PostgresConnection.Configuration, _ purpose: String,
                             logger: Logger) throws(ClusterStoreError) -> PostgresConnection {
        try waiting(purpose) {
            PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger)
        }
    }

    /// Closes the connection (for good: no call reconnects after).
    public func close() {
        serial.withLock {
            closed = true
            let connection = connection
            _ = try? ClusterStore.waiting("close") { connection.close() }
        }
    }

    /// Set by ``close()``; under ``serial``.
    private var closed = false

    /// Runs `body` on each new connection after a reconnection (before any other call uses it).
    func whenReconnected(_ body: @escaping @Sendable (ClusterStore) throws(ClusterStoreError) -> Void) {
        serial.withLock { reconnected = body }
    }

    deinit {
        // A store dropped unclosed still closes its connection; it waits, as close() does,
        // except on postgres-nio's own event loop, where waiting would never end.
        guard !connection.isClosed else { return }
        let closing: EventLoopFuture<Void> = connection.close()
        if !connection.eventLoop.inEventLoop { _ = try? closing.wait() }
    }

    /// Runs `body` with the connection to itself (see ``serial``); every public operation does.
    func exclusive<T>(_ body: () throws(ClusterStoreError) -> T) throws(ClusterStoreError) -> T {
        serial.lock()
        defer { serial.unlock() }
        return try body()
    }

    /// Runs `body` in a transaction, with the connection to itself: committed when it returns,
    /// rolled back when it throws.
    func transaction<T>(_ purpose: String, _ body: () throws(ClusterStoreError) -> T) throws(ClusterStoreError) -> T {
        try exclusive { () throws(ClusterStoreError) -> T in
            try rows("BEGIN", purpose)
            do throws(ClusterStoreError) {
                let result = try body()
                try rows("COMMIT", purpose)
                return result
            } catch {
                _ = try? rows("ROLLBACK", purpose)
                throw error
            }
        }
    }

    /// Runs `query` and returns its rows; on a new connection first when the last one closed.
    @discardableResult
    func rows(_ query: PostgresQuery, _ purpose: String) throws(ClusterStoreError) -> [PostgresRow] {
        if connection.isClosed && !closed { try reconnect(purpose) }
        let connection = connection
        return try ClusterStore.waiting(purpose) { connection.query(query, logger: logger) }.rows
    }

    /// Runs `query` as the statement `Statement` prepared on the connection: parsed and planned once
    /// per connection instead of per call (for a batch of the switch's writes, most of PostgreSQL's
    /// work). `query` must come from the template that gave `Statement.sql` (same text, other values).
    func rows<Statement: PreparedText>(prepared _: Statement.Type, _ query: PostgresQuery,
                                       _ purpose: String) throws(ClusterStoreError) -> [PostgresRow] {
        assert(query.sql == Statement.sql, "\(Statement.self): the query is not the prepared text")
        if connection.isClosed && !closed { try reconnect(purpose) }
        let connection = connection, logger = logger
        let statement = PreparedQuery<Statement>(bindings: query.binds)
        return try ClusterStore.waiting(purpose) {
            let promise = connection.eventLoop.makePromise(of: [PostgresRow].self)
            // postgres-nio executes prepared statements only from async code: a task on the
            // connection's event loop (``EventLoopTaskExecutor``).
            Task(executorPreference: EventLoopTaskExecutor(connection.eventLoop)) {
                do {
                    var rows: [PostgresRow] = []
                    for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                    promise.succeed(rows)
                } catch {
                    promise.fail(error)
                }
            }
            return promise.futureResult
        }
    }

    /// Replaces the closed connection (``serial`` held).
    private func reconnect(_ purpose: String) throws(ClusterStoreError) {
        connection = try ClusterStore.open(configuration, purpose, logger: logger)
        logger.warning("reconnected to the cluster's database")
        if let reconnected { try reconnected(self) }
    }

    /// Waits for what `start` began on postgres-nio's event loop: the bridge from the switch's
    /// threads (and tests), which never run on that loop.
    static func waiting<T: Sendable>(_ purpose: String, _ start: () -> EventLoopFuture<T>) throws(ClusterStoreError) -> T {
        do {
            return try start().wait()
        } catch {
            throw ClusterStoreError(purpose: purpose, error: error)
        }
    }
}

/// The name and text of a statement ``ClusterStore`` prepares on its connection.
protocol PreparedText {
    static var name: String { get }
    /// The text, with `$n` parameters: made by the template the calls use, from sample values.
    static var sql: String { get }
}

/// Runs the tasks that execute prepared statements on the connection's event loop: the statement
/// is written and its rows read there with no thread between (a task on the cooperative pool adds
/// two hops per statement), and ``ClusterStore`` can block its caller, even one on that pool, without
/// waiting for a thread of the pool.
final class EventLoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// A ``PreparedText`` with one call's parameters, as postgres-nio executes it (preparing it first
/// on a connection that has not yet).
struct PreparedQuery<Text: PreparedText>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { Text.name }
    static var sql: String { Text.sql }
    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// A failed call to the cluster's database: what was being done and PostgreSQL's own message
/// (its SQLSTATE and text, never a query's parameters: they may hold card or account data).
public struct ClusterStoreError: Error, CustomStringConvertible, Sendable {
    /// What the store was doing: `claim a request`, `migrate the schema to version 1`.
    public var purpose: String
    public var reason: String
    /// PostgreSQL's SQLSTATE (`23505` …), when the server answered with an error.
    public var sqlState: String?

    public init(purpose: String, reason: String, sqlState: String? = nil) {
        self.purpose = purpose
        self.reason = reason
        self.sqlState = sqlState
    }

    init(purpose: String, error: any Error) {
        if let error = error as? ClusterStoreError {
            self = error
        } else if let error = error as? PSQLError {
            let message = error.serverInfo?[.message]
            self.init(purpose: purpose, reason: message ?? "\(error.code)", sqlState: error.serverInfo?[.sqlState])
        } else {
            self.init(purpose: purpose, reason: "\(error)")
        }
    }

    public var description: String {
        "cannot \(purpose): \(reason)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }
}

/// A `postgres://` URL taken apart.
struct ClusterStoreLocation: Equatable {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String

    init(parsing url: String) throws(ClusterStoreError) {
        func invalid(_ reason: String) -> ClusterStoreError {
            // The URL is not repeated: it may carry a password.
            ClusterStoreError(purpose: "read the storage URL", reason: reason)
        }
        var rest = Substring(url)
        guard let scheme = ["postgres://", "postgresql://"].first(where: { rest.hasPrefix($0) }) else {
            throw invalid("it must start with postgres:// or postgresql://")
        }
        rest = rest.dropFirst(scheme.count)
        guard let at = rest.lastIndex(of: "@") else { throw invalid("it names no user (postgres://user@host:port/database)") }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            user = String(credentials[..<colon])
            password = String(credentials[credentials.index(after: colon)...])
        } else {
            user = String(credentials)
        }
        guard !user.isEmpty else { throw invalid("the user is empty") }
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("it names no database (…/database)") }
        database = String(rest[rest.index(after: slash)...])
        guard !database.isEmpty, !database.contains("?") else { throw invalid("the database name is empty or has options (not supported)") }
        let address = rest[..<slash]
        if let colon = address.lastIndex(of: ":") {
            host = String(address[..<colon])
            guard let port = Int(address[address.index(after: colon)...]), (1...65_535).contains(port) else {
                throw invalid("the port is not a number from 1 to 65535")
            }
            self.port = port
        } else {
            host = String(address)
            port = 5432
        }
        guard !host.isEmpty else { throw invalid("the host is empty") }
    }

    /// The URL without its password, for messages.
    var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}
