import Foundation
import HSBStorage
import Testing

/// The store under test: SQLite in a fresh file, or PostgreSQL in a fresh schema.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgresql

    var testDescription: String { rawValue }

    func open() throws -> (database: any SQLDatabase, reopen: () throws -> any SQLDatabase) {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-store-\(UUID().uuidString).sqlite3").path
            return (try SQLiteDatabase(path: path), { try SQLiteDatabase(path: path) })
        case .postgresql:
            guard let url = ProcessInfo.processInfo.environment["HSB_TEST_POSTGRES_URL"] else {
                throw StorageError(
                    operation: "test setup",
                    message: "HSB_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh (or scripts/with-postgres.sh)")
            }
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try PostgresDatabase(url: url).transaction { session throws(StorageError) in try session.execute("CREATE SCHEMA \(schema)") }
            let scoped = url + (url.contains("?") ? "&" : "?") + "options=-c%20search_path%3D\(schema)"
            return (try PostgresDatabase(url: scoped), { try PostgresDatabase(url: scoped) })
        }
    }
}

let now: Int64 = 1_800_000_000_000

@Suite("Record store on SQLite and PostgreSQL")
struct RecordStoreTests {
    @Test("Migrations run once, in order, and are recorded", arguments: Backend.allCases)
    func migrations(_ backend: Backend) throws {
        let (database, reopen) = try backend.open()
        let extra = Migration(version: 10, name: "service table", sql: "CREATE TABLE svc_things (id TEXT PRIMARY KEY)")
        _ = try RecordStore(database: database, migrations: [extra])
        _ = try RecordStore(database: try reopen(), migrations: [extra])
        #expect(try database.schemaVersion() == 10)
    }

    @Test("Idempotency keys are kept for the window and forgotten after it: a retry after the window is a new request", arguments: Backend.allCases)
    func idempotencyKeysArePruned(_ backend: Backend) throws {
        let (database, _) = try backend.open()
        let store = try RecordStore(database: database)
        let day: Int64 = 86_400_000
        var runs = 0
        func write(_ key: String, at time: Int64) throws -> (reply: [UInt8], replayed: Bool) {
            try store.perform(idempotencyKey: key, caller: "orchestrator", method: "m", now: time) { _ throws(RecordStoreError) in
                runs += 1
                return [UInt8(runs)]
            }
        }
        _ = try write("old", at: now)
        _ = try write("recent", at: now + 6 * day)
        #expect(try store.idempotencyKeyCount() == 2)
        // Seven days after the first write, with a 7-day window: only the first key is past it.
        #expect(try store.pruneIdempotency(before: now + 7 * day - 7 * day + 1) == 1)
        #expect(try store.idempotencyKeyCount() == 1)
        #expect(try write("recent", at: now + 7 * day) == ([2], true), "a key within the window still answers with the first reply")
        #expect(try write("old", at: now + 7 * day) == ([3], false), "a forgotten key runs again, as a new request")
        // Pruning is batched: a limit takes that many at a time.
        for index in 0..<5 { _ = try write("batch-\(index)", at: now + day) }
        #expect(try store.pruneIdempotency(before: now + 2 * day, limit: 2) == 2)
        #expect(try store.pruneIdempotency(before: now + 2 * day, limit: 10) == 3)
    }

    @Test("The access log is a hash chain: a changed, removed or appended-around row is named by verify", arguments: Backend.allCases)
    func accessLogChain(_ backend: Backend) throws {
        let (database, reopen) = try backend.open()
        let store = try RecordStore(database: database)
        func log(_ count: Int) throws {
            _ = try store.perform(idempotencyKey: "", caller: "x", method: "m", now: now) { tx throws(RecordStoreError) in
                for index in 0..<count {
                    try tx.logAccess(
                        agency: "police", user: "pc.\(index)", action: .read, kind: "case", recordID: "case-1", purpose: "assessment",
                        requestID: "\(index)")
                }
                return []
            }
        }
        try log(5)
        var report = try store.verifyAccessLog()
        #expect(report.broken == nil && report.rows == 5 && report.headSequence == 5 && report.headHash.count == 64)
        #expect(
            try store.read(now: now) { tx throws(RecordStoreError) in try tx.accessLog(kind: "case", recordID: "case-1") }.map(\.user)
                == ["pc.0", "pc.1", "pc.2", "pc.3", "pc.4"])
        // Reopened, verified without writing anything.
        #expect(try RecordStore.verifyAccessLog(in: try reopen()) == report)

