import Foundation
import HSBPathway
import HSBRuntime
public import HSBServiceKit
public import HSBStorage
import HSBWire

/// The orchestrator's tables: each case (the whole case kept as one protobuf document, with the
/// columns a person asks about beside it), its deadlines, the disclosure ledger, the outbox and the
/// child identities that find likely duplicates. The deadline, disclosure and identity rows are kept
/// in step with the case in the transaction that writes it. docs/STORE.md describes them for auditors.
public enum CaseTables {
    /// The disclosure ledger (INF-03, INF-05): every disclosure of every case, in the order they were
    /// made, as a hash chain that `hsbctl audit verify` walks.
    public static let disclosureChain = HashChain(
        name: "disclosure ledger", table: "disclosures", head: "disclosure_chain",
        columns: ["case_id", "position", "at_unix_ms", "to_service", "what", "purpose", "lawful_basis", "consent", "parents_told"])

    /// What the orchestrator's retention rules (`--retention-file`) may name. `case`: a finished case
    /// (no longer open, nothing still owed to an agency) with its deadlines, steps and identity,
    /// by its last change. `disclosure`: the disclosure ledger's rows by when each disclosure was
    /// made, oldest first, only ever from the ledger's start (a row that has not expired holds back
    /// the ones after it), the chain sealed where it then starts so that audit verify still walks it.
    /// A case's ledger rows follow the `disclosure` rule, not the case's.
    public static let retentionTargets: [RetentionTarget] = [
        RetentionTarget(kind: "case") { cutoff, limit, tx throws(RecordStoreError) in
            let open = CaseStatus.allCases.filter(\.isOpen).map { SQLValue.text($0.rawValue) }
            return try tx.run { () throws(StorageError) -> [(id: String, changedAt: Int64)] in
                let rows = try tx.sql.queryValues(
                    "SELECT case_id, updated_at_unix_ms FROM cases WHERE status NOT IN (\(open.map { _ in "?" }.joined(separator: ", "))) AND updated_at_unix_ms < ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.case_id = cases.case_id AND outbox.status = ?) ORDER BY updated_at_unix_ms, case_id LIMIT ?",
                    open + [.integer(cutoff), .text("pending"), .integer(Int64(limit))])
                var removed: [(id: String, changedAt: Int64)] = []
                for row in rows {
                    guard case .text(let caseID) = row[0], let changed = row[1].integer else { continue }
                    for table in ["case_deadlines", "outbox", "case_identities", "cases"] {
                        try tx.sql.execute("DELETE FROM \(table) WHERE case_id = ?", [.text(caseID)])
                    }
                    removed.append((caseID, changed))
                }
                return removed
            }
        },
        RetentionTarget(kind: "disclosure") { cutoff, limit, tx throws(RecordStoreError) in
            try tx.run { () throws(StorageError) -> [(id: String, changedAt: Int64)] in
                let oldest = try tx.sql.queryValues(
                    "SELECT case_id, position, at_unix_ms, seq FROM disclosures ORDER BY seq LIMIT ?", [.integer(Int64(limit))])
                var expired: [(id: String, changedAt: Int64)] = []
                var through: Int64?
                for row in oldest {
                    guard case .text(let caseID) = row[0], let position = row[1].integer, let at = row[2].integer, let seq = row[3].integer,
                        at < cutoff
                    else { break }
                    expired.append(("\(caseID)#\(position)", at))
                    through = seq
                }
                if let through { try disclosureChain.removeStart(through: through, tx.sql) }
                return expired
            }
        },
    ]

