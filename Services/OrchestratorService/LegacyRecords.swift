import Foundation
import HSBPathway
import HSBStorage
import HSBWire

/// Moves a store written before the typed tables (every case, step and index row in the generic
/// `hsb_records` table) into them, inside the migration's transaction: each case with its version
/// and times, its deadlines and its disclosures (chained case by case, each case's in the order they
/// were made), each step as it stood, each identity. The index rows (`outbox-due`, `open-deadline`,
/// `index-built`) are derived and dropped. A record that cannot be read is left where it is, under
/// its kind, for an operator (`hsbctl export` still lists it): nothing is lost.
enum LegacyRecords {
    static func move(_ session: any SQLSession) throws(StorageError) {
        try GenericRecords.move(kind: "case", session) { (record) throws(StorageError) -> Bool in
            guard let state = CaseState(body: record.body), let document = try? state.stored.encoded() else { return false }
            try session.execute(
                "INSERT INTO cases (case_id, child_subject_id, role, status, threshold, version, opened_at_unix_ms, updated_at_unix_ms, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(state.caseID), .text(state.childSubjectID), .text(state.role.rawValue), .text(state.status.rawValue),
                    .text(state.threshold), .integer(record.version), .integer(record.createdAtUnixMillis), .integer(record.updatedAtUnixMillis),
                    .blob(document),
                ])
            try CaseTables.syncDeadlines(state, previous: [], session)
            try CaseTables.appendDisclosures(state, after: 0, session)
            return true
        }
        try GenericRecords.move(kind: "outbox", session) { (record) throws(StorageError) -> Bool in
            guard let step = StepState(body: record.body) else { return false }
            try session.execute(
                "INSERT INTO outbox (case_id, agency, method, status, attempts, failures_after_send, last_error, next_attempt_unix_ms, purpose, acting_agency, acting_user, payload, step_id, version, created_at_unix_ms, updated_at_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                // The released store's steps carry no act signature, and the table has no column
                // for one until migration 102: every value but that last.
                CaseTables.stepValues(step).dropLast() + [
                    .text(step.stepID), .integer(record.version), .integer(record.createdAtUnixMillis), .integer(record.updatedAtUnixMillis),
                ])
            return true
        }
        try GenericRecords.move(kind: "case-identity", session) { (record) throws(StorageError) -> Bool in
            try session.execute(
                "INSERT INTO case_identities (case_id, identity, child_subject_id) VALUES (?, ?, ?)",
                [.text(record.id), .text(record.subjectID), .text(record.body)])
            return true
        }
        for derived in ["outbox-due", "open-deadline", "index-built"] {
            try session.execute("DELETE FROM hsb_records WHERE kind = ?", [.text(derived)])
        }
    }

    /// A record of the generic table.
}
