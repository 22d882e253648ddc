/// A record as stored: its kind and id, the subject it is about, its version, and its body.
public struct StoredRecord: Sendable, Hashable {
    public let kind: String
    public let id: String
    public let subjectID: String
    /// Starts at 1; each update adds 1.
    public let version: Int64
    /// The record's content (JSON, written and read by the service).
    public let body: String
    public let createdAtUnixMillis: Int64
    public let updatedAtUnixMillis: Int64

    public init(kind: String, id: String, subjectID: String, version: Int64, body: String, createdAtUnixMillis: Int64, updatedAtUnixMillis: Int64) {
        self.kind = kind
        self.id = id
        self.subjectID = subjectID
        self.version = version
        self.body = body
        self.createdAtUnixMillis = createdAtUnixMillis
        self.updatedAtUnixMillis = updatedAtUnixMillis
    }
}

/// One row of the access log (INF-05): who read or wrote what, when, and why.
public struct AccessEntry: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable {
        case read
        case write
        /// Removed when its retention period ended (the record is gone; this line stays).
        case delete
    }

    public let atUnixMillis: Int64
    public let agency: String
    public let user: String
    public let action: Action
    public let kind: String
    public let recordID: String
    public let purpose: String
    public let requestID: String
}

/// Why a store operation was refused.
public enum RecordStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case storage(StorageError)
    case notFound(kind: String, id: String)
    case alreadyExists(kind: String, id: String)
    /// The write was based on `expected`, but the record is now at `actual`.
    case versionConflict(kind: String, id: String, expected: Int64, actual: Int64)
    /// The idempotency key was first used for another method.
    case idempotencyKeyReused(key: String, firstMethod: String)
    /// The service's rules refused the change, having read the records in the same transaction;
    /// the transaction is rolled back and the caller gets `kind` with `message`.
    case refused(RefusalKind, String)

    public var description: String {
        switch self {
        case .storage(let error): "store: \(error)"
        case .notFound(let kind, let id): "no \(kind) with id \(id)"
        case .alreadyExists(let kind, let id): "a \(kind) with id \(id) already exists"
        case .versionConflict(let kind, let id, let expected, let actual):
            "\(kind) \(id) changed since it was read (your version \(expected), now \(actual)); read it again and reapply your change"
        case .idempotencyKeyReused(let key, let firstMethod): "idempotency key \(key) was already used for \(firstMethod)"
        case .refused(_, let message): message
        }
    }
}

/// Why a service's rules refused a change inside a transaction.
public enum RefusalKind: Sendable, Hashable {
    case invalidArgument
    case failedPrecondition
    case permissionDenied
}

/// The operations of one transaction on a service's records.
public struct RecordTransaction {
    let session: any SQLSession
    public let now: Int64
    /// `sqlite` or `postgresql`: for the few statements that differ (row locks).
    public let dialect: String
    /// Where this database transaction has taken the access log (its head is written once, at the end).
    let accessCursor: ChainCursor

    init(session: any SQLSession, now: Int64, dialect: String, accessCursor: ChainCursor) {
        self.session = session
        self.now = now
        self.dialect = dialect
        self.accessCursor = accessCursor
    }

    /// The transaction's statements, for a service's own typed tables.
    public var sql: any SQLSession { session }

    public func insert(kind: String, id: String, subjectID: String, body: String) throws(RecordStoreError) -> StoredRecord {
        if try get(kind: kind, id: id) != nil { throw .alreadyExists(kind: kind, id: id) }
        try run { () throws(StorageError) in
            try session.execute(
                "INSERT INTO hsb_records (kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms) VALUES (?, ?, ?, 1, ?, ?, ?)",
                [.text(kind), .text(id), .text(subjectID), .text(body), .integer(now), .integer(now)])
        }
        return StoredRecord(kind: kind, id: id, subjectID: subjectID, version: 1, body: body, createdAtUnixMillis: now, updatedAtUnixMillis: now)
    }

