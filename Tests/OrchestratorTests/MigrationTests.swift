import Foundation
import HSBPathway
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import Testing

@testable import OrchestratorService

/// The orchestrator's store as the release before the typed tables wrote it (schema version 4):
/// Tests/Fixtures/Stores/README.md says how it was made.
let releasedStore = packageRoot.appendingPathComponent("Tests/Fixtures/Stores/orchestrator-release-schema4.sqlite3").path

typealias ReleasedRecord = StoredRecord

/// The released store's records and access log, read with plain SQL (nothing migrated).
func releasedRecords() throws -> (records: [ReleasedRecord], accessRows: Int, access: [[String?]], head: [String?]) {
    let database = try SQLiteDatabase(path: copyOfReleasedStore())
    return try database.readTransaction { session throws(StorageError) in
        let records = try session.query(
            "SELECT kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms FROM hsb_records ORDER BY kind, id", []
        ).map {
            ReleasedRecord(
                kind: $0[0] ?? "", id: $0[1] ?? "", subjectID: $0[2] ?? "", version: Int64($0[3] ?? "") ?? 0, body: $0[4] ?? "",
                createdAtUnixMillis: Int64($0[5] ?? "") ?? 0, updatedAtUnixMillis: Int64($0[6] ?? "") ?? 0)
        }
        let access = try session.query(
            "SELECT at_unix_ms, agency, user_name, action, kind, record_id, purpose, request_id, seq, prev_hash, hash FROM hsb_access_log ORDER BY seq",
            [])
        let head = try session.query("SELECT seq, hash FROM hsb_access_chain WHERE id = 1", []).first ?? []
        return (records, access.count, access, head)
    }
}

/// A fresh copy of the released store in a folder of its own, named as the service names it.
func copyOfReleasedStore() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-released-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = "\(folder)/orchestrator.sqlite3"
    try FileManager.default.copyItem(atPath: releasedStore, toPath: path)
    return path
}

