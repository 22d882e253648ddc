/// Statements inside one open transaction. `?` marks a parameter in every dialect.
public protocol SQLSession {
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int
    /// Runs a query; each row's columns as values: `.null`, `.integer` for integer columns, `.blob`
    /// for binary ones (bytes as they are, no text on the way), `.text` for the rest.
    func queryValues(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[SQLValue]]
}

extension SQLSession {
    /// Runs a query; each row's columns as text (nil for NULL), a binary column as lower-case hex.
    public func query(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[String?]] {
        try queryValues(sql, parameters).map { $0.map(\.columnText) }
    }

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
/// `begin` nil: the caller has begun the transaction already.
func committing<T>(
    _ session: any SQLSession, begin: String?, rollback: () -> Void, _ body: (any SQLSession) throws(StorageError) -> T
) -> Result<T, StorageError> {
    do throws(StorageError) {
        if let begin { try session.execute(begin) }
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
    /// Bytes, for a binary column (a protobuf document kept whole).
    case blob([UInt8])
    case null

    /// The value as PostgreSQL's text input reads it (bytes in its hex form, `\\x…`).
    var text: String? {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        case .blob(let bytes): "\\x" + Self.hex(bytes)
        case .null: nil
        }
    }

    /// A text or integer parameter for an optional value: NULL when absent.
    public static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.integer) ?? .null }

    /// Lower-case hex, written straight into the string's storage.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        if bytes.isEmpty { return "" }
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            let digits: StaticString = "0123456789abcdef"
            let table = digits.utf8Start
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = table[Int(byte >> 4)]
                out[2 * index + 1] = table[Int(byte & 0x0f)]
            }
            return bytes.count * 2
        }
    }

    /// The bytes a column's hex text holds; nil when it is not hex (odd length, another character).
    public static func bytes(fromHex text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { bytes(fromHex: $0) }
    }

    /// The bytes hex digits (UTF-8) stand for; nil when they are not hex.
    static func bytes(fromHex digits: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: digits.count / 2) { buffer, count in
            for index in 0..<digits.count / 2 {
                guard let high = nibble(digits[2 * index]), let low = nibble(digits[2 * index + 1]) else {
                    valid = false
                    count = index
                    return
                }
                buffer[index] = high << 4 | low
            }
            count = digits.count / 2
        }
        return valid ? out : nil
    }

    /// The bytes of a `.blob`, or of a `.text` holding hex; nil otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case .blob(let bytes): bytes
        case .text(let text): SQLValue.bytes(fromHex: text)
        default: nil
        }
    }

    /// An integer value, or the integer a text holds.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .text(let text): Int64(text)
        default: nil
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
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    /// Statements separated by `;` at line ends; the same text must run on SQLite and PostgreSQL,
    /// but for the token `$BLOB`, which becomes each dialect's binary type (BLOB, BYTEA).
    public var sql: String
    /// What SQL cannot do, run after `sql` in the same transaction: moving records into new
    /// tables, say, which means decoding them. It gets the session and the dialect.
    public var transform: (@Sendable (any SQLSession, String) throws(StorageError) -> Void)?

    public init(
        version: Int, name: String, sql: String, transform: (@Sendable (any SQLSession, String) throws(StorageError) -> Void)? = nil
    ) {
        self.version = version
        self.name = name
        self.sql = sql
        self.transform = transform
    }

    /// `sql` as `dialect` runs it.
    func statements(for dialect: String) -> [String] {
        let text = sql.replacing("$BLOB", with: dialect == "postgresql" ? "BYTEA" : "BLOB")
        return text.split(separator: ";\n").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }.map {
            $0.hasSuffix(";") ? String($0.dropLast()) : $0
        }
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
                do throws(StorageError) {
                    for statement in migration.statements(for: dialect) { try session.execute(statement) }
                    try migration.transform?(session, dialect)
                } catch {
                    throw StorageError(operation: "migration \(migration.version) (\(migration.name))", message: error.message)
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