    /// Replaces the body of a record at `expectedVersion`; a stale version is refused, never overwritten.
    public func update(kind: String, id: String, expectedVersion: Int64, body: String) throws(RecordStoreError) -> StoredRecord {
        guard let current = try get(kind: kind, id: id) else { throw .notFound(kind: kind, id: id) }
        guard current.version == expectedVersion else {
            throw .versionConflict(kind: kind, id: id, expected: expectedVersion, actual: current.version)
        }
        let changed = try run { () throws(StorageError) in
            try session.execute(
                "UPDATE hsb_records SET body = ?, version = version + 1, updated_at_unix_ms = ? WHERE kind = ? AND id = ? AND version = ?",
                [.text(body), .integer(now), .text(kind), .text(id), .integer(expectedVersion)])
        }
        guard changed == 1 else { throw .versionConflict(kind: kind, id: id, expected: expectedVersion, actual: current.version + 1) }
        return StoredRecord(
            kind: kind, id: id, subjectID: current.subjectID, version: expectedVersion + 1, body: body,
            createdAtUnixMillis: current.createdAtUnixMillis, updatedAtUnixMillis: now)
    }

    /// Removes a record; true when there was one. For work-queue markers only: a case's records are
    /// versioned and kept, never removed.
    @discardableResult
    public func remove(kind: String, id: String) throws(RecordStoreError) -> Bool {
        try run { () throws(StorageError) in
            try session.execute("DELETE FROM hsb_records WHERE kind = ? AND id = ?", [.text(kind), .text(id)])
        } == 1
    }

    public func get(kind: String, id: String) throws(RecordStoreError) -> StoredRecord? {
        try run { () throws(StorageError) in
            try session.query(
                "SELECT kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms FROM hsb_records WHERE kind = ? AND id = ?",
                [.text(kind), .text(id)])
        }.first.map(Self.record)
    }

    /// The records of `kind` about `subjectID`, oldest first.
    public func list(kind: String, subjectID: String) throws(RecordStoreError) -> [StoredRecord] {
        try run { () throws(StorageError) in
            try session.query(
                "SELECT kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms FROM hsb_records WHERE kind = ? AND subject_id = ? ORDER BY created_at_unix_ms, id",
                [.text(kind), .text(subjectID)])
        }.map(Self.record)
    }

    /// Every record about `subjectID`, whatever its kind, oldest first (a subject access request).
    public func list(subjectID: String) throws(RecordStoreError) -> [StoredRecord] {
        try run { () throws(StorageError) in
            try session.query(
                "SELECT kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms FROM hsb_records WHERE subject_id = ? ORDER BY created_at_unix_ms, kind, id",
                [.text(subjectID)])
        }.map(Self.record)
    }

    /// Every record of `kind`, oldest first (for work queues such as an outbox).
    public func all(kind: String) throws(RecordStoreError) -> [StoredRecord] {
        try run { () throws(StorageError) in
            try session.query(
                "SELECT kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms FROM hsb_records WHERE kind = ? ORDER BY created_at_unix_ms, id",
                [.text(kind)])
        }.map(Self.record)
    }

    /// Records who read or wrote a record, and why (INF-05).
    public func logAccess(
        agency: String, user: String, action: AccessEntry.Action, kind: String, recordID: String, purpose: String, requestID: String
    )
        throws(RecordStoreError)
    {
        try run { () throws(StorageError) in
            try AccessChain.append(
                AccessEntry(
                    atUnixMillis: now, agency: agency, user: user, action: action, kind: kind, recordID: recordID, purpose: purpose,
                    requestID: requestID),
                to: session, cursor: accessCursor)
        }
    }

    /// The access log of one record, oldest first.
    public func accessLog(kind: String, recordID: String) throws(RecordStoreError) -> [AccessEntry] {
        try run { () throws(StorageError) in
            try session.query(
                "SELECT at_unix_ms, agency, user_name, action, kind, record_id, purpose, request_id FROM hsb_access_log WHERE kind = ? AND record_id = ? ORDER BY seq",
                [.text(kind), .text(recordID)])
        }.map { row in
            AccessEntry(
                atUnixMillis: Int64(row[0] ?? "0") ?? 0, agency: row[1] ?? "", user: row[2] ?? "",
                action: AccessEntry.Action(rawValue: row[3] ?? "") ?? .read, kind: row[4] ?? "", recordID: row[5] ?? "", purpose: row[6] ?? "",
                requestID: row[7] ?? "")
        }
    }