    /// The orchestrator's migrations, after the store's own (versions 101 on).
    public static let migrations: [Migration] = [
        Migration(
            version: 101, name: "orchestrator: typed tables for cases, deadlines, disclosures, the outbox and identities",
            sql: """
                CREATE TABLE cases (case_id TEXT PRIMARY KEY, child_subject_id TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, threshold TEXT NOT NULL, version BIGINT NOT NULL, opened_at_unix_ms BIGINT NOT NULL, updated_at_unix_ms BIGINT NOT NULL, document $BLOB NOT NULL);
                CREATE INDEX cases_by_child ON cases (child_subject_id, opened_at_unix_ms);
                CREATE TABLE case_deadlines (case_id TEXT NOT NULL, position BIGINT NOT NULL, task_id TEXT NOT NULL, rule_id TEXT NOT NULL, owner TEXT NOT NULL, assignee TEXT NOT NULL, description TEXT NOT NULL, due_unix_ms BIGINT NOT NULL, completed_by TEXT, completed_at_unix_ms BIGINT, PRIMARY KEY (case_id, position));
                CREATE INDEX case_deadlines_open_by_due ON case_deadlines (due_unix_ms, case_id, position) WHERE completed_at_unix_ms IS NULL;
                CREATE TABLE disclosures (case_id TEXT NOT NULL, position BIGINT NOT NULL, at_unix_ms BIGINT NOT NULL, to_service TEXT NOT NULL, what TEXT NOT NULL, purpose TEXT NOT NULL, lawful_basis TEXT NOT NULL, consent TEXT NOT NULL, parents_told TEXT NOT NULL, seq BIGINT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (case_id, position));
                CREATE UNIQUE INDEX disclosures_by_seq ON disclosures (seq);
                \(disclosureChain.headSQL);
                CREATE TABLE outbox (step_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, agency TEXT NOT NULL, method TEXT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL, failures_after_send BIGINT NOT NULL, last_error TEXT NOT NULL, next_attempt_unix_ms BIGINT NOT NULL, purpose TEXT, acting_agency TEXT, acting_user TEXT, payload $BLOB NOT NULL, version BIGINT NOT NULL, created_at_unix_ms BIGINT NOT NULL, updated_at_unix_ms BIGINT NOT NULL, claimed_by TEXT, claimed_until_unix_ms BIGINT, attempted_by TEXT);
                CREATE INDEX outbox_pending_by_due ON outbox (next_attempt_unix_ms, step_id) WHERE status = 'pending';
                CREATE INDEX outbox_by_status ON outbox (status, updated_at_unix_ms);
                CREATE INDEX outbox_by_case ON outbox (case_id, created_at_unix_ms);
                CREATE TABLE case_identities (case_id TEXT PRIMARY KEY, identity TEXT NOT NULL, child_subject_id TEXT NOT NULL);
                CREATE INDEX case_identities_by_identity ON case_identities (identity);
                CREATE TABLE orchestrator_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until_unix_ms BIGINT NOT NULL)
                """,
            transform: { session, _ throws(StorageError) in try LegacyRecords.move(session) }),
        Migration(
            version: 102, name: "orchestrator: a relayed act's signature by the agency that did it, kept with its step",
            sql: "ALTER TABLE outbox ADD COLUMN act_proof $BLOB"),
    ]

    // MARK: cases

    /// A case as stored: the case, its version (1, then +1 per change) and when it was opened.
    struct Row {
        var state: CaseState
        var version: Int64
        var openedAt: Int64
        var updatedAt: Int64
    }

    static let caseColumns = "document, version, opened_at_unix_ms, updated_at_unix_ms"

    static func caseRow(_ row: [SQLValue]) -> Row? {
        guard let bytes = row[0].bytes, let stored = try? OrchestratorV1.StoredCase(decoding: bytes), let version = row[1].integer else { return nil }
        return Row(state: CaseState(stored: stored), version: version, openedAt: row[2].integer ?? 0, updatedAt: row[3].integer ?? 0)
    }

    static func getCase(_ id: String, _ tx: RecordTransaction) throws(RecordStoreError) -> Row? {
        try tx.run { () throws(StorageError) in try tx.sql.queryValues("SELECT \(caseColumns) FROM cases WHERE case_id = ?", [.text(id)]) }
            .first.flatMap(caseRow)
    }

