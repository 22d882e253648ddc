import Dispatch
internal import HSBSafeguarding
internal import Logging
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import PostgresNIO
import Synchronization

/// A PostgreSQL database reached by URL (see `PostgresURL`), through postgres-nio: its wire
/// protocol on SwiftNIO's event loops, TLS through swift-nio-ssl when the URL's `sslmode` asks,
/// every parameter bound (never spliced into SQL).
///
/// A store's transactions are synchronous closures run on the service's thread pool (the same
/// code runs on SQLite, whose calls block). Each statement is sent on a connection's event loop and
/// the thread-pool thread waits for its result; nothing waits on an event loop or on Swift's
/// cooperative pool, so a test or a command that calls the store from a task cannot starve the
/// work its own call needs. That is also why connections come from `ConnectionPool` below, driven
/// by event-loop futures, and not from postgres-nio's `PostgresClient`, whose pool runs as a
/// task on the cooperative pool (see docs/STORE.md). The links run on an event loop of their own.
///
/// Writes in one process take turns on one connection at a time: every write appends to the
/// access log's hash chain, whose head row each write transaction holds to its commit, so two
/// concurrent write transactions of one store would only queue on that row (and could deadlock on
/// records they touch in different orders). The group commit puts many writes in each turn.
/// Reads (`readTransaction`) take other pooled connections and run beside the writer.
/// Commits are durable when the server's `synchronous_commit` is on (its default).
public final class PostgresDatabase: SQLDatabase {
    public var dialect: String { "postgresql" }
    public let location: String
    private let pool: ConnectionPool
    /// Held for the whole of a write transaction (see above).
    private let writer = DispatchSemaphore(value: 1)

    /// Connects (once, to check the URL, the credentials and TLS now rather than at the first
    /// write) and applies the liveness table's migration. `maximumConnections`: the writer's and
    /// the readers' together.
    public init(url: String, maximumConnections: Int = 4) throws(StorageError) {
        let parsed = try PostgresURL(url)
        location = parsed.location
        pool = try ConnectionPool(url: parsed, maximumConnections: max(2, maximumConnections))
        try pool.release(pool.acquire())
        try migrate(livenessMigrations)
    }

    deinit { pool.closeAll() }