    static func record(_ row: [String?]) -> StoredRecord {
        StoredRecord(
            kind: row[0] ?? "", id: row[1] ?? "", subjectID: row[2] ?? "", version: Int64(row[3] ?? "0") ?? 0, body: row[4] ?? "",
            createdAtUnixMillis: Int64(row[5] ?? "0") ?? 0, updatedAtUnixMillis: Int64(row[6] ?? "0") ?? 0)
    }

    @discardableResult
    func run<T>(_ body: () throws(StorageError) -> T) throws(RecordStoreError) -> T {
        do throws(StorageError) { return try body() } catch { throw .storage(error) }
    }
}

/// A service's records on SQLite or PostgreSQL: versioned records, an access log, and
/// idempotency keys, each operation one durable transaction.
public final class RecordStore: Sendable {
    public let database: any SQLDatabase

    /// The store's own schema, versioned; a service adds its migrations after these.
    public static let schema: [Migration] = [
        Migration(
            version: 1, name: "records, access log, idempotency",
            sql: """
                CREATE TABLE hsb_records (kind TEXT NOT NULL, id TEXT NOT NULL, subject_id TEXT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL, created_at_unix_ms BIGINT NOT NULL, updated_at_unix_ms BIGINT NOT NULL, PRIMARY KEY (kind, id));
                CREATE INDEX hsb_records_by_subject ON hsb_records (kind, subject_id);
                CREATE TABLE hsb_access_log (at_unix_ms BIGINT NOT NULL, agency TEXT NOT NULL, user_name TEXT NOT NULL, action TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL, purpose TEXT NOT NULL, request_id TEXT NOT NULL);
                CREATE INDEX hsb_access_log_by_record ON hsb_access_log (kind, record_id);
                CREATE TABLE hsb_idempotency (caller TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, response TEXT NOT NULL, created_at_unix_ms BIGINT NOT NULL, PRIMARY KEY (caller, key));
                """),
        Migration(
            version: 2, name: "idempotency keys by age, for pruning",
            sql: "CREATE INDEX hsb_idempotency_by_age ON hsb_idempotency (created_at_unix_ms)"),
        Migration(
            version: 3, name: "the access log as a hash chain",
            sql: """
                ALTER TABLE hsb_access_log ADD COLUMN seq BIGINT;
                ALTER TABLE hsb_access_log ADD COLUMN prev_hash TEXT;
                ALTER TABLE hsb_access_log ADD COLUMN hash TEXT;
                CREATE UNIQUE INDEX hsb_access_log_by_seq ON hsb_access_log (seq);
                CREATE TABLE hsb_access_chain (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
                INSERT INTO hsb_access_chain (id, seq, hash) VALUES (1, 0, '')
                """),
        Migration(
            version: 4, name: "records by subject, across kinds (subject access requests)",
            sql: "CREATE INDEX hsb_records_by_subject_only ON hsb_records (subject_id)"),
        Migration(
            version: 5, name: "the catalogue of a service's record tables",
            sql:
                "CREATE TABLE hsb_tables (kind TEXT PRIMARY KEY, table_name TEXT NOT NULL, subject_means TEXT NOT NULL, columns TEXT NOT NULL)"
        ),
    ]

    public init(database: any SQLDatabase, migrations: [Migration] = []) throws(StorageError) {
        self.database = database
        try database.migrate(Self.schema + migrations)
        try AccessChain.sealUnchained(database)
    }

    /// `verifyAccessLog` on a database opened for it alone (no migrations run, nothing written).
    public static func verifyAccessLog(in database: any SQLDatabase) throws(StorageError) -> AccessChain.Report {
        try database.readTransaction { session throws(StorageError) in try AccessChain.verify(session) }
    }

    /// Walks another of the store's hash chains (a service's ledger) on a database opened for it alone.
    public static func verify(_ chain: HashChain, in database: any SQLDatabase) throws(StorageError) -> AccessChain.Report {
        try database.readTransaction { session throws(StorageError) in try chain.verify(session) }
    }