    /// The cases about `subjectID` (as the child), oldest first.
    static func cases(ofChild subjectID: String, _ tx: RecordTransaction) throws(RecordStoreError) -> [Row] {
        try tx.run { () throws(StorageError) in
            try tx.sql.queryValues(
                "SELECT \(caseColumns) FROM cases WHERE child_subject_id = ? ORDER BY opened_at_unix_ms, case_id", [.text(subjectID)])
        }.compactMap(caseRow)
    }

    /// Writes a case: a new one when `previous` is nil, else over `previous` (its row as read in
    /// this transaction; a change made since is refused, never overwritten), and brings its
    /// deadline and disclosure rows in line with it, from what changed since `previous`.
    static func saveCase(_ state: CaseState, over previous: Row?, _ tx: RecordTransaction) throws(RecordStoreError) {
        let document: [UInt8]
        do { document = try state.stored.encoded() } catch {
            throw .refused(.invalidArgument, "case \(state.caseID) cannot be stored: \(error)")
        }
        let now = tx.now
        if let previous {
            let version = previous.version
            let changed = try tx.run { () throws(StorageError) in
                try tx.sql.execute(
                    "UPDATE cases SET status = ?, threshold = ?, role = ?, version = version + 1, updated_at_unix_ms = ?, document = ? WHERE case_id = ? AND version = ?",
                    [
                        .text(state.status.rawValue), .text(state.threshold), .text(state.role.rawValue), .integer(now), .blob(document),
                        .text(state.caseID), .integer(version),
                    ])
            }
            guard changed == 1 else {
                let actual = try getCase(state.caseID, tx)?.version ?? 0
                throw actual == 0
                    ? .notFound(kind: "case", id: state.caseID)
                    : .versionConflict(kind: "case", id: state.caseID, expected: version, actual: actual)
            }
        } else {
            // One statement: an id already taken inserts nothing.
            let inserted = try tx.run { () throws(StorageError) in
                try tx.sql.execute(
                    "INSERT INTO cases (case_id, child_subject_id, role, status, threshold, version, opened_at_unix_ms, updated_at_unix_ms, document) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING",
                    [
                        .text(state.caseID), .text(state.childSubjectID), .text(state.role.rawValue), .text(state.status.rawValue),
                        .text(state.threshold), .integer(now), .integer(now), .blob(document),
                    ])
            }
            guard inserted == 1 else { throw .alreadyExists(kind: "case", id: state.caseID) }
        }
        try tx.run { () throws(StorageError) in
            try syncDeadlines(state, previous: previous?.state.deadlines ?? [], tx.sql)
            try appendDisclosures(state, after: previous?.state.disclosures.count ?? 0, tx.sql)
        }
    }

    /// A deadline's column values (after the case and its place).
    static func deadlineValues(_ item: CaseState.DeadlineItem) -> [SQLValue] {
        [
            .text(item.taskID), .text(item.ruleID), .text(Agency(rawValue: item.owner).name), .text(item.assignee), .text(item.description),
            .integer(item.due), .optional(item.completedBy), .optional(item.completedAt),
        ]
    }

