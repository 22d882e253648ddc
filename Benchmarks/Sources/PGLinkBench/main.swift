// The link to PostgreSQL, one transaction of statements at a time as the store's writer sends
// them: libpq from the calling thread (the suite's store today), postgres-nio with each statement
// waited for from that thread (the bridge the store would need while its transactions are
// synchronous), and postgres-nio from code running on the connection's own event loop (what an
// asynchronous store would do). Each transaction: BEGIN, 10 single-row UPDATEs, a SELECT, COMMIT.
// Contenders alternate round by round; none uses TLS.
//   PGLinkBench SECONDS ROUNDS   (HSB_TEST_POSTGRES_URL names the database)
import BenchSupport
import Foundation
import HSBStorage
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

let seconds = argument(1, default: 3)
let rounds = Int(argument(2, default: 3))
guard let url = ProcessInfo.processInfo.environment["HSB_TEST_POSTGRES_URL"], let parsed = URLComponents(string: url) else {
    print("set HSB_TEST_POSTGRES_URL (Benchmarks/run.sh runs this beside a throwaway server)")
    exit(2)
}
let statementsPerTransaction = 12.0
let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

// Without TLS on every contender: the links themselves are compared.
let libpq = try PostgresDatabase(url: url + "?sslmode=disable")
try libpq.transaction { session throws(StorageError) in
    try session.execute("DROP TABLE IF EXISTS link_bench")
    try session.execute("CREATE TABLE link_bench (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
    for id in 0..<10 { try session.execute("INSERT INTO link_bench VALUES (?, 0)", [.integer(Int64(id))]) }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let configuration = PostgresConnection.Configuration(
    host: parsed.host ?? "127.0.0.1", port: parsed.port ?? 5432, username: parsed.user ?? "postgres", password: parsed.password,
    database: String(parsed.path.dropFirst()), tls: .disable)
let connection = try await PostgresConnection.connect(on: group.next(), configuration: configuration, id: 1, logger: logger).get()

/// Runs `transaction` for `seconds`; transactions/s and CPU µs per statement.
func measure(_ transaction: () async throws -> Void) async throws -> (rate: Double, cpuMicros: Double) {
    var count = 0
    let cpuBefore = processCPUSeconds()
    let started = ContinuousClock.now
    let deadline = started + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        try await transaction()
        count += 1
    }
    let elapsed = secondsOf(ContinuousClock.now - started)
    return (Double(count) / elapsed, (processCPUSeconds() - cpuBefore) * 1e6 / (Double(count) * statementsPerTransaction))
}

func libpqTransaction() throws {
    try libpq.transaction { session throws(StorageError) in
        for id in 0..<10 { try session.execute("UPDATE link_bench SET n = n + 1 WHERE id = ?", [.integer(Int64(id))]) }
        _ = try session.queryValues("SELECT SUM(n) FROM link_bench WHERE id < ?", [.integer(10)])
    }
}

/// Each statement waited for from the calling thread.
func bridgedTransaction() throws {
    _ = try connection.query("BEGIN", logger: logger).wait()
    for id in 0..<10 { _ = try connection.query("UPDATE link_bench SET n = n + 1 WHERE id = \(Int64(id))", logger: logger).wait() }
    _ = try connection.query("SELECT SUM(n) FROM link_bench WHERE id < \(10)", logger: logger).wait()
    _ = try connection.query("COMMIT", logger: logger).wait()
}

/// Code isolated to the connection's event loop: each await resumes on the loop that read the reply.
actor OnTheLoop {
    let connection: PostgresConnection
    nonisolated let unownedExecutor: UnownedSerialExecutor

    init(_ connection: PostgresConnection) {
        self.connection = connection
        self.unownedExecutor = connection.eventLoop.executor.asUnownedSerialExecutor()
    }

    func transaction() async throws {
        try await run("BEGIN")
        for id in 0..<10 { try await run("UPDATE link_bench SET n = n + 1 WHERE id = \(Int64(id))") }
        try await run("SELECT SUM(n) FROM link_bench WHERE id < \(10)")
        try await run("COMMIT")
    }

    private func run(_ query: PostgresQuery) async throws {
        for try await _ in try await connection.query(query, logger: logger) {}
    }
}

let onTheLoop = OnTheLoop(connection)
let contenders: [(String, () async throws -> Void)] = [
    ("libpq, from the calling thread (the store today)", { try libpqTransaction() }),
    ("postgres-nio, each statement waited for from the calling thread", { try bridgedTransaction() }),
    ("postgres-nio, on the connection's event loop (async)", { try await onTheLoop.transaction() }),
]
var results: [String: [(rate: Double, cpuMicros: Double)]] = [:]
for _ in 1...rounds {
    for (name, transaction) in contenders { results[name, default: []].append(try await measure(transaction)) }
}
print("| link | transactions/s | statements/s | CPU µs per statement (client) |")
print("|---|---:|---:|---:|")
for (name, _) in contenders {
    let runs = results[name] ?? []
    let rate = median(runs.map(\.rate))
    print("| \(name) | \(grouped(rate)) | \(grouped(rate * statementsPerTransaction)) | \(oneDecimal(median(runs.map(\.cpuMicros)))) |")
}
try await connection.closeGracefully()
try await group.shutdownGracefully()
