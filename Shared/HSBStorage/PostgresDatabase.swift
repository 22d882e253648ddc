internal import CPostgres
import Synchronization

/// A PostgreSQL database reached by URL (`postgresql://user:password@host:port/database`),
/// through libpq on one connection; calls are serialised. A dropped connection is re-established
/// on the next call. Commits are durable when the server's `synchronous_commit` is on (its default).
public final class PostgresDatabase: SQLDatabase {
    public var dialect: String { "postgresql" }
    public let location: String
    private let url: String
    /// Guards `connection`: every use of it happens inside this lock.
    private let lock = Mutex<Void>(())
    nonisolated(unsafe) private var connection: OpaquePointer?
    /// Statements prepared on `connection`, by SQL text; forgotten when the connection is re-established.
    private let prepared = PreparedStatements()
    /// A second connection for `readTransaction`: a read-only snapshot that neither waits for the
    /// writer's transaction nor holds it up. Opened on first use; guarded by its own lock.
    private let readerLock = Mutex<Void>(())
    nonisolated(unsafe) private var reader: OpaquePointer?
    private let readerPrepared = PreparedStatements()

    public init(url: String) throws(StorageError) {
        self.url = url
        guard let conn = PQconnectdb(url) else { throw StorageError(operation: "connect", message: "libpq could not allocate a connection") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingWhitespace()
            PQfinish(conn)
            throw StorageError(operation: "connect", message: message)
        }
        let host = PQhost(conn).map { String(cString: $0) } ?? "?"
        let port = PQport(conn).map { String(cString: $0) } ?? "?"
        let database = PQdb(conn).map { String(cString: $0) } ?? "?"
        self.location = "\(host):\(port)/\(database)"
        self.connection = conn
        try migrate(livenessMigrations)
    }

    deinit {
        PQfinish(connection)
        PQfinish(reader)
    }

    /// Runs `body` in a read-only, repeatable-read transaction on the reader connection.
    public func readTransaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = readerLock.withLock { _ in
            Self.run(on: &reader, url: url, prepared: readerPrepared, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
        }
        return try result.get()
    }

    /// One transaction on `connection` (connected, or re-established, first).
    private static func run<T>(
        on connection: inout OpaquePointer?, url: String, prepared: PreparedStatements, begin: String,
        _ body: (any SQLSession) throws(StorageError) -> T
    ) -> Result<T, StorageError> {
        if connection == nil { connection = PQconnectdb(url) }
        guard let conn = connection else { return .failure(StorageError(operation: "connect", message: "libpq could not allocate a connection")) }
        if PQstatus(conn) != CONNECTION_OK {
            PQreset(conn)
            prepared.forgetAll()  // a new server session has none of them
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            return .failure(StorageError(operation: "connect", message: String(cString: PQerrorMessage(conn)).trimmingWhitespace()))
        }
        let session = PostgresSession(conn: conn, prepared: prepared)
        do throws(StorageError) {
            try session.execute(begin)
        } catch {
            // A connection the server ended since its last use (a restart, a failover, an
            // administrator) fails at BEGIN, before anything was done: connect again and begin once more.
            guard PQstatus(conn) == CONNECTION_BAD else { return .failure(error) }
            PQreset(conn)
            prepared.forgetAll()
            guard PQstatus(conn) == CONNECTION_OK else {
                return .failure(StorageError(operation: "connect", message: String(cString: PQerrorMessage(conn)).trimmingWhitespace()))
            }
            do throws(StorageError) { try session.execute(begin) } catch { return .failure(error) }
        }
        return committing(session, begin: nil, rollback: { PQclear(PQexec(conn, "ROLLBACK")) }, body)
    }

    @discardableResult
    public func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = lock.withLock { _ in
            Self.run(on: &connection, url: url, prepared: prepared, begin: "BEGIN", body)
        }
        return try result.get()
    }

    /// A transaction-scoped advisory lock: two processes starting together migrate one at a time.
    public func lockForMigration(_ session: any SQLSession) throws(StorageError) {
        _ = try session.query("SELECT pg_advisory_xact_lock(4817001)", [])
    }

    public func probeWritable(nowUnixMillis: Int64) -> (ok: Bool, detail: String) {
        do throws(StorageError) {
            try transaction { session throws(StorageError) in try writeLiveness(session, nowUnixMillis) }
        } catch {
            return (false, "PostgreSQL \(location) refused a write: \(error.message)")
        }
        return (true, "PostgreSQL \(location) open and writable")
    }
}