    /// The case's deadlines as rows, one per place in its list (a task may recur with another due
    /// time): rows for the places added since `previous`, and the places whose deadline changed
    /// (completed, say). A case's deadlines are only ever added to or changed in place, and its rows
    /// are written with its document, so `previous` (the document as read) says what the rows hold.
    static func syncDeadlines(_ state: CaseState, previous: [CaseState.DeadlineItem], _ session: any SQLSession) throws(StorageError) {
        for (index, item) in state.deadlines.enumerated() {
            let position = Int64(index)
            if index < previous.count {
                guard previous[index] != item else { continue }
                try session.execute(
                    "UPDATE case_deadlines SET task_id = ?, rule_id = ?, owner = ?, assignee = ?, description = ?, due_unix_ms = ?, completed_by = ?, completed_at_unix_ms = ? WHERE case_id = ? AND position = ?",
                    deadlineValues(item) + [.text(state.caseID), .integer(position)])
            } else {
                try session.execute(
                    "INSERT INTO case_deadlines (task_id, rule_id, owner, assignee, description, due_unix_ms, completed_by, completed_at_unix_ms, case_id, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    deadlineValues(item) + [.text(state.caseID), .integer(position)])
            }
        }
        if previous.count > state.deadlines.count {
            try session.execute(
                "DELETE FROM case_deadlines WHERE case_id = ? AND position >= ?", [.text(state.caseID), .integer(Int64(state.deadlines.count))])
        }
    }

    /// Adds the case's disclosures after the first `count` (those already in the ledger) to its
    /// chain. A case's disclosures are only ever added to, so the ledger holds every one in the
    /// order it was made.
    static func appendDisclosures(_ state: CaseState, after count: Int, _ session: any SQLSession) throws(StorageError) {
        // One move of the ledger's head for all of this write's disclosures.
        let cursor = ChainCursor()
        for (index, entry) in state.disclosures.enumerated().dropFirst(count) {
            try disclosureChain.append(
                [
                    .text(state.caseID), .integer(Int64(index)), .integer(entry.at), .text(entry.toService), .text(entry.what),
                    .text(entry.purpose), .text(entry.lawfulBasis), .text(entry.consent), .text(entry.parentsTold ?? ""),
                ], to: session, cursor: cursor)
        }
        try disclosureChain.flush(cursor, session)
    }

    // MARK: deadlines

    /// An open, dated deadline of a case, as its row holds it.
    struct OpenDeadline {
        var caseID: String
        var position: Int64
        var task: CaseState.DeadlineItem

        /// Where a page of a listing ends: the due time (19 digits), the case and the place in its list.
        var pageToken: String { "\(Self.sortable(task.due))|\(caseID)|\(position)" }

        static func sortable(_ time: Int64) -> String {
            let digits = String(max(0, time))
            return String(repeating: "0", count: max(0, 19 - digits.count)) + digits
        }

        /// A page token's parts; nil when it is not one this service gave.
        static func parse(token: String) -> (due: Int64, caseID: String, position: Int64)? {
            let parts = token.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].utf8.count == 19, let due = Int64(parts[0]), let position = Int64(parts[2]), position >= 0,
                !parts[1].isEmpty, parts[1].utf8.count <= 200
            else { return nil }
            return (due, String(parts[1]), position)
        }
    }

    /// The open, dated deadlines due before `time`, soonest first: those `owner` holds when given,
    /// after `token`'s row when given, at most `limit`.
    static func openDeadlines(
        dueBefore time: Int64, owner: Agency? = nil, after token: (due: Int64, caseID: String, position: Int64)? = nil, limit: Int = .max,
        _ tx: RecordTransaction
    ) throws(RecordStoreError) -> [OpenDeadline] {
        var sql =
            "SELECT case_id, position, task_id, rule_id, owner, assignee, description, due_unix_ms FROM case_deadlines WHERE completed_at_unix_ms IS NULL AND due_unix_ms > 0 AND due_unix_ms < ?"
        var parameters: [SQLValue] = [.integer(time)]
        if let owner {
            sql += " AND owner = ?"
            parameters.append(.text(owner.name))
        }
        if let token {
            sql += " AND (due_unix_ms > ? OR (due_unix_ms = ? AND (case_id > ? OR (case_id = ? AND position > ?))))"
            parameters += [.integer(token.due), .integer(token.due), .text(token.caseID), .text(token.caseID), .integer(token.position)]
        }
        sql += " ORDER BY due_unix_ms, case_id, position"
        if limit != .max {
            sql += " LIMIT ?"
            parameters.append(.integer(Int64(limit)))
        }
        let rows = try tx.run { () throws(StorageError) in try tx.sql.query(sql, parameters) }
        return rows.compactMap { row in
            guard let caseID = row[0], let position = Int64(row[1] ?? ""), let due = Int64(row[7] ?? "") else { return nil }
            return OpenDeadline(
                caseID: caseID, position: position,
                task: CaseState.DeadlineItem(
                    taskID: row[2] ?? "", description: row[6] ?? "", owner: agency(named: row[4] ?? "").rawValue, assignee: row[5] ?? "",
                    due: due, ruleID: row[3] ?? "", completedBy: nil, completedAt: nil))
        }
    }

