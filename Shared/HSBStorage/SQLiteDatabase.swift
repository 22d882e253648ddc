import Foundation
internal import GRDB
internal import GRDBSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One SQLite database file through GRDB's `DatabasePool`: WAL mode with `synchronous=FULL` (a
/// committed transaction is on disk before `transaction` returns), one writer connection whose
/// transactions take turns, and read-only connections for `readTransaction` that see the last
/// commit and neither wait for the writer nor hold it up. Safe to share.
///
/// The schema is migrated by the store's own migrations (`SQLDatabase.migrate`), not GRDB's
/// migrator: one list serves SQLite and PostgreSQL, and stores written before GRDB keep their
/// history in `hsb_schema_migrations`.
public final class SQLiteDatabase: SQLDatabase {
    public let path: String
    public var dialect: String { "sqlite" }
    public var location: String { path }
    private let pool: DatabasePool
    /// The file's identity when opened: a store whose file was removed or replaced is not ready.
    private let identity: (device: UInt64, inode: UInt64)

    /// Each connection's page cache: up to 32 MiB, filled only as pages are read. SQLite's default
    /// (2 MiB) is smaller than a partnership's store after a few thousand referrals, and every page
    /// past it was read again through a system call (about 4% of the orchestrator's time under load).
    static let cacheSizePragma = "PRAGMA cache_size=-32768"

    /// Opens (creating if needed) the file and runs the base migrations.
    public init(path: String) throws(StorageError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 4
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys=ON")
            try db.execute(sql: SQLiteDatabase.cacheSizePragma)
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // After the pool's set-up, which puts WAL connections at synchronous=NORMAL (a commit
            // could be lost to a power cut after it was acknowledged): every commit reaches the disk.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous=FULL") }
        } catch {
            throw StorageError(operation: "open \(path)", message: Self.describe(error))
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw StorageError(operation: "open \(path)", message: "file vanished after opening")
        }
        self.identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        try migrate(livenessMigrations)
    }

    @discardableResult
    public func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = pool.writeWithoutTransaction { db in
            committing(SQLiteSession(db: db), begin: "BEGIN IMMEDIATE", rollback: { try? db.execute(sql: "ROLLBACK") }, body)
        }
        return try result.get()
    }

    /// Runs `body` in a read-only transaction on a reader connection (a consistent snapshot of the
    /// last commit). A write inside fails; use `transaction` for anything that writes.
    public func readTransaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        var result: Result<T, StorageError>?
        do {
            // GRDB's read is already one transaction on a snapshot.
            try pool.read { db in
                do throws(StorageError) {
                    result = .success(try body(SQLiteSession(db: db)))
                } catch {
                    result = .failure(error)
                }
            }
        } catch {
            throw StorageError(operation: "read", message: Self.describe(error))
        }
        guard let result else { throw StorageError(operation: "read", message: "the database did not run it") }
        return try result.get()
    }

    /// SQLite's `BEGIN IMMEDIATE` already holds the database's write lock.
    public func lockForMigration(_ session: any SQLSession) throws(StorageError) {}

    /// Ready when the file is still the one opened and a committed write succeeds. A removed or
    /// replaced file is not ready, even though SQLite would keep writing to the unlinked inode.
    public func probeWritable(nowUnixMillis: Int64) -> (ok: Bool, detail: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return (false, "store file \(path) is missing")
        }
        guard UInt64(info.st_dev) == identity.device, UInt64(info.st_ino) == identity.inode else {
            return (false, "store file \(path) was replaced since it was opened")
        }
        do throws(StorageError) {
            try transaction { session throws(StorageError) in try writeLiveness(session, nowUnixMillis) }
        } catch {
            return (false, "store \(path) refused a write: \(error.message)")
        }
        return (true, "store \(path) open and writable")
    }

    /// SQLite's own message (GRDB's description adds the statement, which may hold a child's details).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        return error.message ?? "SQLite error \(error.resultCode.rawValue)"
    }
}

let livenessMigrations = [
    Migration(
        version: 0, name: "liveness", sql: "CREATE TABLE IF NOT EXISTS hsb_liveness (id BIGINT PRIMARY KEY, checked_at_unix_ms BIGINT NOT NULL)")
]

func writeLiveness(_ session: any SQLSession, _ now: Int64) throws(StorageError) {
    try session.execute(
        "INSERT INTO hsb_liveness (id, checked_at_unix_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at_unix_ms = excluded.checked_at_unix_ms",
        [.integer(now)])
}

/// Statements on one of the pool's connections, inside the transaction GRDB lent it for. Each
/// statement text is compiled once per connection (GRDB's statement cache); parameters are bound
/// and rows read through SQLite's own calls on GRDB's statement handle, which GRDB offers for this:
/// its `StatementArguments` and `Row` values cost about 45% more CPU per write (Benchmarks/StoreBench).
struct SQLiteSession: SQLSession {
    let db: Database

    /// Runs `body` on the compiled statement for `sql` with `parameters` bound, then resets it for its next use.
    private func with<T>(_ sql: String, _ parameters: [SQLValue], _ body: (OpaquePointer) throws(StorageError) -> T) throws(StorageError) -> T {
        let statement: OpaquePointer
        do {
            statement = try db.cachedStatement(sql: sql).sqliteStatement
        } catch {
            throw StorageError(operation: "prepare", message: SQLiteDatabase.describe(error))
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        guard Int(sqlite3_bind_parameter_count(statement)) == parameters.count else {
            throw StorageError(
                operation: "prepare", message: "the statement takes \(sqlite3_bind_parameter_count(statement)) parameters, \(parameters.count) given")
        }
        for (index, value) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, SQLiteSession.transient)
            case .blob(let bytes):
                bytes.withUnsafeBytes { buffer in
                    // SQLite copies the bytes; a zero-length blob needs a non-null pointer.
                    _ = sqlite3_bind_blob(
                        statement, position, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), SQLiteSession.transient)
                }
            case .null: sqlite3_bind_null(statement, position)
            }
        }
        return try body(statement)
    }

    /// SQLITE_TRANSIENT: SQLite copies what is bound before the call returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private var message: String { db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) } ?? "the connection is closed" }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int {
        try with(sql, parameters) { (statement) throws(StorageError) -> Int in
            var rc = sqlite3_step(statement)
            while rc == SQLITE_ROW { rc = sqlite3_step(statement) }
            guard rc == SQLITE_DONE else { throw StorageError(operation: "execute", message: message) }
            return db.changesCount
        }
    }

    func queryValues(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[SQLValue]] {
        try with(sql, parameters) { (statement) throws(StorageError) -> [[SQLValue]] in
            var rows: [[SQLValue]] = []
            let columns = sqlite3_column_count(statement)
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw StorageError(operation: "query", message: message) }
                var row: [SQLValue] = []
                row.reserveCapacity(Int(columns))
                for column in 0..<columns {
                    switch sqlite3_column_type(statement, column) {
                    case SQLITE_NULL: row.append(.null)
                    case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                    case SQLITE_BLOB:
                        let count = Int(sqlite3_column_bytes(statement, column))
                        let start = sqlite3_column_blob(statement, column)?.assumingMemoryBound(to: UInt8.self)
                        row.append(.blob(start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []))
                    default:
                        let text = sqlite3_column_text(statement, column)
                        let count = Int(sqlite3_column_bytes(statement, column))
                        row.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""))
                    }
                }
                rows.append(row)
            }
            return rows
        }
    }
}