    @discardableResult
    public func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        writer.wait()
        defer { writer.signal() }
        return try run(begin: "BEGIN", body).get()
    }

    /// Runs `body` in a read-only, repeatable-read transaction on a connection of its own.
    public func readTransaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        try run(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body).get()
    }

    /// One transaction on a pooled connection; a connection that failed under it is closed, not reused.
    private func run<T>(begin: String, _ body: (any SQLSession) throws(StorageError) -> T) -> Result<T, StorageError> {
        let connection: PostgresConnection
        do throws(StorageError) { connection = try pool.acquire() } catch { return .failure(error) }
        let session = PostgresSession(connection: connection, logger: pool.logger, statements: pool.statements)
        let result = committing(session, begin: begin, rollback: { _ = try? session.execute("ROLLBACK") }, body)
        pool.release(connection)
        return result
    }

    /// A transaction-scoped advisory lock: two processes starting together migrate one at a time.
    public func lockForMigration(_ session: any SQLSession) throws(StorageError) {
        _ = try session.queryValues("SELECT pg_advisory_xact_lock(4817001)", [])
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

/// Up to `maximumConnections` connections, opened when needed and kept while they work; a caller
/// that finds them all in use waits (at most the URL's connect timeout) for one to come back.
final class ConnectionPool: Sendable {
    struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var nextID = 0
        var closed = false
    }

    let url: PostgresURL
    let maximumConnections: Int
    let logger: Logger
    let statements = NumberedStatements()
    /// The event loop every store link of the process runs on: a thread of its own, so no service
    /// code on the services' event loops can ever stand between a statement and its reply.
    static let links = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let configuration: PostgresConnection.Configuration
    private let state = Mutex(State())
    /// One permit per connection that may be in use.
    private let permits: DispatchSemaphore

    init(url: PostgresURL, maximumConnections: Int) throws(StorageError) {
        self.url = url
        self.maximumConnections = maximumConnections
        self.permits = DispatchSemaphore(value: maximumConnections)
        var logger = Logger(label: "hsb.storage.postgres")
        logger.logLevel = .warning
        self.logger = logger
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls = try Self.tls(for: url)
        } catch {
            throw StorageError(operation: "database TLS", message: "sslmode \(url.tls.rawValue): \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(Int64(url.connectTimeoutSeconds))
        var startup: [(String, String)] = []
        if let options = url.options { startup.append(("options", options)) }
        startup.append(("application_name", url.applicationName ?? "hsb-suite"))
        configuration.options.additionalStartupParameters = startup
        self.configuration = configuration
    }

    /// libpq's sslmode as swift-nio-ssl configuration.
    static func tls(for url: PostgresURL) throws -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let path = url.rootCertificatePath { configuration.trustRoots = .file(path) }
        switch url.tls {
        case .disable: return .disable
        case .prefer:
            configuration.certificateVerification = .none
            return .prefer(try NIOSSLContext(configuration: configuration))
        case .require:
            // As libpq: with a root certificate given, require checks the chain (verify-ca).
            configuration.certificateVerification = url.rootCertificatePath == nil ? .none : .noHostnameVerification
            return .require(try NIOSSLContext(configuration: configuration))
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .require(try NIOSSLContext(configuration: configuration))
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            return .require(try NIOSSLContext(configuration: configuration))
        }
    }

    /// A connection for one transaction: an idle one, or a new one when fewer than the maximum are open.
    func acquire() throws(StorageError) -> PostgresConnection {
        let timeout = url.connectTimeoutSeconds
        guard permits.wait(timeout: .now() + .seconds(timeout)) == .success else {
            throw StorageError(
                operation: "connect", message: "all \(maximumConnections) connections to PostgreSQL \(url.location) stayed busy for \(timeout) s")
        }
        enum Next {
            case reuse(PostgresConnection)
            case open(Int)
            case closed
        }
        while true {
            let next: Next = state.withLock { state in
                if state.closed { return .closed }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                state.open += 1
                state.nextID += 1
                return .open(state.nextID)
            }
            switch next {
            case .reuse(let connection):
                if connection.isClosed {
                    state.withLock { $0.open -= 1 }
                    continue
                }
                return connection
            case .closed:
                permits.signal()
                throw StorageError(operation: "connect", message: "the store is closed")
            case .open(let id):
                do {
                    return try PostgresConnection.connect(
                        on: Self.links.any(), configuration: configuration, id: id, logger: logger
                    ).wait()
                } catch {
                    state.withLock { $0.open -= 1 }
                    permits.signal()
                    throw StorageError(operation: "connect", message: "PostgreSQL \(url.location): \(PostgresSession.describe(error))")
                }
            }
        }
    }

    /// Gives a connection back; a closed one (the server went away, a statement broke it) is dropped.
    func release(_ connection: PostgresConnection) {
        let drop = state.withLock { state in
            if connection.isClosed || state.closed {
                state.open -= 1
                return true
            }
            state.idle.append(connection)
            return false
        }
        if drop { Self.close(connection) }
        permits.signal()
    }

    func closeAll() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for connection in idle { Self.close(connection) }
    }

    /// Closes `connection`, holding it until its channel has closed (postgres-nio requires a
    /// connection to be closed before it is released).
    static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }
}

/// The suite's `?` placeholders as PostgreSQL's `$1`, `$2`, …, kept per statement text: every
/// statement with parameters is one of a few dozen texts, rewritten once.
final class NumberedStatements: Sendable {
    private let cache = Mutex([String: String]())
    /// Beyond this many texts, statements are rewritten each time (ad hoc SQL cannot grow the cache without bound).
    static let capacity = 512

    func numbered(_ sql: String) -> String {
        if let known = cache.withLock({ $0[sql] }) { return known }
        let rewritten = Self.number(sql)
        cache.withLock { if $0.count < Self.capacity { $0[sql] = rewritten } }
        return rewritten
    }