    /// The agency a stored name stands for (`agency-11` for one this release does not know).
    static func agency(named name: String) -> Agency {
        if let known = Agency(name: name) { return known }
        if name.hasPrefix("agency-"), let value = Int32(name.dropFirst("agency-".count)) { return Agency(rawValue: value) }
        return .unspecified
    }

    // MARK: identities

    static func identityMatches(_ identity: String, _ tx: RecordTransaction) throws(RecordStoreError) -> [(caseID: String, childID: String)] {
        try tx.run { () throws(StorageError) in
            try tx.sql.query("SELECT case_id, child_subject_id FROM case_identities WHERE identity = ? ORDER BY case_id", [.text(identity)])
        }.map { (caseID: $0[0] ?? "", childID: $0[1] ?? "") }
    }

    static func indexIdentity(caseID: String, identity: String, childID: String, _ tx: RecordTransaction) throws(RecordStoreError) {
        try tx.run { () throws(StorageError) in
            try tx.sql.execute(
                "INSERT INTO case_identities (case_id, identity, child_subject_id) VALUES (?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET identity = excluded.identity, child_subject_id = excluded.child_subject_id",
                [.text(caseID), .text(identity), .text(childID)])
        }
    }

    static func forgetIdentity(caseID: String, _ tx: RecordTransaction) throws(RecordStoreError) {
        try tx.run { () throws(StorageError) in try tx.sql.execute("DELETE FROM case_identities WHERE case_id = ?", [.text(caseID)]) }
    }

    // MARK: the outbox

    static let stepColumns =
        "step_id, case_id, agency, method, status, attempts, failures_after_send, last_error, next_attempt_unix_ms, purpose, acting_agency, acting_user, payload, version, created_at_unix_ms, act_proof"

    /// A step as stored, with its version and when it was written.
    struct StepRow {
        var step: StepState
        var version: Int64
        var createdAt: Int64
    }

    static func stepRow(_ row: [SQLValue]) -> StepRow? {
        guard let stepID = row[0].columnText, let caseID = row[1].columnText, let attempts = row[5].integer.flatMap(Int32.init(exactly:)),
            let failures = row[6].integer.flatMap(Int32.init(exactly:)), let next = row[8].integer, let payload = row[12].bytes,
            let version = row[13].integer
        else { return nil }
        let acting = row[10].columnText.map(agency(named:))
        return StepRow(
            step: StepState(
                stepID: stepID, caseID: caseID, service: row[2].columnText ?? "", method: row[3].columnText ?? "", payload: Data(payload),
                status: row[4].columnText ?? "", attempts: attempts, lastError: row[7].columnText ?? "", nextAttempt: next,
                purpose: row[9].columnText, actingAgency: acting.map(\.rawValue), actingUser: row[11].columnText,
                failuresAfterSend: failures == 0 ? nil : failures, actProof: row[15].bytes.map { Data($0) }),
            version: version, createdAt: row[14].integer ?? 0)
    }

    static func stepValues(_ step: StepState) -> [SQLValue] {
        [
            .text(step.caseID), .text(step.service), .text(step.method), .text(step.status), .integer(Int64(step.attempts)),
            .integer(Int64(step.failuresAfterSend ?? 0)), .text(step.lastError), .integer(step.nextAttempt), .optional(step.purpose),
            .optional(step.actingAgency.map { Agency(rawValue: $0).name }), .optional(step.actingUser), .blob([UInt8](step.payload)),
            step.actProof.map { .blob([UInt8]($0)) } ?? .null,
        ]
    }

