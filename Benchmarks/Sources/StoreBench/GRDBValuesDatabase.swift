import Foundation
import GRDB
import HSBStorage

/// A contender: the suite's store on GRDB as GRDB's own API reads and binds values
/// (`StatementArguments`, `Row`), rather than the SQLite calls on GRDB's statement handles that the
/// suite's `SQLiteDatabase` makes. Otherwise the same: DatabasePool, WAL, synchronous=FULL.
/// One SQLite database file through GRDB's `DatabasePool`: WAL mode with `synchronous=FULL` (a
/// committed transaction is on disk before `transaction` returns), one writer connection whose
/// transactions take turns, and read-only connections for `readTransaction` that see the last
/// commit and neither wait for the writer nor hold it up. Safe to share.
///
/// The schema is migrated by the store's own migrations (`SQLDatabase.migrate`), not GRDB's
/// migrator: one list serves SQLite and PostgreSQL, and stores written before GRDB keep their
/// history in `hsb_schema_migrations`.
public final class GRDBValuesDatabase: SQLDatabase {
    public var dialect: String { "sqlite" }
    public let location: String
    private let pool: DatabasePool

    public init(path: String) throws {
        location = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size=-32768") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous=FULL") }
    }

    @discardableResult
    public func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = pool.writeWithoutTransaction { db in
            committing(GRDBValuesSession(db: db), begin: "BEGIN IMMEDIATE", rollback: { try? db.execute(sql: "ROLLBACK") }, body)
        }
        return try result.get()
    }

    public func lockForMigration(_ session: any SQLSession) throws(StorageError) {}
    public func probeWritable(nowUnixMillis: Int64) -> (ok: Bool, detail: String) { (true, "benchmark") }

    static func describe(_ error: any Error) -> String { (error as? DatabaseError)?.message ?? "\(error)" }
}

/// Statements on one of the pool's connections, inside the transaction GRDB lent it for. Each
/// statement text is compiled once per connection (GRDB's statement cache).
struct GRDBValuesSession: SQLSession {
    let db: Database

    private func statement(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Statement {
        do {
            let statement = try db.cachedStatement(sql: sql)
            var arguments = StatementArguments()
            for parameter in parameters {
                switch parameter {
                case .integer(let value): arguments += [value]
                case .text(let value): arguments += [value]
                case .blob(let bytes): arguments += [Data(bytes)]
                case .null: arguments += [nil]
                }
            }
            try statement.setArguments(arguments)
            return statement
        } catch {
            throw StorageError(operation: "prepare", message: GRDBValuesDatabase.describe(error))
        }
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int {
        let statement = try statement(sql, parameters)
        do {
            try statement.execute()
        } catch {
            throw StorageError(operation: "execute", message: GRDBValuesDatabase.describe(error))
        }
        return db.changesCount
    }

    func queryValues(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[SQLValue]] {
        let statement = try statement(sql, parameters)
        var rows: [[SQLValue]] = []
        do {
            let cursor = try Row.fetchCursor(statement)
            while let row = try cursor.next() {
                var values: [SQLValue] = []
                values.reserveCapacity(row.count)
                for value in row.databaseValues {
                    switch value.storage {
                    case .null: values.append(.null)
                    case .int64(let number): values.append(.integer(number))
                    case .double(let number): values.append(.text(String(number)))
                    case .string(let text): values.append(.text(text))
                    case .blob(let data): values.append(.blob([UInt8](data)))
                    }
                }
                rows.append(values)
            }
        } catch {
            throw StorageError(operation: "query", message: GRDBValuesDatabase.describe(error))
        }
        return rows
    }
}
