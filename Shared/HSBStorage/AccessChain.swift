import Crypto

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

        public static func == (lhs: Report, rhs: Report) -> Bool {
            lhs.rows == rhs.rows && lhs.headSequence == rhs.headSequence && lhs.headHash == rhs.headHash
                && lhs.broken?.sequence == rhs.broken?.sequence && lhs.broken?.reason == rhs.broken?.reason
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(rows)
            hasher.combine(headSequence)
            hasher.combine(broken?.sequence)
        }
    }

    /// The hash of a row: SHA-256 over the previous hash, the sequence number and each field,
    /// every one length-prefixed (so no two different rows encode the same), as lower-case hex.
    static func hash(previous: String, sequence: Int64, _ entry: AccessEntry) -> String {
        hash(
            previous: previous, sequence: sequence,
            fields: [
                String(entry.atUnixMillis), entry.agency, entry.user, entry.action.rawValue, entry.kind, entry.recordID, entry.purpose,
                entry.requestID,
            ])
    }

    /// The hash over the row's fields as stored text (in `columns` order): verify hashes what the
    /// table holds, so a value the application would read back differently (an unknown action, a
    /// number written another way) still breaks the chain.
    static func hash(previous: String, sequence: Int64, fields: [String]) -> String {
        var bytes: [UInt8] = []
        for field in [previous, String(sequence)] + fields {
            bytes += Array(String(field.utf8.count).utf8) + [0x3A] + Array(field.utf8)
        }
        return SHA256.hash(data: bytes).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
    }

    /// Appends `entry` after the head, inside the caller's transaction.
    static func append(_ entry: AccessEntry, to session: any SQLSession) throws(StorageError) {
        // Moving the head first takes its row's lock: a second writer waits here until this commits.
        let head = try session.query("UPDATE hsb_access_chain SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash", [])
        guard let row = head.first, let sequence = Int64(row[0] ?? ""), let previous = row[1] else {
            throw StorageError(operation: "access log", message: "the access log's chain head is missing")
        }
        let hash = Self.hash(previous: previous, sequence: sequence, entry)
        try session.execute(
            "INSERT INTO hsb_access_log (at_unix_ms, agency, user_name, action, kind, record_id, purpose, request_id, seq, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(entry.atUnixMillis), .text(entry.agency), .text(entry.user), .text(entry.action.rawValue), .text(entry.kind),
                .text(entry.recordID), .text(entry.purpose), .text(entry.requestID), .integer(sequence), .text(previous), .text(hash),
            ])
        try session.execute("UPDATE hsb_access_chain SET hash = ? WHERE id = 1", [.text(hash)])
    }

    static let columns = "at_unix_ms, agency, user_name, action, kind, record_id, purpose, request_id"

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
            for row in rows { try append(entry(row), to: session) }
        }
    }

    /// Walks the chain inside the caller's transaction.
    static func verify(_ session: any SQLSession) throws(StorageError) -> Report {
        let head = try session.query("SELECT seq, hash FROM hsb_access_chain WHERE id = 1", [])
        let headSequence = Int64(head.first?[0] ?? "") ?? -1
        let headHash = head.first?[1] ?? nil ?? ""
        var report = Report(rows: 0, headSequence: headSequence, headHash: headHash, broken: nil)
        guard headSequence >= 0 else {
            report.broken = (0, "the chain's head is missing")
            return report
        }
        let rows = try session.query("SELECT \(columns), seq, prev_hash, hash FROM hsb_access_log ORDER BY seq", [])
        var expected: Int64 = 1
        var previous = ""
        for row in rows {
            guard let sequence = Int64(row[8] ?? "") else {
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
            guard (row[9] ?? "") == previous else {
                report.broken = (sequence, "it does not follow row \(sequence - 1): the rows before it were changed")
                return report
            }
            let recomputed = hash(previous: previous, sequence: sequence, fields: row[0..<8].map { $0 ?? "" })
            guard (row[10] ?? "") == recomputed else {
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
