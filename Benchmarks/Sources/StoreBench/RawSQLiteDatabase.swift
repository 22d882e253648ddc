import CRawSQLite
import HSBStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The suite's SQLite store as it was before GRDB (release bc45f2b's `SQLiteDatabase`, on SQLite's C
/// API with a statement cache of its own), kept here as the contender GRDB is measured against.
/// One SQLite database file, in WAL mode with `synchronous=FULL`: a committed transaction is on
/// disk before `transaction` returns. Calls are serialised on one connection; safe to share.
public final class RawSQLiteDatabase: SQLDatabase {
    public let path: String
    public var dialect: String { "sqlite" }
    public var location: String { path }
    /// Guards `db`: every use of it happens inside this lock.
    private let lock = Mutex<Void>(())
    nonisolated(unsafe) private var db: OpaquePointer?
    /// Prepared statements by SQL text, reused across transactions; used only inside `lock`.
    private let statements = StatementCache()
    /// The file's identity when opened: a store whose file was removed or replaced is not ready.
    private let identity: (device: UInt64, inode: UInt64)
    /// A second, read-only connection for `readTransaction`: in WAL mode its readers see the last
    /// commit and neither wait for the writer nor hold it up. Opened on first use; guarded by its own lock.
    private let readerLock = Mutex<Void>(())
    nonisolated(unsafe) private var reader: OpaquePointer?
    private let readerStatements = StatementCache()

    /// Each connection's page cache: up to 32 MiB, filled only as pages are read. SQLite's default
    /// (2 MiB) is smaller than a partnership's store after a few thousand referrals, and every page
    /// past it was read again through a system call (about 4% of the orchestrator's time under load).
    static let cacheSizePragma = "PRAGMA cache_size=-32768"

    /// Opens (creating if needed) the file and runs the base migrations.
    public init(path: String) throws(StorageError) {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw StorageError(operation: "open \(path)", message: message)
        }
        sqlite3_busy_timeout(db, 5000)
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", Self.cacheSizePragma] {
            guard sqlite3_exec(db, pragma, nil, nil, nil) == SQLITE_OK else {
                let message = String(cString: sqlite3_errmsg(db))
                sqlite3_close(db)
                throw StorageError(operation: "open \(path)", message: message)
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            sqlite3_close(db)
            throw StorageError(operation: "open \(path)", message: "file vanished after opening")
        }
        self.identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        self.db = db
        try migrate(livenessMigrations)
    }

    deinit {
        statements.finalizeAll()
        readerStatements.finalizeAll()
        sqlite3_close(reader)
        sqlite3_close(db)
    }

    /// Runs `body` in a read-only transaction on the reader connection (a consistent snapshot of
    /// the last commit). A write inside fails; use `transaction` for anything that writes.
    public func readTransaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = readerLock.withLock { _ in
            if reader == nil {
                var opened: OpaquePointer?
                guard sqlite3_open_v2(path, &opened, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let opened else {
                    let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
                    sqlite3_close(opened)
                    return .failure(StorageError(operation: "open \(path) for reading", message: message))
                }
                sqlite3_busy_timeout(opened, 5000)
                _ = sqlite3_exec(opened, Self.cacheSizePragma, nil, nil, nil)
                reader = opened
            }
            return Self.run(reader!, cache: readerStatements, begin: "BEGIN", body)
        }
        return try result.get()
    }

    /// `body` between `begin` and `COMMIT` on `db`, rolled back if anything throws.
    private static func run<T>(
        _ db: OpaquePointer, cache: StatementCache, begin: String, _ body: (any SQLSession) throws(StorageError) -> T
    ) -> Result<T, StorageError> {
        committing(SQLiteSession(db: db, cache: cache), begin: begin, rollback: { _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }, body)
    }

    @discardableResult
    public func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = lock.withLock { _ in
            guard let db else { return .failure(StorageError(operation: "transaction", message: "database is closed")) }
            return Self.run(db, cache: statements, begin: "BEGIN IMMEDIATE", body)
        }
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

/// `body` between `begin` and `COMMIT`, as HSBStorage runs every transaction.
func committing<T>(
    _ session: any SQLSession, begin: String, rollback: () -> Void, _ body: (any SQLSession) throws(StorageError) -> T
) -> Result<T, StorageError> {
    do throws(StorageError) {
        try session.execute(begin)
        let value = try body(session)
        try session.execute("COMMIT")
        return .success(value)
    } catch {
        rollback()
        return .failure(error)
    }
}

/// Compiled statements keyed by their SQL text. SQL parsing and planning is a large share of a
/// small transaction's cost; every statement the store runs is one of a few dozen texts with `?`
/// parameters, so each is compiled once per connection. Not thread-safe: the database's lock
/// guards it.
final class StatementCache: @unchecked Sendable {
    private var statements: [String: OpaquePointer] = [:]
    /// Beyond this many texts, statements are compiled for one use and finalized (so that ad hoc
    /// SQL cannot grow the cache without bound).
    static let capacity = 128

    func statement(_ sql: String, db: OpaquePointer) throws(StorageError) -> (OpaquePointer, cached: Bool) {
        if let statement = statements[sql] { return (statement, true) }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StorageError(operation: "prepare", message: String(cString: sqlite3_errmsg(db)))
        }
        guard statements.count < Self.capacity else { return (statement, false) }
        statements[sql] = statement
        return (statement, true)
    }

    func finalizeAll() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
    }
}

struct SQLiteSession: SQLSession {
    let db: OpaquePointer
    let cache: StatementCache

    /// Runs `body` on the statement for `sql` with `parameters` bound, then resets it for its next use.
    private func with<T>(_ sql: String, _ parameters: [SQLValue], _ body: (OpaquePointer) throws(StorageError) -> T) throws(StorageError) -> T {
        let (statement, cached) = try cache.statement(sql, db: db)
        defer {
            if cached {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            } else {
                sqlite3_finalize(statement)
            }
        }
        for (index, value) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            case .blob(let bytes):
                bytes.withUnsafeBytes { buffer in
                    // SQLITE_TRANSIENT: SQLite copies the bytes; a zero-length blob needs a non-null pointer.
                    _ = sqlite3_bind_blob(
                        statement, position, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count),
                        unsafeBitCast(-1, to: sqlite3_destructor_type.self))
                }
            case .null: sqlite3_bind_null(statement, position)
            }
        }
        return try body(statement)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int {
        try with(sql, parameters) { (statement) throws(StorageError) -> Int in
            var rc = sqlite3_step(statement)
            while rc == SQLITE_ROW { rc = sqlite3_step(statement) }
            guard rc == SQLITE_DONE else {
                throw StorageError(operation: "execute", message: String(cString: sqlite3_errmsg(db)))
            }
            return Int(sqlite3_changes(db))
        }
    }

    func queryValues(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[SQLValue]] {
        try with(sql, parameters) { (statement) throws(StorageError) -> [[SQLValue]] in
            var rows: [[SQLValue]] = []
            let columns = sqlite3_column_count(statement)
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw StorageError(operation: "query", message: String(cString: sqlite3_errmsg(db))) }
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
