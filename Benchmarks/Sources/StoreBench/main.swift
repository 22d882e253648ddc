// The SQLite driver: the suite's store on GRDB's DatabasePool (statements bound and read through
// SQLite's calls on GRDB's statement handles) against the raw C API it used before
// (RawSQLiteDatabase) and against GRDB's own value API (GRDBValuesDatabase), writing as a service writes: through RecordStore's group commit,
// each write an idempotency check, a typed-table insert, a read back, a versioned update, an
// access-log line on the hash chain and the stored reply. Durable (WAL, synchronous=FULL) on the
// same disk. Contenders alternate round by round.
//   StoreBench SECONDS ROUNDS DIRECTORY
import BenchSupport
import Foundation
import HSBStorage

let seconds = argument(1, default: 3)
let rounds = Int(argument(2, default: 3))
let directory = CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : NSTemporaryDirectory()

let table = RecordTable(
    kind: "bench-referral", table: "bench_referrals",
    columns: [.init("outcome", .text), .init("received_on", .date), .init("document", .blob)])
let document = [UInt8](repeating: 0x5a, count: 600)

struct Contender {
    let name: String
    let open: (String) throws -> any SQLDatabase
}

let contenders = [
    Contender(name: "GRDB DatabasePool (the suite's)") { try SQLiteDatabase(path: $0) },
    Contender(name: "SQLite C API (before)") { try RawSQLiteDatabase(path: $0) },
    Contender(name: "GRDB DatabasePool, GRDB's values (StatementArguments, Row)") { try GRDBValuesDatabase(path: $0) },
]
let batches = [1, 64]

/// One run: `batch` writes per commit for `seconds`; writes/s and CPU µs per write.
func run(_ contender: Contender, batch: Int, round: Int) throws -> (rate: Double, cpuMicros: Double) {
    let path = "\(directory)/store-bench-\(UUID().uuidString).sqlite3"
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    let store = try RecordStore(database: try contender.open(path), migrations: [table.migration(version: 900) { _ in nil }])
    var written = 0
    let cpuBefore = processCPUSeconds()
    let started = ContinuousClock.now
    let deadline = started + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        var writes: [RecordStore.Write] = []
        for index in 0..<batch {
            let id = "r\(round)-\(written + index)"
            writes.append(
                RecordStore.Write(idempotencyKey: "k-\(id)", caller: "social-care", method: "Submit", now: 1_800_000_000_000 + Int64(written)) {
                    transaction throws(RecordStoreError) in
                    let row = try transaction.insert(
                        table, id: id, subjectID: "child-\(id)", values: [.text("referred"), .text("2026-11-30"), .blob(document)])
                    _ = try transaction.get(table, id: id)
                    _ = try transaction.update(
                        table, id: id, expectedVersion: row.version, values: [.text("screened"), .text("2026-11-30"), .blob(document)])
                    try transaction.logAccess(
                        agency: "social-care", user: "bench", action: .write, kind: table.kind, recordID: id, purpose: "benchmark", requestID: id)
                    return Array(document.prefix(64))
                })
        }
        for result in store.performBatch(writes) {
            if case .failure(let error) = result { throw error }
        }
        written += batch
    }
    let elapsed = secondsOf(ContinuousClock.now - started)
    return (Double(written) / elapsed, (processCPUSeconds() - cpuBefore) * 1e6 / Double(written))
}

var results: [String: [(rate: Double, cpuMicros: Double)]] = [:]
for round in 1...rounds {
    for contender in contenders {
        for batch in batches {
            results["\(contender.name)|\(batch)", default: []].append(try run(contender, batch: batch, round: round))
        }
    }
}

print("| driver | writes per commit | writes/s | CPU µs per write |")
print("|---|---:|---:|---:|")
for contender in contenders {
    for batch in batches {
        let runs = results["\(contender.name)|\(batch)"] ?? []
        print("| \(contender.name) | \(batch) | \(grouped(median(runs.map(\.rate)))) | \(oneDecimal(median(runs.map(\.cpuMicros)))) |")
    }
}
// The lines Benchmarks/run.sh reads: the extra CPU per write at 64 writes per commit against the
// raw C API (µs; negative when it costs less), of the suite's store and of GRDB's value API.
@MainActor func cpu(_ index: Int) -> Double { median((results["\(contenders[index].name)|64"] ?? []).map(\.cpuMicros)) }
print("extra-cpu-us-per-write \(oneDecimal(cpu(0) - cpu(1)))")
print("values-extra-cpu-us-per-write \(oneDecimal(cpu(2) - cpu(1)))")