        // A purpose changed after the fact.
        try database.transaction { session throws(StorageError) in
            try session.execute("UPDATE hsb_access_log SET purpose = 'curiosity' WHERE seq = 3")
        }
        report = try store.verifyAccessLog()
        #expect(report.broken?.sequence == 3 && report.broken?.reason == "its contents were changed after it was written" && report.rows == 2)
        try database.transaction { session throws(StorageError) in
            try session.execute("UPDATE hsb_access_log SET purpose = 'assessment' WHERE seq = 3")
        }
        #expect(try store.verifyAccessLog().broken == nil)
        // A value the application would read back as the same (an unknown action reads as "read")
        // still breaks the chain: verify hashes what the table holds.
        try database.transaction { session throws(StorageError) in
            try session.execute("UPDATE hsb_access_log SET action = 'nothing' WHERE seq = 4")
        }
        #expect(try store.verifyAccessLog().broken?.sequence == 4)
        try database.transaction { session throws(StorageError) in try session.execute("UPDATE hsb_access_log SET action = 'read' WHERE seq = 4") }
        #expect(try store.verifyAccessLog().broken == nil)

        // A row removed from the middle, then from the end.
        try database.transaction { session throws(StorageError) in try session.execute("DELETE FROM hsb_access_log WHERE seq = 2") }
        #expect(try store.verifyAccessLog().broken.map { "\($0.sequence) \($0.reason)" } == "2 row 2 is missing")
        let (fresh, _) = try backend.open()
        let other = try RecordStore(database: fresh)
        _ = try other.perform(idempotencyKey: "", caller: "x", method: "m", now: now) { tx throws(RecordStoreError) in
            for index in 0..<3 {
                try tx.logAccess(agency: "a", user: "u", action: .write, kind: "k", recordID: "r", purpose: "p", requestID: "\(index)")
            }
            return []
        }
        try fresh.transaction { session throws(StorageError) in try session.execute("DELETE FROM hsb_access_log WHERE seq = 3") }
        #expect(
            try other.verifyAccessLog().broken?.reason == "the log ends at row 2 but the chain's head says 3: rows at the end were removed")
    }

    @Test("Access log rows written before the chain are sealed into it once, in the order they were written", arguments: Backend.allCases)
    func legacyAccessRowsAreSealed(_ backend: Backend) throws {
        let (database, reopen) = try backend.open()
        _ = try RecordStore(database: database)
        try database.transaction { session throws(StorageError) in
            for (at, user) in [(now + 2, "second"), (now + 1, "first")] {
                try session.execute(
                    "INSERT INTO hsb_access_log (at_unix_ms, agency, user_name, action, kind, record_id, purpose, request_id) VALUES (?, 'police', ?, 'read', 'case', 'c', 'p', 'r')",
                    [.integer(at), .text(user)])
            }
        }
        let store = try RecordStore(database: try reopen())
        let report = try store.verifyAccessLog()
        #expect(report.broken == nil && report.rows == 2)
        #expect(
            try store.read(now: now) { tx throws(RecordStoreError) in try tx.accessLog(kind: "case", recordID: "c") }.map(\.user) == [
                "first", "second",
            ])
    }

    @Test("A record is written, read, listed by subject and survives reopening", arguments: Backend.allCases)
    func writeAndRead(_ backend: Backend) throws {
        let (database, reopen) = try backend.open()
        let store = try RecordStore(database: database)
        _ = try store.perform(idempotencyKey: "", caller: "orchestrator", method: "m", now: now) { tx throws(RecordStoreError) in
            _ = try tx.insert(kind: "referral", id: "r-1", subjectID: "child-1", body: #"{"a":1}"#)
            _ = try tx.insert(kind: "referral", id: "r-2", subjectID: "child-1", body: #"{"a":2}"#)
            return []
        }
        let again = try RecordStore(database: try reopen())
        let listed = try again.read(now: now) { tx throws(RecordStoreError) in try tx.list(kind: "referral", subjectID: "child-1") }
        #expect(listed.map(\.id) == ["r-1", "r-2"])
        #expect(listed.first?.version == 1 && listed.first?.body == #"{"a":1}"#)
        #expect(throws: RecordStoreError.alreadyExists(kind: "referral", id: "r-1")) {
            try again.perform(idempotencyKey: "", caller: "x", method: "m", now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: "r-1", subjectID: "child-1", body: "{}")
                return []
            }
        }
    }

    @Test(
        "A record table made from its declaration: created by its migration with its catalogue row, written once per id, read by subject with blobs and dates as written, updated only at its version, removed by age",
        arguments: Backend.allCases)
    func recordTable(_ backend: Backend) throws {
        let table = RecordTable(
            kind: "plan", table: "plans",
            columns: [.init("outcome", .text), .init("review", .date, nullable: true), .init("level", .integer), .init("document", .blob)])
        let (database, _) = try backend.open()
        // A store of the release before this table: the record in the generic table.
        _ = try RecordStore(database: database)
        try database.transaction { session throws(StorageError) in
            try session.execute(
                "INSERT INTO hsb_records (kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms) VALUES ('plan', 'p-0', 'c-1', 3, 'old', 5, 6)"
            )
        }
        let store = try RecordStore(
            database: database, migrations: [table.migration(version: 900) { [.text($0.body), .null, .integer(0), .blob([])] }])
        let document: [UInt8] = [0, 1, 0xFF, 0x7F]
        let values: [SQLValue] = [.text("agreed"), .text("2027-03-01"), .integer(2), .blob(document)]
        let written = try store.write(now: 1_000) { tx throws(RecordStoreError) in try tx.insert(table, id: "p-1", subjectID: "c-1", values: values) }
        #expect(written.version == 1 && written.bytes("document") == document)
        #expect(throws: RecordStoreError.alreadyExists(kind: "plan", id: "p-1")) {
            try store.write(now: 1_001) { tx throws(RecordStoreError) in try tx.insert(table, id: "p-1", subjectID: "c-1", values: values) }
        }
        #expect(
            try store.write(now: 1_001) { tx throws(RecordStoreError) in try tx.insertIfAbsent(table, id: "p-1", subjectID: "c-9", values: values) }
                == false)
        let rows = try store.snapshot(now: 0) { tx throws(RecordStoreError) in (try tx.catalogue(), try tx.list(table, subjectID: "c-1")) }
        #expect(rows.0.map(\.kind) == ["plan"] && rows.0.first?.columns == table.columns)
        // The generic table's record moved with its version and times; the new one as written.
        #expect(rows.1.map(\.id) == ["p-0", "p-1"] && rows.1[0].version == 3 && rows.1[0].createdAtUnixMillis == 5 && rows.1[0]["outcome"] == "old")
        #expect(rows.1[1]["review"] == "2027-03-01" && rows.1[1]["level"] == "2" && rows.1[1].bytes("document") == document)
        let updated = try store.write(now: 2_000) { tx throws(RecordStoreError) in
            try tx.update(table, id: "p-1", expectedVersion: 1, values: [.text("reviewed"), .null, .integer(3), .blob([])])
        }
        #expect(updated.version == 2 && updated.updatedAtUnixMillis == 2_000 && updated["review"] == nil)
        #expect(try store.snapshot(now: 0) { tx throws(RecordStoreError) in try tx.get(table, id: "p-1") } == updated)
        #expect(throws: RecordStoreError.versionConflict(kind: "plan", id: "p-1", expected: 1, actual: 2)) {
            try store.write(now: 2_001) { tx throws(RecordStoreError) in try tx.update(table, id: "p-1", expectedVersion: 1, values: values) }
        }
        // Removal by age takes what was last changed before the cutoff, and only that.
        let removed = try store.write(now: 3_000) { tx throws(RecordStoreError) in try tx.removeRecords(table, changedBefore: 2_000, limit: 10) }
        #expect(removed.map(\.id) == ["p-0"])
        #expect(try store.snapshot(now: 0) { tx throws(RecordStoreError) in try tx.list(table, subjectID: "c-1") }.map(\.id) == ["p-1"])
    }

    @Test("A write based on a stale version is refused and changes nothing", arguments: Backend.allCases)
    func staleVersion(_ backend: Backend) throws {
        let store = try RecordStore(database: try backend.open().database)
        _ = try store.perform(idempotencyKey: "", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
            _ = try tx.insert(kind: "case", id: "c-1", subjectID: "s", body: "v1")
            _ = try tx.update(kind: "case", id: "c-1", expectedVersion: 1, body: "v2")
            return []
        }
        #expect(throws: RecordStoreError.versionConflict(kind: "case", id: "c-1", expected: 1, actual: 2)) {
            try store.perform(idempotencyKey: "", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
                _ = try tx.update(kind: "case", id: "c-1", expectedVersion: 1, body: "someone else's v2")
                return []
            }
        }
        let record = try store.read(now: now) { tx throws(RecordStoreError) in try tx.get(kind: "case", id: "c-1") }
        #expect(record?.version == 2 && record?.body == "v2")
        #expect(throws: RecordStoreError.notFound(kind: "case", id: "nope")) {
            try store.perform(idempotencyKey: "", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
                _ = try tx.update(kind: "case", id: "nope", expectedVersion: 1, body: "")
                return []
            }
        }
    }

    @Test("An idempotency key seen before returns the first reply and writes nothing new", arguments: Backend.allCases)
    func idempotency(_ backend: Backend) throws {
        let store = try RecordStore(database: try backend.open().database)
        var runs = 0
        func submit(_ key: String, method: String = "Submit") throws -> (reply: [UInt8], replayed: Bool) {
            try store.perform(idempotencyKey: key, caller: "orchestrator", method: method, now: now) { tx throws(RecordStoreError) in
                runs += 1
                _ = try tx.insert(kind: "referral", id: "r-\(runs)", subjectID: "child", body: "{}")
                return [0, 1, 2, 255, UInt8(runs)]
            }
        }
        let first = try submit("key-1")
        let second = try submit("key-1")
        #expect(!first.replayed && second.replayed)
        #expect(second.reply == [0, 1, 2, 255, 1])
        #expect(runs == 1)
        #expect(try store.read(now: now) { tx throws(RecordStoreError) in try tx.list(kind: "referral", subjectID: "child") }.count == 1)
        #expect(throws: RecordStoreError.idempotencyKeyReused(key: "key-1", firstMethod: "Submit")) { try submit("key-1", method: "Other") }
        // Another caller's same key is its own.
        let other = try store.perform(idempotencyKey: "key-1", caller: "police", method: "Submit", now: now) { _ throws(RecordStoreError) in [9] }
        #expect(!other.replayed && other.reply == [9])
    }

    @Test("A refusal part-way through rolls back every change of the transaction", arguments: Backend.allCases)
    func rollback(_ backend: Backend) throws {
        let store = try RecordStore(database: try backend.open().database)
        #expect(throws: RecordStoreError.notFound(kind: "case", id: "missing")) {
            try store.perform(idempotencyKey: "k", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
                _ = try tx.insert(kind: "referral", id: "r-1", subjectID: "child", body: "{}")
                try tx.logAccess(agency: "a", user: "u", action: .write, kind: "referral", recordID: "r-1", purpose: "p", requestID: "1")
                _ = try tx.update(kind: "case", id: "missing", expectedVersion: 1, body: "")
                return []
            }
        }
        #expect(try store.read(now: now) { tx throws(RecordStoreError) in try tx.get(kind: "referral", id: "r-1") } == nil)
        #expect(try store.read(now: now) { tx throws(RecordStoreError) in try tx.accessLog(kind: "referral", recordID: "r-1") }.isEmpty)
        // The key was not consumed by the failed attempt.
        let retry = try store.perform(idempotencyKey: "k", caller: "c", method: "m", now: now) { _ throws(RecordStoreError) in [1] }
        #expect(!retry.replayed)
    }

    @Test("Every read and write can be logged with who, what, when and why", arguments: Backend.allCases)
    func accessLog(_ backend: Backend) throws {
        let store = try RecordStore(database: try backend.open().database)
        _ = try store.perform(idempotencyKey: "", caller: "c", method: "m", now: now) { tx throws(RecordStoreError) in
            _ = try tx.insert(kind: "referral", id: "r-1", subjectID: "child", body: "{}")
            try tx.logAccess(
                agency: "social-care", user: "a.worker", action: .write, kind: "referral", recordID: "r-1", purpose: "screening", requestID: "7")
            return []
        }
        _ = try store.read(now: now + 5) { tx throws(RecordStoreError) in
            try tx.logAccess(
                agency: "youth-justice", user: "", action: .read, kind: "referral", recordID: "r-1", purpose: "AIM assessment", requestID: "8")
        }
        let log = try store.read(now: now) { tx throws(RecordStoreError) in try tx.accessLog(kind: "referral", recordID: "r-1") }
        #expect(log.map(\.agency) == ["social-care", "youth-justice"])
        #expect(log.map(\.action) == [.write, .read])
        #expect(log[1].purpose == "AIM assessment" && log[1].atUnixMillis == now + 5)
    }

    @Test("The store reports whether it can take a write", arguments: Backend.allCases)
    func readiness(_ backend: Backend) throws {
        let database = try backend.open().database
        #expect(database.probeWritable(nowUnixMillis: now).ok)
    }

    @Test(
        "A chain's start removed at the end of its retention is sealed: the walk starts after it; a forged seal still breaks it",
        arguments: Backend.allCases)
    func sealedChainStart(_ backend: Backend) throws {
        let database = try backend.open().database
        let chain = HashChain(name: "ledger", table: "ledger", head: "ledger_head", columns: ["what"])
        try database.transaction { session throws(StorageError) in
            try session.execute("CREATE TABLE ledger (what TEXT NOT NULL, seq BIGINT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)")
            for statement in chain.headSQL.split(separator: ";\n") { try session.execute(String(statement)) }
            let cursor = ChainCursor()
            for index in 1...5 { try chain.append([.text("row \(index)")], to: session, cursor: cursor) }
            try chain.flush(cursor, session)
        }
        let whole = try database.readTransaction { session throws(StorageError) in try chain.verify(session) }
        #expect(whole.broken == nil && whole.rows == 5 && whole.sealedThrough == 0)
        let removed = try database.transaction { session throws(StorageError) in try chain.removeStart(through: 3, session) }
        #expect(removed == 3)
        let sealed = try database.readTransaction { session throws(StorageError) in try chain.verify(session) }
        #expect(sealed.broken == nil && sealed.rows == 2 && sealed.sealedThrough == 3)
        #expect(sealed.headSequence == whole.headSequence && sealed.headHash == whole.headHash)
        // Appending goes on from the head as before.
        try database.transaction { session throws(StorageError) in
            let cursor = ChainCursor()
            try chain.append([.text("row 6")], to: session, cursor: cursor)
            try chain.flush(cursor, session)
        }
        #expect(try database.readTransaction { session throws(StorageError) in try chain.verify(session) }.broken == nil)
        // A seal moved past a row that is still there, or given another hash, breaks the walk at the next row.
        try database.transaction { session throws(StorageError) in try session.execute("UPDATE ledger_head SET hash = ? WHERE id = 2", [.text("00")])
        }
        let forged = try database.readTransaction { session throws(StorageError) in try chain.verify(session) }
        #expect(forged.broken?.sequence == 4)
        #expect(forged.broken?.reason.contains("does not follow row 3") == true)
        // Sealing through a row that is not there is refused and changes nothing.
        #expect(throws: StorageError.self) {
            try database.transaction { session throws(StorageError) in try chain.removeStart(through: 99, session) }
        }
        let rows = try database.readTransaction { session throws(StorageError) in try session.queryValues("SELECT COUNT(*) FROM ledger", []) }
        #expect(rows == [[.integer(3)]])
    }

    @Test("SQLite commits are durable: the writer runs in WAL mode with synchronous=FULL, reopened too")
    func sqliteDurability() throws {
        let (database, reopen) = try Backend.sqlite.open()
        for store in [database, try reopen()] {
            let settings = try store.transaction { session throws(StorageError) in
                [try session.queryValues("PRAGMA journal_mode", []), try session.queryValues("PRAGMA synchronous", [])]
            }
            #expect(settings[0] == [[.text("wal")]])
            // 2 is FULL: each commit is on the disk before it is acknowledged (GRDB's pools default to NORMAL).
            #expect(settings[1] == [[.integer(2)]])
        }
    }

    @Test("An unreachable PostgreSQL server is a clear error")
    func unreachable() {
        do {
            _ = try PostgresDatabase(url: "postgresql://hsb@127.0.0.1:1/nowhere?connect_timeout=2")
            Issue.record("connected to nothing")
        } catch {
            #expect(error.operation == "connect")
            #expect(error.message.contains("127.0.0.1"))
        }
    }
}
