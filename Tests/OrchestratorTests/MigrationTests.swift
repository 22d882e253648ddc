import CamhsService
import Foundation
import HSBPathway
import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import IntakeService
import MappaService
import Testing
import YouthJusticeService

@testable import OrchestratorService

/// Each service's store as the release before the typed tables wrote it (schema version 4):
/// Tests/Fixtures/Stores/README.md says how they were made.
func releasedStore(_ service: String) -> String {
    packageRoot.appendingPathComponent("Tests/Fixtures/Stores/release-9757c2c/\(service).sqlite3").path
}

typealias ReleasedRecord = StoredRecord

/// The released store's records and access log, read with plain SQL (nothing migrated).
func releasedRecords(_ service: String = "orchestrator") throws -> (records: [ReleasedRecord], accessRows: Int, access: [[String?]], head: [String?])
{
    let database = try SQLiteDatabase(path: copyOfReleasedStore(service))
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
func copyOfReleasedStore(_ service: String = "orchestrator") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-released-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = "\(folder)/\(service).sqlite3"
    try FileManager.default.copyItem(atPath: releasedStore(service), toPath: path)
    return path
}

/// The released store of `service` where a test runs it: a copy of the file (its data folder), or
/// on PostgreSQL the same rows, access log and chain head in a fresh schema holding the store's
/// own tables only, as that release kept them (its URL).
func releasedStore(_ service: ServiceDescriptor, on store: TestStore) async throws -> (dataDir: String?, databaseURL: String?) {
    switch store {
    case .sqlite:
        return ((try copyOfReleasedStore(service.name) as NSString).deletingLastPathComponent, nil)
    case .postgresql:
        let (released, _, access, head) = try releasedRecords(service.name)
        let empty = try await TestServiceHost.start(service, store: .postgresql) { _ in [] }
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
        return (nil, empty.databaseURL)
    }
}

@Suite("The orchestrator's store moves from the released generic table to its typed tables", .timeLimit(.minutes(2)))
struct MigrationTests {
    @Test(
        "A store written by the previous release migrates with nothing lost: every case, step, deadline, disclosure and identity",
        arguments: TestStore.allCases)
    func releasedStoreMigrates(_ store: TestStore) async throws {
        let (released, accessRows, _, _) = try releasedRecords()
        let cases = released.filter { $0.kind == "case" }
        let steps = released.filter { $0.kind == "outbox" }
        let identities = released.filter { $0.kind == "case-identity" }
        #expect(cases.count == 9 && steps.count == 13 && identities.count == 6 && accessRows == 19)
        let (dataDir, databaseURL) = try await releasedStore(.orchestrator, on: store)
        // The service starts on it: its migration runs once, under the migration lock.
        let intake = try await startIntake(store)
        let orchestrator = try await OrchestratorHost.start(store, intakePort: intake.port, dataDir: dataDir, databaseURL: databaseURL)
        #expect(try orchestrator.server.host.store.database.schemaVersion() == CaseTables.migrations.last?.version)
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

    /// Each agency service with its migrations and handlers, and a read through it that must find the moved records.
    static let agencies: [(ServiceDescriptor, [Migration], @Sendable (ServiceResources) -> [MethodHandler])] = [
        (.intake, IntakeService.migrations, { IntakeService.handlers($0, IntakeConfiguration(localAuthority: "Camden")) }),
        (.youthJustice, YouthJusticeService.migrations, { YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar()) }),
        (.camhs, CamhsService.migrations, { CamhsService.handlers($0) }),
        (.mappa, MappaService.migrations, { MappaService.handlers($0) }),
    ]

    @Test(
        "Each agency service's store from the previous release moves into its tables with nothing lost: every record with its id, subject, version, times and content",
        arguments: TestStore.allCases)
    func agencyStoresMigrate(_ store: TestStore) async throws {
        for (descriptor, migrations, handlers) in Self.agencies {
            let (released, accessRows, _, _) = try releasedRecords(descriptor.name)
            #expect(!released.isEmpty, "the \(descriptor.name) fixture holds records")
            let (dataDir, databaseURL) = try await releasedStore(descriptor, on: store)
            let server = try await TestServiceHost.start(
                descriptor, store: store, dataDir: dataDir, databaseURL: databaseURL, migrations: migrations, handlers: handlers)
            for record in released {
                let rows = try server.records(record.kind, subjectID: record.subjectID)
                let row = try #require(rows.first { $0.id == record.id }, "\(descriptor.name) \(record.kind) \(record.id) moved")
                #expect(
                    row.version == record.version && row.createdAtUnixMillis == record.createdAtUnixMillis
                        && row.updatedAtUnixMillis == record.updatedAtUnixMillis)
                // The content is the released body's: the reply (or the referral and its screening) byte for byte.
                if let object = try JSONSerialization.jsonObject(with: Data(record.body.utf8)) as? [String: Any] {
                    for (key, column) in [("reply", "document"), ("referral", "referral"), ("result", "screening")] {
                        guard let text = object[key] as? String else { continue }
                        #expect(row.bytes(column) == Data(base64Encoded: text).map { [UInt8]($0) }, "\(record.kind) \(record.id) \(column)")
                    }
                }
            }
            let left = try server.host.store.snapshot(now: 0) { tx throws(RecordStoreError) in
                do throws(StorageError) { return try tx.sql.query("SELECT kind FROM hsb_records", []) } catch { throw .storage(error) }
            }
            #expect(left.isEmpty, "\(descriptor.name) left \(left)")
            let report = try server.host.store.verifyAccessLog()
            #expect(report.broken == nil && report.rows == accessRows)
            if descriptor == .intake {
                // And intake serves a moved referral as it was.
                let referral = try #require(released.first { $0.kind == "referral" })
                let view = try await server.client(.socialCare).call(
                    IntakeV1.Intake.Method.getReferral, IntakeV1.GetReferralRequest(referralId: referral.id),
                    options: CallOptions(purpose: "migration check"))
                #expect(view.referral?.child?.subjectID == referral.subjectID && view.version == referral.version)
            }
            await server.stop()
        }
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