    /// `?` placeholders become `$1`, `$2`, ... (the suite's SQL has no `?` inside literals).
    static func number(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
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
}

/// A text parameter of no declared type, as libpq sends one: the server infers its type from where
/// it is used (a DATE column reads `2026-11-30`, a BIGINT one `42`).
struct UntypedText: PostgresDynamicTypeEncodable {
    let value: String
    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }
    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(value)
    }
}

struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    let statements: NumberedStatements

    private func run(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .null: binds.appendNull()
            case .integer(let value): binds.append(UntypedText(value: String(value)))
            case .text(let value): binds.append(UntypedText(value: value))
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        let query = PostgresQuery(unsafeSQL: parameters.isEmpty ? sql : statements.numbered(sql), binds: binds)
        let future = connection.query(query, logger: logger)
        // Bounded: a server or link that stops answering fails the transaction (and the connection
        // is closed, so it is not reused) instead of holding a thread for ever.
        let done = DispatchSemaphore(value: 0)
        future.whenComplete { _ in done.signal() }
        guard done.wait(timeout: .now() + .seconds(Self.statementTimeoutSeconds)) == .success else {
            ConnectionPool.close(connection)
            throw StorageError(
                operation: "execute", message: "PostgreSQL gave no answer within \(Self.statementTimeoutSeconds) s; the connection was closed")
        }
        do {
            return try future.wait()
        } catch {
            throw StorageError(operation: "execute", message: Self.describe(error))
        }
    }

    /// The longest the store waits for one statement (a migration waiting for another replica's lock included).
    static let statementTimeoutSeconds = 300

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> Int {
        try run(sql, parameters).metadata.rows ?? 0
    }

    func queryValues(_ sql: String, _ parameters: [SQLValue]) throws(StorageError) -> [[SQLValue]] {
        let result = try run(sql, parameters)
        var out: [[SQLValue]] = []
        out.reserveCapacity(result.rows.count)
        for row in result.rows {
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            for cell in row { values.append(try Self.value(of: cell)) }
            out.append(values)
        }
        return out
    }

    /// A result cell (binary format, as postgres-nio asks for) as a store value.
    static func value(of cell: PostgresCell) throws(StorageError) -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        func malformed() -> StorageError {
            StorageError(operation: "query", message: "column \(cell.columnName): \(bytes.readableBytes) bytes are not a \(cell.dataType)")
        }
        if cell.format == .text { return .text(bytes.readString(length: bytes.readableBytes) ?? "") }
        switch cell.dataType {
        case .int8:
            guard bytes.readableBytes == 8, let value = bytes.readInteger(as: Int64.self) else { throw malformed() }
            return .integer(value)
        case .int4:
            guard bytes.readableBytes == 4, let value = bytes.readInteger(as: Int32.self) else { throw malformed() }
            return .integer(Int64(value))
        case .int2:
            guard bytes.readableBytes == 2, let value = bytes.readInteger(as: Int16.self) else { throw malformed() }
            return .integer(Int64(value))
        case .bool:
            guard bytes.readableBytes == 1, let value = bytes.readInteger(as: UInt8.self) else { throw malformed() }
            return .integer(value == 0 ? 0 : 1)
        case .bytea:
            return .blob(Array(bytes.readableBytesView))
        case .text, .varchar, .name, .bpchar, .unknown:
            return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        case .date:
            guard bytes.readableBytes == 4, let days = bytes.readInteger(as: Int32.self) else { throw malformed() }
            return .text(CivilDate(daysSinceEpoch: Int(days) + 10957).description)  // 2000-01-01 is day 10957
        case .void:
            return .null
        default:
            throw StorageError(
                operation: "query", message: "column \(cell.columnName) has PostgreSQL type \(cell.dataType), which the store does not read")
        }
    }

    /// The server's own words for a failure (postgres-nio hides them from `description`), with its SQLSTATE.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo, let message = info[.message] {
            var text = message
            if let detail = info[.detail] { text += " (\(detail))" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