/// Names of the statements prepared on one connection, by SQL text. Every statement with parameters
/// is one of a few dozen texts: preparing each once spares the server parsing and planning it on
/// every call. Not thread-safe: the database's lock guards it.
final class PreparedStatements: @unchecked Sendable {
    private var names: [String: String] = [:]
    private var counter = 0
    /// Beyond this many texts, statements run unprepared (ad hoc SQL cannot grow the set without bound).
    static let capacity = 128

    func name(for sql: String) -> (name: String, isNew: Bool)? {
        if let name = names[sql] { return (name, false) }
        guard names.count < Self.capacity else { return nil }
        counter += 1
        let name = "hsb_\(counter)"
        names[sql] = name
        return (name, true)
    }

    func forget(_ sql: String) { names[sql] = nil }
    func forgetAll() {
        names.removeAll()
        counter = 0
    }
}

struct PostgresSession: SQLSession {
    let conn: OpaquePointer
    let prepared: PreparedStatements

    /// `?` placeholders become `$1`, `$2`, ... (the suite's SQL has no `?` inside literals).
    static func numbered(_ sql: String) -> String {
        var out = ""
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                out += "$\(index)"
            } else {
                out.append(character)
            }
        }
        return out
    }

    private func check(_ result: OpaquePointer?) throws(StorageError) -> OpaquePointer {
        guard let result else { throw StorageError(operation: "execute", message: String(cString: PQerrorMessage(conn)).trimmingWhitespace()) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            var message = String(cString: PQresultErrorMessage(result)).trimmingWhitespace()
            if let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { message += " [SQLSTATE \(String(cString: state))]" }
            PQclear(result)
            throw StorageError(operation: "execute", message: message)
        }
        return result
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> OpaquePointer {
        // Statements without parameters (transaction control, DDL) run as they are.
        if parameters.isEmpty { return try check(PQexec(conn, sql)) }
        let texts = parameters.map(\.text)
        var pointers: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in pointers { free(pointer) } }
        guard let (name, isNew) = prepared.name(for: sql) else {
            return try check(
                pointers.withUnsafeMutableBufferPointer { buffer in
                    buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                        PQexecParams(conn, Self.numbered(sql), Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
                    }
                })
        }
        if isNew {
            do throws(StorageError) {
                PQclear(try check(PQprepare(conn, name, Self.numbered(sql), Int32(parameters.count), nil)))
            } catch {
                prepared.forget(sql)
                throw error
            }
        }
        return try check(
            pointers.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                    PQexecPrepared(conn, name, Int32(parameters.count), values.baseAddress, nil, nil, 0)
                }
            })
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func queryValues(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[SQLValue]] {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        let rows = PQntuples(result)
        let columns = PQnfields(result)
        // Types by OID: bool 16, bytea 17; int8 20, int2 21, int4 23.
        let types = (0..<columns).map { PQftype(result, $0) }
        var out: [[SQLValue]] = []
        out.reserveCapacity(Int(rows))
        for row in 0..<rows {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                guard PQgetisnull(result, row, column) == 0, let value = PQgetvalue(result, row, column) else {
                    values.append(.null)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: length)
                switch types[Int(column)] {
                case 17:
                    // `\x` then hex digits.
                    guard length >= 2, let decoded = SQLValue.bytes(fromHex: UnsafeBufferPointer(rebasing: bytes[2...])) else {
                        throw StorageError(operation: "query", message: "a bytea column is not in hex form")
                    }
                    values.append(.blob(decoded))
                case 16:
                    // boolean: `t` or `f`.
                    values.append(.integer(length == 1 && bytes[0] == UInt8(ascii: "t") ? 1 : 0))
                case 20, 21, 23:
                    values.append(Int64(String(decoding: bytes, as: UTF8.self)).map(SQLValue.integer) ?? .null)
                default:
                    values.append(.text(String(decoding: bytes, as: UTF8.self)))
                }
            }
            out.append(values)
        }
        return out
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