@Suite("The orchestrator's store moves from the released generic table to its typed tables", .timeLimit(.minutes(2)))
struct MigrationTests {
    @Test(
        "A store written by the previous release migrates with nothing lost: every case, step, deadline, disclosure and identity",
        arguments: TestStore.allCases)
    func releasedStoreMigrates(_ store: TestStore) async throws {
        let (released, accessRows, access, head) = try releasedRecords()
        let cases = released.filter { $0.kind == "case" }
        let steps = released.filter { $0.kind == "outbox" }
        let identities = released.filter { $0.kind == "case-identity" }
        #expect(cases.count == 9 && steps.count == 7 && identities.count == 6 && accessRows == 15)
        let dataDir: String?
        var databaseURL: String? = nil
        switch store {
        case .sqlite:
            dataDir = (try copyOfReleasedStore() as NSString).deletingLastPathComponent
        case .postgresql:
            // The same records, as the previous release keeps them on PostgreSQL (its schema 4, rows as they are).
            let empty = try await TestServiceHost.start(.orchestrator, store: .postgresql) { _ in [] }
            databaseURL = empty.databaseURL
            try empty.host.store.database.transaction { session throws(StorageError) in
                for record in released {
                    try session.execute(
                        "INSERT INTO hsb_records (kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            .text(record.kind), .text(record.id), .text(record.subjectID), .integer(record.version), .text(record.body),
                            .integer(record.createdAtUnixMillis), .integer(record.updatedAtUnixMillis),
                        ])
                }
                for row in access {
                    try session.execute(
                        "INSERT INTO hsb_access_log (at_unix_ms, agency, user_name, action, kind, record_id, purpose, request_id, seq, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row.enumerated().map { index, value in
                            [0, 8].contains(index) ? .integer(Int64(value ?? "") ?? 0) : .text(value ?? "")
                        })
                }
                try session.execute(
                    "UPDATE hsb_access_chain SET seq = ?, hash = ? WHERE id = 1", [.integer(Int64(head[0] ?? "") ?? 0), .text(head[1] ?? "")])
            }
            await empty.stopKeepingData()
            dataDir = nil
        }
        // The service starts on it: its migration runs once, under the migration lock.
        let intake = try await startIntake(store)
        let orchestrator = try await OrchestratorHost.start(store, intakePort: intake.port, dataDir: dataDir, databaseURL: databaseURL)
        #expect(try orchestrator.server.host.store.database.schemaVersion() == 101)
        // Every case, as the released body held it, with its version and times.
        for record in cases {
            let expected = try #require(CaseState(body: record.body))
            let row = try #require(
                try orchestrator.rows(
                    "SELECT child_subject_id, version, opened_at_unix_ms, updated_at_unix_ms FROM cases WHERE case_id = ?", [.text(record.id)]
                ).first)
            #expect(row == [record.subjectID, String(record.version), String(record.createdAtUnixMillis), String(record.updatedAtUnixMillis)])
            #expect(try orchestrator.cases(ofChild: record.subjectID).contains(expected))
            let deadlines = try orchestrator.rows("SELECT task_id FROM case_deadlines WHERE case_id = ? ORDER BY position", [.text(record.id)])
            #expect(deadlines.map { $0[0] ?? "" } == expected.deadlines.map(\.taskID))
            let disclosures = try orchestrator.rows("SELECT what FROM disclosures WHERE case_id = ? ORDER BY position", [.text(record.id)])
            #expect(disclosures.map { $0[0] ?? "" } == expected.disclosures.map(\.what))
        }
        // Every step as it stood.
        for record in steps {
            let expected = try #require(StepState(body: record.body))
            #expect(try orchestrator.steps(ofCase: record.subjectID).contains(expected))
        }
        #expect(
            try orchestrator.rows("SELECT case_id, identity, child_subject_id FROM case_identities ORDER BY case_id")
                == identities.sorted { $0.id < $1.id }.map { [$0.id, $0.subjectID, $0.body] })
        // The open-deadline index's rows were derived: the table answers the same.
        let indexed = released.filter { $0.kind == "open-deadline" }.count
        #expect(try orchestrator.rows("SELECT case_id FROM case_deadlines WHERE completed_at_unix_ms IS NULL AND due_unix_ms > 0").count == indexed)
        // Nothing is left in the generic table, and the access log is untouched and whole.
        #expect(try orchestrator.rows("SELECT kind FROM hsb_records").isEmpty)
        #expect(try orchestrator.rows("SELECT seq FROM hsb_access_log").count == accessRows)
        let report = try orchestrator.server.host.store.verifyAccessLog()
        #expect(report.broken == nil && report.rows == accessRows)
        let ledger = try orchestrator.server.host.store.snapshot(now: 0) { tx throws(RecordStoreError) in
            do throws(StorageError) { return try CaseTables.disclosureChain.verify(tx.sql) } catch { throw .storage(error) }
        }
        let disclosed = try cases.reduce(0) { $0 + (try #require(CaseState(body: $1.body))).disclosures.count }
        #expect(ledger.broken == nil && ledger.rows == disclosed && disclosed > 0)
        // And it serves them: a case read through the service is the released one.
        let first = try #require(cases.first)
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: first.id),
            options: CallOptions(purpose: "migration check"))
        #expect(view.version == first.version && view.childSubjectId == first.subjectID)
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("A record the migration cannot read stays where it was, under its kind, and the rest move")
    func unreadableRecordStays() throws {
        let path = try copyOfReleasedStore()
        let database = try SQLiteDatabase(path: path)
        try database.transaction { session throws(StorageError) in
            try session.execute(
                "INSERT INTO hsb_records (kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms) VALUES ('case', 'case-garbled', 'child-x', 1, 'pb1:not base64!', 1, 1)"
            )
        }
        let store = try RecordStore(database: database, migrations: CaseTables.migrations)
        let left = try store.snapshot(now: 0) { tx throws(RecordStoreError) in try tx.all(kind: "case") }
        #expect(left.map(\.id) == ["case-garbled"])
        let moved = try store.snapshot(now: 0) { tx throws(RecordStoreError) in
            do throws(StorageError) { return try tx.sql.query("SELECT COUNT(*) FROM cases", []) } catch { throw .storage(error) }
        }
        #expect(moved.first?[0] == "9")
    }
}
