import Crypto

/// Where one transaction has taken a chain: the last row it appended (nil before its first).
public final class ChainCursor {
    public var place: (sequence: Int64, hash: String)?
    public init() {}
}

/// The access log as a hash chain (tamper evidence for INF-05's log): each row carries its place in
/// the sequence, the hash of the row before it, and its own hash over both and its fields; the
/// chain's head (the last sequence number and hash) is kept in a row of its own, updated in the
/// same transaction, which also serialises writers (the head's row is locked until commit). A row
/// changed, removed or inserted afterwards breaks the chain at that row, and `verify` names it.
///
/// What it does not do: someone who can write to the database can rewrite the whole chain from the
/// change onwards. Record the head elsewhere now and then (`hsbctl audit verify` prints it) to catch that.
public enum AccessChain {
    /// What a walk of the chain found.
    public struct Report: Sendable, Hashable {
        /// Rows walked.
        public var rows: Int
        /// The head's sequence number and hash (what to record elsewhere).
        public var headSequence: Int64
        public var headHash: String
        /// The first row that fails, and why; nil when the chain is whole.
        public var broken: (sequence: Int64, reason: String)?
        /// The last row removed from the chain's start when its retention ended (0: none); the walk
        /// starts after it, from the hash it had.
        public var sealedThrough: Int64 = 0

        public static func == (lhs: Report, rhs: Report) -> Bool {
            lhs.rows == rhs.rows && lhs.headSequence == rhs.headSequence && lhs.headHash == rhs.headHash
                && lhs.broken?.sequence == rhs.broken?.sequence && lhs.broken?.reason == rhs.broken?.reason
                && lhs.sealedThrough == rhs.sealedThrough
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(rows)
            hasher.combine(headSequence)
            hasher.combine(broken?.sequence)
        }
    }

    /// The hash of a row: SHA-256 over the previous hash, the sequence number and each field as
    /// stored text (in `columns` order), every one length-prefixed (so no two different rows encode
    /// the same), as lower-case hex: verify hashes what the
    /// table holds, so a value the application would read back differently (an unknown action, a
    /// number written another way) still breaks the chain.
    public static func hash(previous: String, sequence: Int64, fields: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(previous.utf8.count + 40) { $0 + $1.utf8.count + 8 })
        for field in CollectionOfOne(previous) + [String(sequence)] + fields {
            bytes.append(contentsOf: String(field.utf8.count).utf8)
            bytes.append(0x3A)
            bytes.append(contentsOf: field.utf8)
        }
        return SQLValue.hex(Array(SHA256.hash(data: bytes)))
    }

    /// Appends `entry` after `cursor`'s place, inside the caller's transaction (which flushes the cursor).
    static func append(_ entry: AccessEntry, to session: any SQLSession, cursor: ChainCursor) throws(StorageError) {
        try chain.append(
            [
                .integer(entry.atUnixMillis), .text(entry.agency), .text(entry.user), .text(entry.action.rawValue), .text(entry.kind),
                .text(entry.recordID), .text(entry.purpose), .text(entry.requestID),
            ], to: session, cursor: cursor)
    }

    /// The access log's chain: its table, its head, the columns each hash covers.
    static let chain = HashChain(
        name: "access log", table: "hsb_access_log", head: "hsb_access_chain",
        columns: ["at_unix_ms", "agency", "user_name", "action", "kind", "record_id", "purpose", "request_id"])

    static let columns = chain.columns.joined(separator: ", ")

    static func entry(_ row: [String?]) -> AccessEntry {
        AccessEntry(
            atUnixMillis: Int64(row[0] ?? "0") ?? 0, agency: row[1] ?? "", user: row[2] ?? "",
            action: AccessEntry.Action(rawValue: row[3] ?? "") ?? .read, kind: row[4] ?? "", recordID: row[5] ?? "", purpose: row[6] ?? "",
            requestID: row[7] ?? "")
    }

    /// Chains the rows written before the chain existed, once, in the order they were written.
    static func sealUnchained(_ database: any SQLDatabase) throws(StorageError) {
        try database.transaction { session throws(StorageError) in
            let rows = try session.query(
                "SELECT \(columns) FROM hsb_access_log WHERE seq IS NULL ORDER BY at_unix_ms, kind, record_id, agency, user_name, action, purpose, request_id",
                [])
            guard !rows.isEmpty else { return }
            try session.execute("DELETE FROM hsb_access_log WHERE seq IS NULL")
            let cursor = ChainCursor()
            for row in rows { try append(entry(row), to: session, cursor: cursor) }
            try chain.flush(cursor, session)
        }
    }

    /// Walks the chain inside the caller's transaction.
    static func verify(_ session: any SQLSession) throws(StorageError) -> Report { try chain.verify(session) }
}

/// A table whose rows form a hash chain (the access log, a disclosure ledger): each row carries
/// `seq`, `prev_hash` and `hash` (SHA-256 over the previous hash, its place and `columns` as
/// stored text), and the head (the last `seq` and `hash`) is row 1 of a table of its own, moved in
/// the same transaction, which also serialises writers.
public struct HashChain: Sendable {
    /// What the chain is, for messages ("access log", "disclosure ledger").
    public let name: String
    public let table: String
    public let head: String
    public let columns: [String]

    public init(name: String, table: String, head: String, columns: [String]) {
        self.name = name
        self.table = table
        self.head = head
        self.columns = columns
    }

    /// The statements that create the head's table and its first row (in a migration).
    public var headSQL: String {
        """
        CREATE TABLE \(head) (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
        INSERT INTO \(head) (id, seq, hash) VALUES (1, 0, '')
        """
    }