    /// Walks the access log's hash chain: every row in sequence, each linked to the one before and
    /// hashing to what it says, the last one the chain's head. Names the first row that fails.
    public func verifyAccessLog() throws(RecordStoreError) -> AccessChain.Report {
        try inTransaction(now: 0, readOnly: true) { transaction throws(RecordStoreError) in
            try transaction.run { () throws(StorageError) in try AccessChain.verify(transaction.session) }
        }
    }

    /// Runs `body` in one transaction and returns its reply. With an idempotency key, a key the
    /// caller used before returns the first reply and runs nothing; the reply is stored with the
    /// changes, so a reply is never acknowledged without them (or they without it).
    public func perform(
        idempotencyKey: String, caller: String, method: String, now: Int64, _ body: (RecordTransaction) throws(RecordStoreError) -> [UInt8]
    ) throws(RecordStoreError) -> (reply: [UInt8], replayed: Bool) {
        try inTransaction(now: now) { transaction throws(RecordStoreError) in
            try Self.apply(idempotencyKey: idempotencyKey, caller: caller, method: method, now: now, body, in: transaction)
        }
    }

    /// One write of a group commit: what `perform` takes, as a value.
    public struct Write: Sendable {
        public let idempotencyKey: String
        public let caller: String
        public let method: String
        public let now: Int64
        public let body: @Sendable (RecordTransaction) throws(RecordStoreError) -> [UInt8]

        public init(
            idempotencyKey: String, caller: String, method: String, now: Int64,
            _ body: @escaping @Sendable (RecordTransaction) throws(RecordStoreError) -> [UInt8]
        ) {
            self.idempotencyKey = idempotencyKey
            self.caller = caller
            self.method = method
            self.now = now
            self.body = body
        }
    }

    public typealias WriteResult = Result<(reply: [UInt8], replayed: Bool), RecordStoreError>

    /// Group commit: runs `writes` in order in one transaction, each inside its own savepoint, and
    /// commits once, so many writes share one flush to disk. A write that fails (a refusal, a
    /// version conflict, a storage error) is rolled back to its savepoint alone and gets its own
    /// error; the rest go on, each seeing the writes before it. Nothing is reported done before the
    /// one commit is durable, and if that commit fails every write gets the storage error.
    public func performBatch(_ writes: [Write]) -> [WriteResult] {
        // One write alone needs no savepoint: its failure rolls back a transaction that holds nothing else.
        if writes.count == 1, let write = writes.first {
            do throws(RecordStoreError) {
                return [
                    .success(
                        try perform(idempotencyKey: write.idempotencyKey, caller: write.caller, method: write.method, now: write.now, write.body))
                ]
            } catch {
                return [.failure(error)]
            }
        }
        var results: [WriteResult] = []
        results.reserveCapacity(writes.count)
        do {
            try database.transaction { session throws(StorageError) in
                results.removeAll(keepingCapacity: true)
                let cursor = ChainCursor()
                for write in writes {
                    try session.execute("SAVEPOINT hsb_write")
                    let before = cursor.place
                    let outcome: WriteResult
                    do throws(RecordStoreError) {
                        outcome = .success(
                            try Self.apply(
                                idempotencyKey: write.idempotencyKey, caller: write.caller, method: write.method, now: write.now, write.body,
                                in: RecordTransaction(session: session, now: write.now, dialect: database.dialect, accessCursor: cursor)))
                    } catch {
                        outcome = .failure(error)
                    }
                    if case .failure = outcome {
                        try session.execute("ROLLBACK TO SAVEPOINT hsb_write")
                        // Its access-log rows went with it (and its move of the head, when it was the first).
                        cursor.place = before
                    }
                    try session.execute("RELEASE SAVEPOINT hsb_write")
                    results.append(outcome)
                }
                try AccessChain.chain.flush(cursor, session)
            }
        } catch {
            return writes.map { _ in .failure(.storage(error)) }
        }
        return results
    }

