internal import GRDB
internal import GRDBSQLite

/// Binds values in order to a prepared statement straight through SQLite's C API, then runs it: a
/// row per transaction goes through here, and GRDB's boxed arguments cost more than the insert.
struct Binder {
    private let handle: SQLiteStatement
    private var index: Int32 = 0

    init(_ statement: Statement) {
        handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    mutating func text(_ value: String?) {
        index += 1
        guard var value else { return }
        let position = index
        value.withUTF8 { bytes in _ = sqlite3_bind_text(handle, position, bytes.baseAddress, Int32(bytes.count), Binder.transient) }
    }

    mutating func integer(_ value: Int64?) {
        index += 1
        if let value { sqlite3_bind_int64(handle, index, value) }
    }

    mutating func blob(_ value: [UInt8]?) {
        index += 1
        let position = index
        value?.withUnsafeBytes { bytes in _ = sqlite3_bind_blob(handle, position, bytes.baseAddress, Int32(bytes.count), Binder.transient) }
    }

    func step(_ db: Database) throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound value before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