    /// Removes the chain's rows up to and including `sequence` (its oldest, whose retention has
    /// ended), inside the caller's transaction, and seals the chain there: the head's table keeps
    /// the last removed row's place and hash (row 2), and `verify` walks on from them. Only a start
    /// can go: a row in the middle would break the chain. Returns how many rows went.
    @discardableResult
    public func removeStart(through sequence: Int64, _ session: any SQLSession) throws(StorageError) -> Int {
        guard let last = try session.query("SELECT hash FROM \(table) WHERE seq = ?", [.integer(sequence)]).first?.first ?? nil else {
            throw StorageError(operation: name, message: "row \(sequence) of the \(name) is not there to seal the chain at")
        }
        let removed = try session.execute("DELETE FROM \(table) WHERE seq <= ?", [.integer(sequence)])
        try session.execute(
            "INSERT INTO \(head) (id, seq, hash) VALUES (2, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            [.integer(sequence), .text(last)])
        return removed
    }

    /// Appends a row after `cursor`'s place, the chain's head as this transaction has moved it:
    /// the first append of a transaction moves the head and so takes its row (and its lock); the
    /// ones after it only insert their rows, and `flush` writes the head once before the commit
    /// (two statements fewer a row). The caller keeps `cursor` in step with its savepoints.
    public func append(_ values: [SQLValue], to session: any SQLSession, cursor: ChainCursor) throws(StorageError) {
        let sequence: Int64
        let previous: String
        if let place = cursor.place {
            sequence = place.sequence + 1
            previous = place.hash
        } else {
            // Moving the head first takes its row's lock: a second writer waits here until this commits.
            let row = try session.query("UPDATE \(head) SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash", []).first
            guard let row, let moved = Int64(row[0] ?? ""), let hash = row[1] else {
                throw StorageError(operation: name, message: "the \(name)'s chain head is missing")
            }
            sequence = moved
            previous = hash
        }
        let hash = AccessChain.hash(previous: previous, sequence: sequence, fields: values.map { $0.storedText })
        let placeholders = Array(repeating: "?", count: columns.count + 3).joined(separator: ", ")
        try session.execute(
            "INSERT INTO \(table) (\(columns.joined(separator: ", ")), seq, prev_hash, hash) VALUES (\(placeholders))",
            values + [.integer(sequence), .text(previous), .text(hash)])
        cursor.place = (sequence, hash)
    }

    /// Writes the head where `cursor` left it (nothing when this transaction appended nothing).
    public func flush(_ cursor: ChainCursor, _ session: any SQLSession) throws(StorageError) {
        guard let place = cursor.place else { return }
        try session.execute("UPDATE \(head) SET seq = ?, hash = ? WHERE id = 1", [.integer(place.sequence), .text(place.hash)])
    }

    /// Walks the chain inside the caller's transaction and names the first row that fails.
    public func verify(_ session: any SQLSession) throws(StorageError) -> AccessChain.Report {
        let headRows = try session.query("SELECT id, seq, hash FROM \(head) WHERE id IN (1, 2)", [])
        let headRow = headRows.first { $0[0] == "1" }
        let seal = headRows.first { $0[0] == "2" }
        let headSequence = Int64(headRow?[1] ?? "") ?? -1
        let headHash = headRow?[2] ?? nil ?? ""
        var report = AccessChain.Report(rows: 0, headSequence: headSequence, headHash: headHash, broken: nil)
        guard headSequence >= 0 else {
            report.broken = (0, "the chain's head is missing")
            return report
        }
        let count = columns.count
        let rows = try session.query("SELECT \(columns.joined(separator: ", ")), seq, prev_hash, hash FROM \(table) ORDER BY seq", [])
        report.sealedThrough = Int64(seal?[1] ?? "") ?? 0
        var expected: Int64 = report.sealedThrough + 1
        var previous = seal?[2] ?? nil ?? ""
        for row in rows {
            guard let sequence = Int64(row[count] ?? "") else {
                report.broken = (expected, "a row has no place in the sequence (written around the store)")
                return report
            }
            guard sequence == expected else {
                report.broken = (
                    expected,
                    sequence > expected
                        ? "row \(expected)\(sequence - expected > 1 ? " to \(sequence - 1)" : "") is missing" : "row \(sequence) appears twice"
                )
                return report
            }
            guard (row[count + 1] ?? "") == previous else {
                report.broken = (sequence, "it does not follow row \(sequence - 1): the rows before it were changed")
                return report
            }
            let recomputed = AccessChain.hash(previous: previous, sequence: sequence, fields: row[0..<count].map { $0 ?? "" })
            guard (row[count + 2] ?? "") == recomputed else {
                report.broken = (sequence, "its contents were changed after it was written")
                return report
            }
            previous = recomputed
            expected += 1
            report.rows += 1
        }
        if expected - 1 != headSequence || previous != headHash {
            report.broken = (
                expected,
                expected - 1 < headSequence
                    ? "the log ends at row \(expected - 1) but the chain's head says \(headSequence): rows at the end were removed"
                    : "the chain's head does not match the last row"
            )
        }
        return report
    }
}

extension SQLValue {
    /// The value as a query reads it back (NULL as nil, bytes as hex).
    public var columnText: String? {
        switch self {
        case .null: nil
        default: storedText
        }
    }

    /// The value as a text column reads it back (what a chain's hash covers).
    var storedText: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        case .blob(let bytes): SQLValue.hex(bytes)
        case .null: ""
        }
    }
}
