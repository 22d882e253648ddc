/// Statements inside one open transaction. `?` marks a parameter in every dialect.
public protocol SQLSession {
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int
    /// Runs a query; each row's columns as text (nil for NULL).
    func query(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[String?]]
}

extension SQLSession {
    @discardableResult
    public func execute(_ sql: String) throws(StorageError) -> Int { try execute(sql, []) }
}

/// A database a service's store runs on: SQLite embedded, or PostgreSQL by URL.
public protocol SQLDatabase: Sendable {
    /// `sqlite` or `postgresql`, for logs and readiness.
    var dialect: String { get }
    /// Where it is, without secrets (a path, or host/port/database).
    var location: String { get }
    /// Runs `body` in one transaction, committed (durably) before this returns, rolled back if
    /// `body` throws.
    @discardableResult
    func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T
    /// Whether the database takes a committed write now, and what is wrong if not.
    func probeWritable(nowUnixMillis: Int64) -> (ok: Bool, detail: String)
    /// Serialises migrations across processes for the rest of `session`'s transaction.
    func lockForMigration(_ session: any SQLSession) throws(StorageError)
    /// Runs `body` in a transaction that only reads; a database may serve it on a connection of its
    /// own so that reads neither wait for writes nor hold them up.
    func readTransaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T
}

extension SQLDatabase {
    /// By default, reads share the one connection.
    public func readTransaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        try transaction(body)
    }
}

/// `body` between `begin` and `COMMIT` on `session`; `rollback` runs (outside the failed
/// statement) if anything throws. Every database's transactions go through here.
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

/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case null

    var text: String? {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        case .null: nil
        }
    }
}

/// A failed storage operation, with the database's own words.
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
    /// Statements separated by `;` at line ends; the same text must run on SQLite and PostgreSQL.
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension SQLDatabase {
    /// Applies the migrations not yet recorded, each in its own transaction, in version order.
    public func migrate(_ migrations: [Migration]) throws(StorageError) {
        try transaction { session throws(StorageError) in
            try lockForMigration(session)
            try session.execute(
                "CREATE TABLE IF NOT EXISTS hsb_schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at_unix_ms BIGINT NOT NULL)"
            )
        }
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            try transaction { session throws(StorageError) in
                try lockForMigration(session)
                let applied = try session.query("SELECT version FROM hsb_schema_migrations WHERE version = ?", [.integer(Int64(migration.version))])
                guard applied.isEmpty else { return }
                for statement in migration.sql.split(separator: ";\n").map({ $0.trimmingWhitespace() }) where !statement.isEmpty {
                    do throws(StorageError) {
                        try session.execute(statement.hasSuffix(";") ? String(statement.dropLast()) : statement)
                    } catch {
                        throw StorageError(operation: "migration \(migration.version) (\(migration.name))", message: error.message)
                    }
                }
                try session.execute(
                    "INSERT INTO hsb_schema_migrations (version, name, applied_at_unix_ms) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .integer(0)])
            }
        }
    }

    /// The highest schema version applied, or -1.
    public func schemaVersion() throws(StorageError) -> Int {
        try transaction { session throws(StorageError) in
            let rows = try session.query("SELECT MAX(version) FROM hsb_schema_migrations", [])
            guard let value = rows.first?.first ?? nil, let number = Int(value) else { return -1 }
            return number
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