    /// The idempotency check, the write and the stored reply, inside an open transaction.
    static func apply(
        idempotencyKey: String, caller: String, method: String, now: Int64, _ body: (RecordTransaction) throws(RecordStoreError) -> [UInt8],
        in transaction: RecordTransaction
    ) throws(RecordStoreError) -> (reply: [UInt8], replayed: Bool) {
        let session = transaction.session
        if !idempotencyKey.isEmpty {
            let rows = try transaction.run { () throws(StorageError) in
                try session.query(
                    "SELECT method, response FROM hsb_idempotency WHERE caller = ? AND key = ?", [.text(caller), .text(idempotencyKey)])
            }
            if let row = rows.first {
                guard row[0] == method else { throw .idempotencyKeyReused(key: idempotencyKey, firstMethod: row[0] ?? "") }
                return (SQLValue.bytes(fromHex: row[1] ?? "") ?? [], true)
            }
        }
        let reply = try body(transaction)
        if !idempotencyKey.isEmpty {
            try transaction.run { () throws(StorageError) in
                try session.execute(
                    "INSERT INTO hsb_idempotency (caller, key, method, response, created_at_unix_ms) VALUES (?, ?, ?, ?, ?)",
                    [.text(caller), .text(idempotencyKey), .text(method), .text(SQLValue.hex(reply)), .integer(now)])
            }
        }
        return (reply, false)
    }

    /// Forgets idempotency keys first used before `cutoff` (milliseconds since the epoch), at most
    /// `limit` in one transaction; returns how many. A retry with a forgotten key is a new request.
    @discardableResult
    public func pruneIdempotency(before cutoff: Int64, limit: Int = 10_000) throws(RecordStoreError) -> Int {
        try inTransaction(now: cutoff) { transaction throws(RecordStoreError) in
            try transaction.run { () throws(StorageError) in
                try transaction.session.execute(
                    "DELETE FROM hsb_idempotency WHERE (caller, key) IN (SELECT caller, key FROM hsb_idempotency WHERE created_at_unix_ms < ? LIMIT ?)",
                    [.integer(cutoff), .integer(Int64(limit))])
            }
        }
    }

    /// How many idempotency keys are kept.
    public func idempotencyKeyCount() throws(RecordStoreError) -> Int {
        try inTransaction(now: 0, readOnly: true) { transaction throws(RecordStoreError) in
            let rows = try transaction.run { () throws(StorageError) in
                try transaction.session.query("SELECT COUNT(*) FROM hsb_idempotency", [])
            }
            return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
        }
    }

    /// Runs `body` against a snapshot of the last commit, on the database's reader connection where
    /// it has one: for reads that write nothing (work queues, indexes, gauges). A read a person
    /// makes is logged, which is a write: use `read` for those.
    public func snapshot<T>(now: Int64, _ body: (RecordTransaction) throws(RecordStoreError) -> T) throws(RecordStoreError) -> T {
        try inTransaction(now: now, readOnly: true, body)
    }

    /// Runs `body` in one transaction that writes, outside the group commit and without an
    /// idempotency key: for a service's own housekeeping (retention), which answers no caller.
    public func write<T>(now: Int64, _ body: (RecordTransaction) throws(RecordStoreError) -> T) throws(RecordStoreError) -> T {
        try inTransaction(now: now, body)
    }

    /// Runs `body` in one transaction (for reads, which log their access).
    public func read<T>(now: Int64, _ body: (RecordTransaction) throws(RecordStoreError) -> T) throws(RecordStoreError) -> T {
        try inTransaction(now: now, body)
    }

    /// One database transaction around `body` (on the reader connection when `readOnly`); a domain
    /// refusal rolls it back and is rethrown as itself.
    private func inTransaction<T>(
        now: Int64, readOnly: Bool = false, _ body: (RecordTransaction) throws(RecordStoreError) -> T
    ) throws(RecordStoreError) -> T {
        var refusal: RecordStoreError?
        let dialect = database.dialect
        let run = { (session: any SQLSession) throws(StorageError) -> T in
            do throws(RecordStoreError) {
                let transaction = RecordTransaction(session: session, now: now, dialect: dialect, accessCursor: ChainCursor())
                let value = try body(transaction)
                if !readOnly { try transaction.run { () throws(StorageError) in try AccessChain.chain.flush(transaction.accessCursor, session) } }
                return value
            } catch {
                refusal = error
                throw StorageError(operation: "rollback", message: "\(error)")
            }
        }
        do {
            return try readOnly ? database.readTransaction(run) : database.transaction(run)
        } catch {
            throw refusal ?? .storage(error)
        }
    }
}
