import Foundation
import HSBServiceKit
import HSBStorage
import NIOPosix
import Synchronization
import Testing

/// A database whose first transaction waits at a gate, so that writes queue behind it.
final class GatedDatabase: SQLDatabase {
    let inner: any SQLDatabase
    let gate = Mutex<(closed: Bool, transactions: Int)>((false, 0))

    init(_ inner: any SQLDatabase) { self.inner = inner }

    var dialect: String { inner.dialect }
    var location: String { inner.location }

    func open() { gate.withLock { $0.closed = false } }

    func transaction<T>(_ body: (any SQLSession) throws(StorageError) -> T) throws(StorageError) -> T {
        let first = gate.withLock { state in
            state.transactions += 1
            return state.transactions == 1
        }
        while first && gate.withLock({ $0.closed }) { usleep(1000) }
        return try inner.transaction(body)
    }

    func probeWritable(nowUnixMillis: Int64) -> (ok: Bool, detail: String) { inner.probeWritable(nowUnixMillis: nowUnixMillis) }
    func lockForMigration(_ session: any SQLSession) throws(StorageError) { try inner.lockForMigration(session) }
}

@Suite("Group commit: many writes share one durable commit; each hears only its own outcome", .timeLimit(.minutes(1)))
struct GroupCommitTests {
    @Test(
        "INF-05: the access log stays one unbroken chain when a batch's writes log and some are rolled back, the first among them",
        arguments: Backend.allCases)
    func accessLogAcrossRolledBackWrites(_ backend: Backend) throws {
        let store = try RecordStore(database: try backend.open().database)
        func write(_ id: String, refuse: Bool) -> RecordStore.Write {
            RecordStore.Write(idempotencyKey: "k-\(id)", caller: "police", method: "Submit", now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: id, subjectID: "child-1", body: "{}")
                for purpose in ["received", "screened"] {
                    try tx.logAccess(agency: "police", user: "pc", action: .write, kind: "referral", recordID: id, purpose: purpose, requestID: id)
                }
                if refuse { throw .refused(.invalidArgument, "no") }
                return [1]
            }
        }
        // The first write of the batch moves the head and is then rolled back; so is one in the middle.
        let results = store.performBatch([
            write("r-1", refuse: true), write("r-2", refuse: false), write("r-3", refuse: true), write("r-4", refuse: false),
        ])
        #expect(results.map { (try? $0.get()) != nil } == [false, true, false, true])
        // And a second batch goes on from where the first left the head; a write alone that is
        // refused (it runs without a savepoint) leaves nothing behind.
        _ = store.performBatch([write("r-5", refuse: false)])
        let alone = store.performBatch([write("r-6", refuse: true)])
        #expect(throws: RecordStoreError.refused(.invalidArgument, "no")) { try alone[0].get() }
        #expect(try store.read(now: now) { tx throws(RecordStoreError) in try tx.get(kind: "referral", id: "r-6") } == nil)
        let report = try store.verifyAccessLog()
        #expect(report.broken == nil)
        #expect(report.rows == 6 && report.headSequence == 6)
        let logged = try ["r-1", "r-2", "r-3", "r-4", "r-5", "r-6"].map { id in
            try store.read(now: now) { tx throws(RecordStoreError) in try tx.accessLog(kind: "referral", recordID: id).count }
        }
        #expect(logged == [0, 2, 0, 2, 2, 0])
    }

    @Test(
        "A batch commits once: a refused write is rolled back alone, later writes see earlier ones, a repeated key replays",
        arguments: Backend.allCases)
    func batchSemantics(_ backend: Backend) throws {
        let (database, reopen) = try backend.open()
        let store = try RecordStore(database: database)
        let results = store.performBatch([
            RecordStore.Write(idempotencyKey: "k-1", caller: "police", method: "Submit", now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: "r-1", subjectID: "child-1", body: "{}")
                return [1]
            },
            RecordStore.Write(idempotencyKey: "k-2", caller: "police", method: "Submit", now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: "r-2", subjectID: "child-1", body: "{}")
                throw .refused(.invalidArgument, "no")
            },
            RecordStore.Write(idempotencyKey: "", caller: "police", method: "Update", now: now + 1) { tx throws(RecordStoreError) in
                let first = try tx.get(kind: "referral", id: "r-1")
                _ = try tx.update(kind: "referral", id: "r-1", expectedVersion: first?.version ?? 0, body: #"{"seen":true}"#)
                return [3]
            },
            RecordStore.Write(idempotencyKey: "k-1", caller: "police", method: "Submit", now: now) { _ throws(RecordStoreError) in
                Issue.record("a repeated key must not run its body")
                return [9]
            },
            RecordStore.Write(idempotencyKey: "", caller: "police", method: "Update", now: now) { tx throws(RecordStoreError) in
                _ = try tx.update(kind: "referral", id: "r-1", expectedVersion: 1, body: "{}")
                return [5]
            },
        ])
        #expect(results.count == 5)
        #expect(try results[0].get() == ([1], false))
        #expect(throws: RecordStoreError.refused(.invalidArgument, "no")) { try results[1].get() }
        #expect(try results[2].get() == ([3], false))
        #expect(try results[3].get() == ([1], true), "the same key in the same batch replays the first reply")
        #expect(throws: RecordStoreError.versionConflict(kind: "referral", id: "r-1", expected: 1, actual: 2)) { try results[4].get() }
        let again = try RecordStore(database: try reopen())
        let stored = try again.read(now: now) { tx throws(RecordStoreError) in try tx.list(kind: "referral", subjectID: "child-1") }
        #expect(stored.map(\.id) == ["r-1"] && stored.first?.body == #"{"seen":true}"# && stored.first?.version == 2)
    }

    @Test("Writes queued while a commit is on its way to disk go together in the next one, and every caller is answered")
    func writesShareACommit() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-group-\(UUID().uuidString).sqlite3").path
        let gated = GatedDatabase(try SQLiteDatabase(path: path))
        let store = try RecordStore(database: gated)
        gated.gate.withLock { $0 = (true, 0) }  // migrations done; the next transaction is the first write's, and it waits
        let committer = GroupCommitter(store: store, threadPool: NIOThreadPool.singleton)
        let writers = 200
        @Sendable func write(_ index: Int) async -> Result<[UInt8], RecordStoreError> {
            await committer.perform(
                RecordStore.Write(idempotencyKey: "key-\(index)", caller: "intake", method: "Submit", now: now) { tx throws(RecordStoreError) in
                    if index == 7 { throw .refused(.failedPrecondition, "refused \(index)") }
                    _ = try tx.insert(kind: "referral", id: "r-\(index)", subjectID: "child-\(index)", body: "{}")
                    return Array("\(index)".utf8)
                }
            ).map(\.reply)
        }
        let outcomes = await withTaskGroup(of: Result<[UInt8], RecordStoreError>.self) { group in
            // The first write's commit reaches the database and waits at the gate...
            group.addTask { await write(0) }
            while gated.gate.withLock({ $0.transactions }) < 1 { try? await Task.sleep(for: .milliseconds(1)) }
            // ...while every other write queues behind it.
            for index in 1..<writers { group.addTask { await write(index) } }
            while committer.queuedCount < writers - 1 { try? await Task.sleep(for: .milliseconds(1)) }
            gated.open()
            var outcomes: [Result<[UInt8], RecordStoreError>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.count == writers)
        #expect(outcomes.filter { (try? $0.get()) != nil }.count == writers - 1)
        #expect(outcomes.contains { if case .failure(.refused(.failedPrecondition, "refused 7")) = $0 { true } else { false } })
        let counts = committer.counts
        #expect(counts.writes == UInt64(writers))
        #expect(counts.commits == 2 && counts.largestBatch == writers - 1, "one commit for the first write, one for the rest: \(counts)")
        let stored = try store.read(now: now) { tx throws(RecordStoreError) in try tx.all(kind: "referral") }
        #expect(stored.count == writers - 1)
    }
}

