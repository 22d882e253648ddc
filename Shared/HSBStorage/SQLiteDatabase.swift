internal import CSQLite
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed storage operation, with SQLite's own words.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }
}

/// A schema change, applied once, in order, inside a transaction.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// One SQLite database file, opened in WAL mode with `synchronous=FULL` so a committed write is
/// on disk before the call returns. Calls are serialised; the type is safe to share.
public final class SQLiteDatabase: Sendable {
    public let path: String
    private let handle: Mutex<OpaquePointer?>
    /// The file's identity when opened: a store whose file was removed or replaced is not ready.
    private let identity: (device: UInt64, inode: UInt64)

    /// The migrations every store runs first: the version table and the liveness row.
    static let baseMigrations = [
        Migration(
            version: 0, name: "liveness",
            sql: "CREATE TABLE IF NOT EXISTS hsb_liveness (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at_unix_ms INTEGER NOT NULL);")
    ]

    public init(path: String, migrations: [Migration] = []) throws(StorageError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw StorageError(operation: "open \(path)", message: message)
        }
        sqlite3_busy_timeout(db, 5000)
        var info = stat()
        guard stat(path, &info) == 0 else {
            sqlite3_close(db)
            throw StorageError(operation: "open \(path)", message: "file vanished after opening")
        }
        self.identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        self.handle = Mutex(db)
        try execute("PRAGMA journal_mode=WAL;")
        try execute("PRAGMA synchronous=FULL;")
        try migrate(Self.baseMigrations + migrations)
    }

    deinit {
        handle.withLock { db in
            sqlite3_close(db)
            db = nil
        }
    }

    /// Runs one or more statements with no result rows.
    public func execute(_ sql: String) throws(StorageError) {
        let result: StorageError? = handle.withLock { db in
            var error: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(db, sql, nil, nil, &error)
            guard rc == SQLITE_OK else {
                let message = error.map { String(cString: $0) } ?? "error \(rc)"
                sqlite3_free(error)
                return StorageError(operation: "execute", message: message)
            }
            return nil
        }
        if let result { throw result }
    }

    /// Runs `sql` once per row of `parameters`, binding text or integers, inside one transaction.
    public func write(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) {
        let result: StorageError? = handle.withLock { db in
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
                return StorageError(operation: "prepare", message: String(cString: sqlite3_errmsg(db)))
            }
            defer { sqlite3_finalize(statement) }
            for (index, value) in parameters.enumerated() {
                let position = Int32(index + 1)
                switch value {
                case .integer(let number): sqlite3_bind_int64(statement, position, number)
                case .text(let text): sqlite3_bind_text(statement, position, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
                case .null: sqlite3_bind_null(statement, position)
                }
            }
            let rc = sqlite3_step(statement)
            guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
                return StorageError(operation: "write", message: String(cString: sqlite3_errmsg(db)))
            }
            return nil
        }
        if let result { throw result }
    }

    /// The first column of the first row of `sql`, as an integer.
    public func scalar(_ sql: String) throws(StorageError) -> Int64? {
        let result: Result<Int64?, StorageError> = handle.withLock { db in
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
                return .failure(StorageError(operation: "prepare", message: String(cString: sqlite3_errmsg(db))))
            }
            defer { sqlite3_finalize(statement) }
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW { return .success(sqlite3_column_int64(statement, 0)) }
            if rc == SQLITE_DONE { return .success(nil) }
            return .failure(StorageError(operation: "query", message: String(cString: sqlite3_errmsg(db))))
        }
        return try result.get()
    }

    /// Applies the migrations not yet recorded, each in its own transaction.
    func migrate(_ migrations: [Migration]) throws(StorageError) {
        try execute(
            "CREATE TABLE IF NOT EXISTS hsb_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);"
        )
        let applied = try scalar("SELECT COALESCE(MAX(version), -1) FROM hsb_schema_migrations;") ?? -1
        for migration in migrations.sorted(by: { $0.version < $1.version }) where Int64(migration.version) > applied {
            try execute("BEGIN IMMEDIATE;")
            do throws(StorageError) {
                try execute(migration.sql)
                try write(
                    "INSERT INTO hsb_schema_migrations (version, name) VALUES (?, ?);", [.integer(Int64(migration.version)), .text(migration.name)])
                try execute("COMMIT;")
            } catch {
                try? execute("ROLLBACK;")
                throw StorageError(operation: "migration \(migration.version) (\(migration.name))", message: error.message)
            }
        }
    }

    /// The highest schema version applied.
    public func schemaVersion() throws(StorageError) -> Int {
        Int(try scalar("SELECT COALESCE(MAX(version), -1) FROM hsb_schema_migrations;") ?? -1)
    }

    /// Whether the store can take a write now: its file is still the one opened, and a committed
    /// write succeeds. A removed or replaced file is not ready, even though SQLite would keep
    /// writing to the unlinked inode.
    public func probeWritable(nowUnixMillis: Int64) -> (ok: Bool, detail: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return (false, "store file \(path) is missing")
        }
        guard UInt64(info.st_dev) == identity.device, UInt64(info.st_ino) == identity.inode else {
            return (false, "store file \(path) was replaced since it was opened")
        }
        do throws(StorageError) {
            try write(
                "INSERT INTO hsb_liveness (id, checked_at_unix_ms) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at_unix_ms = excluded.checked_at_unix_ms;",
                [.integer(nowUnixMillis)])
        } catch {
            return (false, "store \(path) refused a write: \(error.message)")
        }
        return (true, "store \(path) open and writable")
    }
}

/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case null
}