    /// Writes a new step (durable before it is sent), claimed by `claimedBy` until `until` when
    /// given: the replica that wrote it sends it at once, and no other replica takes it meanwhile.
    static func insertStep(_ step: StepState, claimedBy: String? = nil, until: Int64? = nil, _ tx: RecordTransaction) throws(RecordStoreError) {
        try tx.run { () throws(StorageError) in
            try tx.sql.execute(
                "INSERT INTO outbox (case_id, agency, method, status, attempts, failures_after_send, last_error, next_attempt_unix_ms, purpose, acting_agency, acting_user, payload, act_proof, step_id, version, created_at_unix_ms, updated_at_unix_ms, claimed_by, claimed_until_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                stepValues(step) + [.text(step.stepID), .integer(tx.now), .integer(tx.now), .optional(claimedBy), .optional(until)])
        }
    }

    /// Rewrites a step over `version` (its claim released); a change made since is refused.
    /// `attemptedBy`: the replica that made the attempt being recorded (kept for operators).
    static func updateStep(_ step: StepState, version: Int64, attemptedBy: String? = nil, _ tx: RecordTransaction) throws(RecordStoreError) {
        let changed = try tx.run { () throws(StorageError) in
            try tx.sql.execute(
                "UPDATE outbox SET case_id = ?, agency = ?, method = ?, status = ?, attempts = ?, failures_after_send = ?, last_error = ?, next_attempt_unix_ms = ?, purpose = ?, acting_agency = ?, acting_user = ?, payload = ?, act_proof = ?, version = version + 1, updated_at_unix_ms = ?, claimed_by = NULL, claimed_until_unix_ms = NULL, attempted_by = COALESCE(?, attempted_by) WHERE step_id = ? AND version = ?",
                stepValues(step) + [.integer(tx.now), .optional(attemptedBy), .text(step.stepID), .integer(version)])
        }
        guard changed == 1 else {
            throw .versionConflict(kind: "outbox", id: step.stepID, expected: version, actual: try getStep(step.stepID, tx)?.version ?? 0)
        }
    }

    static func getStep(_ id: String, _ tx: RecordTransaction) throws(RecordStoreError) -> StepRow? {
        try tx.run { () throws(StorageError) in try tx.sql.queryValues("SELECT \(stepColumns) FROM outbox WHERE step_id = ?", [.text(id)]) }
            .first.flatMap(stepRow)
    }

    static func steps(ofCase caseID: String, _ tx: RecordTransaction) throws(RecordStoreError) -> [StepState] {
        try tx.run { () throws(StorageError) in
            try tx.sql.queryValues("SELECT \(stepColumns) FROM outbox WHERE case_id = ? ORDER BY created_at_unix_ms, step_id", [.text(caseID)])
        }.compactMap(stepRow).map(\.step)
    }

    /// Steps with `status`, oldest change first, at most `limit`.
    static func steps(status: String, limit: Int, _ tx: RecordTransaction) throws(RecordStoreError) -> [StepState] {
        try tx.run { () throws(StorageError) in
            try tx.sql.queryValues(
                "SELECT \(stepColumns) FROM outbox WHERE status = ? ORDER BY updated_at_unix_ms, step_id LIMIT ?",
                [.text(status), .integer(Int64(limit))])
        }.compactMap(stepRow).map(\.step)
    }

    /// When the oldest step still pending was written; nil when none is.
    static func oldestPendingStep(_ tx: RecordTransaction) throws(RecordStoreError) -> Int64? {
        let rows = try tx.run { () throws(StorageError) in
            try tx.sql.queryValues("SELECT MIN(created_at_unix_ms) FROM outbox WHERE status = 'pending'", [])
        }
        return rows.first?[0].integer
    }

    static func stepCount(status: String, _ tx: RecordTransaction) throws(RecordStoreError) -> Int {
        let rows = try tx.run { () throws(StorageError) in try tx.sql.query("SELECT COUNT(*) FROM outbox WHERE status = ?", [.text(status)]) }
        return Int(rows.first?[0] ?? "0") ?? 0
    }

    /// The pending steps due by `now` that no replica holds (never claimed, or its claim lapsed),
    /// soonest first, at most `limit`: (step, agency).
    static func dueSteps(now: Int64, limit: Int, _ tx: RecordTransaction) throws(RecordStoreError) -> [(stepID: String, service: String)] {
        try tx.run { () throws(StorageError) in
            try tx.sql.query(
                "SELECT step_id, agency FROM outbox WHERE status = 'pending' AND next_attempt_unix_ms <= ? AND (claimed_until_unix_ms IS NULL OR claimed_until_unix_ms < ?) ORDER BY next_attempt_unix_ms, step_id LIMIT ?",
                [.integer(now), .integer(now), .integer(Int64(limit))])
        }.map { (stepID: $0[0] ?? "", service: $0[1] ?? "") }
    }

    /// Claims a pending step for `replica` until `until`, unless another replica holds it; true
    /// when this replica now holds it. On PostgreSQL the row is locked with SKIP LOCKED, so two
    /// replicas claiming at once never wait on each other and only one of them wins.
    static func claimStep(_ id: String, replica: String, until: Int64, _ tx: RecordTransaction) throws(RecordStoreError) -> Bool {
        let lock = tx.dialect == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        return try tx.run { () throws(StorageError) in
            let free = try tx.sql.query(
                "SELECT step_id FROM outbox WHERE step_id = ? AND status = 'pending' AND (claimed_until_unix_ms IS NULL OR claimed_until_unix_ms < ? OR claimed_by = ?)\(lock)",
                [.text(id), .integer(tx.now), .text(replica)])
            guard !free.isEmpty else { return false }
            return try tx.sql.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until_unix_ms = ? WHERE step_id = ?", [.text(replica), .integer(until), .text(id)]) == 1
        }
    }

    // MARK: a subject access request

    /// Everything the orchestrator holds about a child: each of their cases (with its deadlines,
    /// chronology and disclosures) and the steps sent for it, as records (`case` and `outbox`, the
    /// content as protobuf after a `pb1:` tag), oldest first; for `hsbctl export`.
    public static func recordsAbout(child: String, _ tx: RecordTransaction) throws(RecordStoreError) -> [StoredRecord] {
        var records: [StoredRecord] = []
        for row in try cases(ofChild: child, tx) {
            records.append(
                StoredRecord(
                    kind: Deliverer.caseKind, id: row.state.caseID, subjectID: child, version: row.version, body: row.state.body,
                    createdAtUnixMillis: row.openedAt, updatedAtUnixMillis: row.updatedAt))
            let steps = try tx.run { () throws(StorageError) in
                try tx.sql.queryValues(
                    "SELECT \(stepColumns), updated_at_unix_ms FROM outbox WHERE case_id = ? ORDER BY created_at_unix_ms, step_id",
                    [.text(row.state.caseID)])
            }
            for step in steps {
                guard let stored = stepRow(step) else { continue }
                records.append(
                    StoredRecord(
                        kind: Deliverer.outboxKind, id: stored.step.stepID, subjectID: row.state.caseID, version: stored.version,
                        body: stored.step.body, createdAtUnixMillis: stored.createdAt, updatedAtUnixMillis: step[16].integer ?? stored.createdAt)
                )
            }
        }
        return records
    }

    // MARK: leases held by one replica at a time

    /// Takes or keeps the lease `name` for `replica` until `until`; true when this replica holds it.
    /// Work done once for the whole partnership (counting overdue deadlines for the gauges) is done by
    /// the lease's holder alone; another replica takes over when a lease lapses.
    static func holdLease(_ name: String, replica: String, until: Int64, _ tx: RecordTransaction) throws(RecordStoreError) -> Bool {
        try tx.run { () throws(StorageError) in
            try tx.sql.execute(
                "INSERT INTO orchestrator_leases (name, holder, until_unix_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_unix_ms = excluded.until_unix_ms WHERE orchestrator_leases.holder = excluded.holder OR orchestrator_leases.until_unix_ms < ?",
                [.text(name), .text(replica), .integer(until), .integer(tx.now)]) == 1
        }
    }
}

extension RecordTransaction {
    /// `body`'s storage errors as the store's.
    @discardableResult
    func run<T>(_ body: () throws(StorageError) -> T) throws(RecordStoreError) -> T {
        do throws(StorageError) { return try body() } catch { throw .storage(error) }
    }
}