@Suite("Snapshots: reads that write nothing, on a reader connection of their own")
struct SnapshotTests {
    @Test(
        "A snapshot sees the last commit, not a write in progress, does not wait for the writer, and cannot write",
        arguments: Backend.allCases)
    func snapshotReads(_ backend: Backend) throws {
        let (database, _) = try backend.open()
        let store = try RecordStore(database: database)
        _ = try store.perform(idempotencyKey: "", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
            _ = try tx.insert(kind: "referral", id: "r-1", subjectID: "child-1", body: "{}")
            return []
        }
        let listed = { () throws(RecordStoreError) -> [String] in
            try store.snapshot(now: now) { tx throws(RecordStoreError) in try tx.all(kind: "referral").map(\.id) }
        }
        #expect(try listed() == ["r-1"])
        // Inside an open write transaction (the writer's lock held on this very thread), a snapshot
        // still answers, from the last commit: it neither waits for the writer nor sees its work.
        var seenDuringWrite: [String] = []
        try database.transaction { session throws(StorageError) in
            try session.execute(
                "INSERT INTO hsb_records (kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms) VALUES ('referral', 'r-2', 'child-2', 1, '{}', 0, 0)",
                [])
            do throws(RecordStoreError) { seenDuringWrite = try listed() } catch { throw StorageError(operation: "snapshot", message: "\(error)") }
        }
        #expect(seenDuringWrite == ["r-1"])
        #expect(try listed().sorted() == ["r-1", "r-2"], "the commit is seen once it is made")
        #expect(throws: RecordStoreError.self) {
            try store.snapshot(now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: "r-3", subjectID: "child-3", body: "{}")
            }
        }
    }
}

@Suite("PostgreSQL: prepared statements and a dropped connection")
struct PostgresConnectionTests {
    @Test("A connection the server drops is re-established on the next call, and its statements prepared again")
    func reconnectsAndPreparesAgain() throws {
        let (database, reopen) = try Backend.postgresql.open()
        let store = try RecordStore(database: database)
        func write(_ id: String) throws -> [UInt8] {
            try store.perform(idempotencyKey: "key-\(id)", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: id, subjectID: "child", body: "{}")
                return Array(id.utf8)
            }.reply
        }
        #expect(try write("r-1") == Array("r-1".utf8))  // its statements are now prepared on this connection
        let pid = try database.transaction { session throws(StorageError) in try session.query("SELECT pg_backend_pid()", []) }.first?.first ?? nil
        let killer = try reopen()
        _ = try killer.transaction { session throws(StorageError) in
            try session.query("SELECT pg_terminate_backend(?)", [.integer(Int64(pid ?? "0") ?? 0)])
        }
        // The first call after the drop may fail (the server is gone mid-call); the next reconnects,
        // prepares its statements on the new session and succeeds.
        _ = try? write("r-2")
        #expect(try write("r-3") == Array("r-3".utf8))
        let ids = try store.read(now: now) { tx throws(RecordStoreError) in try tx.list(kind: "referral", subjectID: "child").map(\.id) }
        #expect(ids.contains("r-1") && ids.contains("r-3"))
    }
}
