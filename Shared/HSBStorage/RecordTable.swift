/// A table of one kind of record: its id, whom it is about, its version and times, then the
/// columns a person asks about and the record's document. Each service declares its tables as
/// values of this type; the SQL that creates them, and the statements that read and write them,
/// are made from the declaration.
public struct RecordTable: Sendable {
    public enum ColumnType: Sendable, Hashable {
        case text
        case integer
        /// Bytes: a protobuf document kept whole (BLOB, BYTEA).
        case blob
        /// A calendar date, `YYYY-MM-DD` (DATE on PostgreSQL; text on SQLite, which its date functions read).
        case date

        /// The type's name in the catalogue (`hsb_tables.columns`).
        var name: String {
            switch self {
            case .text: "text"
            case .integer: "integer"
            case .blob: "blob"
            case .date: "date"
            }
        }

        init?(name: some StringProtocol) {
            guard let match = [ColumnType.text, .integer, .blob, .date].first(where: { $0.name == name }) else { return nil }
            self = match
        }

        func sql(_ dialect: String) -> String {
            switch self {
            case .text: "TEXT"
            case .integer: "BIGINT"
            case .blob: dialect == "postgresql" ? "BYTEA" : "BLOB"
            case .date: dialect == "postgresql" ? "DATE" : "TEXT"
            }
        }
    }

    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: ColumnType
        public let nullable: Bool
        /// Whether the column gets an index of its own (a column people search by).
        public let indexed: Bool

        public init(_ name: String, _ type: ColumnType, nullable: Bool = false, indexed: Bool = false) {
            self.name = name
            self.type = type
            self.nullable = nullable
            self.indexed = indexed
        }
    }

    /// What the access log calls a record of this table (unchanged from the generic store).
    public let kind: String
    public let table: String
    /// What `subject_id` holds: a child's subject id, or the id of the record this one belongs to.
    public let subjectMeans: String
    public let columns: [Column]

    public init(kind: String, table: String, subjectMeans: String = "the child's subject id", columns: [Column]) {
        self.kind = kind
        self.table = table
        self.subjectMeans = subjectMeans
        self.columns = columns
    }

    static let fixed = "record_id, subject_id, version, created_at_unix_ms, updated_at_unix_ms"

    /// The table's own columns as the catalogue lists them: `name type[?]`, comma-separated (`?`: may be NULL).
    var catalogueColumns: String {
        columns.map { "\($0.name) \($0.type.name)\($0.nullable ? "?" : "")" }.joined(separator: ",")
    }

    /// A table as the catalogue (`hsb_tables`) describes it; nil when the row is not one this release reads.
    init?(catalogue row: [String?]) {
        guard let kind = row[0], let table = row[1], let means = row[2], let listed = row[3] else { return nil }
        var columns: [Column] = []
        for entry in listed.split(separator: ",") {
            let parts = entry.split(separator: " ")
            guard parts.count == 2 else { return nil }
            let nullable = parts[1].hasSuffix("?")
            guard let type = ColumnType(name: nullable ? parts[1].dropLast() : parts[1]) else { return nil }
            columns.append(Column(String(parts[0]), type, nullable: nullable))
        }
        self.init(kind: kind, table: table, subjectMeans: means, columns: columns)
    }

    var selectList: String { ([Self.fixed] + columns.map(\.name)).joined(separator: ", ") }

    /// The statements that create the table and its indexes in `dialect`.
    public func createStatements(_ dialect: String) -> [String] {
        let typed = columns.map { "\($0.name) \($0.type.sql(dialect))\($0.nullable ? "" : " NOT NULL")" }
        let fixed = [
            "record_id TEXT PRIMARY KEY", "subject_id TEXT NOT NULL", "version BIGINT NOT NULL", "created_at_unix_ms BIGINT NOT NULL",
            "updated_at_unix_ms BIGINT NOT NULL",
        ]
        let create = "CREATE TABLE \(table) (\((fixed + typed).joined(separator: ", ")))"
        return [create, "CREATE INDEX \(table)_by_subject ON \(table) (subject_id, created_at_unix_ms)"]
            + columns.filter(\.indexed).map { "CREATE INDEX \(table)_by_\($0.name) ON \(table) (\($0.name))" }
    }

    /// A migration that creates this table and moves the generic store's records of `kind` into
    /// it, each with its id, subject, version and times; `convert` reads a record's body into the
    /// column values (in `columns` order). A record it cannot read (nil) stays where it was.
    public func migration(version: Int, convert: @escaping @Sendable (StoredRecord) -> [SQLValue]?) -> Migration {
        let table = self
        return Migration(version: version, name: "\(kind) records into the \(self.table) table", sql: "") { session, dialect throws(StorageError) in
            for statement in table.createStatements(dialect) { try session.execute(statement) }
            try session.execute(
                "INSERT INTO hsb_tables (kind, table_name, subject_means, columns) VALUES (?, ?, ?, ?)",
                [.text(table.kind), .text(table.table), .text(table.subjectMeans), .text(table.catalogueColumns)])
            try GenericRecords.move(kind: table.kind, session) { (record) throws(StorageError) -> Bool in
                guard let values = convert(record), values.count == table.columns.count else { return false }
                try table.insert(
                    id: record.id, subjectID: record.subjectID, version: record.version, created: record.createdAtUnixMillis,
                    updated: record.updatedAtUnixMillis, values: values, session)
                return true
            }
        }
    }

    /// Inserts a row; with `ifAbsent`, a row whose id is taken is left as it is. Returns whether
    /// a row was written (one statement: the primary key decides, not a read before).
    @discardableResult
    func insert(
        id: String, subjectID: String, version: Int64, created: Int64, updated: Int64, values: [SQLValue], ifAbsent: Bool = false,
        _ session: any SQLSession
    ) throws(StorageError) -> Bool {
        let placeholders = Array(repeating: "?", count: 5 + columns.count).joined(separator: ", ")
        return try session.execute(
            "INSERT INTO \(table) (\(selectList)) VALUES (\(placeholders))\(ifAbsent ? " ON CONFLICT (record_id) DO NOTHING" : "")",
            [.text(id), .text(subjectID), .integer(version), .integer(created), .integer(updated)] + values) == 1
    }
}

/// A row of a `RecordTable`: the fixed columns, then the table's own as values (blobs as bytes).
public struct TableRow: Sendable, Hashable {
    public let id: String
    public let subjectID: String
    public let version: Int64
    public let createdAtUnixMillis: Int64
    public let updatedAtUnixMillis: Int64
    /// The table's own columns, in its order.
    public let columns: [SQLValue]
    let names: [String]

    /// The table's own columns as text (NULL as nil, bytes as hex).
    public var values: [String?] { columns.map(\.columnText) }

    /// The value of column `name` as text (nil when NULL or no such column).
    public subscript(_ name: String) -> String? {
        guard let index = names.firstIndex(of: name) else { return nil }
        return columns[index].columnText
    }

    /// The bytes of a blob column.
    public func bytes(_ name: String) -> [UInt8]? {
        guard let index = names.firstIndex(of: name) else { return nil }
        return columns[index].bytes
    }

    /// A row of no table's own columns (a record of the generic table, say).
    public init(id: String, subjectID: String, version: Int64, created: Int64, updated: Int64) {
        self.id = id
        self.subjectID = subjectID
        self.version = version
        createdAtUnixMillis = created
        updatedAtUnixMillis = updated
        columns = []
        names = []
    }

    init(_ row: [SQLValue], _ table: RecordTable) {
        id = row[0].columnText ?? ""
        subjectID = row[1].columnText ?? ""
        version = row[2].integer ?? 0
        createdAtUnixMillis = row[3].integer ?? 0
        updatedAtUnixMillis = row[4].integer ?? 0
        columns = Array(row.dropFirst(5))
        names = table.columns.map(\.name)
    }
}

extension RecordTransaction {
    /// The store's record tables, as its catalogue lists them (every service's own, whatever the
    /// release that reads them): for an export, or a test, that reads any service's store.
    public func catalogue() throws(RecordStoreError) -> [RecordTable] {
        try run { () throws(StorageError) in
            try session.query("SELECT kind, table_name, subject_means, columns FROM hsb_tables ORDER BY kind", [])
        }.compactMap { RecordTable(catalogue: $0) }
    }

    /// A new record of `table`; refused if one with `id` exists.
    @discardableResult
    public func insert(_ table: RecordTable, id: String, subjectID: String, values: [SQLValue]) throws(RecordStoreError) -> TableRow {
        guard try insertIfAbsent(table, id: id, subjectID: subjectID, values: values) else { throw .alreadyExists(kind: table.kind, id: id) }
        return TableRow([.text(id), .text(subjectID), .integer(1), .integer(now), .integer(now)] + values, table)
    }

    /// A new record of `table` unless one with `id` exists (then nothing changes); true when written.
    @discardableResult
    public func insertIfAbsent(_ table: RecordTable, id: String, subjectID: String, values: [SQLValue]) throws(RecordStoreError) -> Bool {
        precondition(values.count == table.columns.count, "\(table.table) takes \(table.columns.count) values")
        return try run { () throws(StorageError) in
            try table.insert(id: id, subjectID: subjectID, version: 1, created: now, updated: now, values: values, ifAbsent: true, session)
        }
    }

    public func get(_ table: RecordTable, id: String) throws(RecordStoreError) -> TableRow? {
        try run { () throws(StorageError) in
            try session.queryValues("SELECT \(table.selectList) FROM \(table.table) WHERE record_id = ?", [.text(id)])
        }.first.map { TableRow($0, table) }
    }

    /// The records of `table` about `subjectID`, oldest first.
    public func list(_ table: RecordTable, subjectID: String) throws(RecordStoreError) -> [TableRow] {
        try run { () throws(StorageError) in
            try session.queryValues(
                "SELECT \(table.selectList) FROM \(table.table) WHERE subject_id = ? ORDER BY created_at_unix_ms, record_id", [.text(subjectID)])
        }.map { TableRow($0, table) }
    }

    /// Removes up to `limit` records of `table` last changed before `cutoff` (milliseconds since
    /// the epoch), oldest first, and returns them: for retention, which logs each one.
    public func removeRecords(_ table: RecordTable, changedBefore cutoff: Int64, limit: Int) throws(RecordStoreError) -> [TableRow] {
        let rows = try run { () throws(StorageError) in
            try session.queryValues(
                "SELECT \(table.selectList) FROM \(table.table) WHERE updated_at_unix_ms < ? ORDER BY updated_at_unix_ms, record_id LIMIT ?",
                [.integer(cutoff), .integer(Int64(limit))])
        }.map { TableRow($0, table) }
        for row in rows {
            try run { () throws(StorageError) in
                try session.execute("DELETE FROM \(table.table) WHERE record_id = ? AND updated_at_unix_ms < ?", [.text(row.id), .integer(cutoff)])
            }
        }
        return rows
    }

    /// Replaces a record's own columns at `expectedVersion`; a stale version is refused, never overwritten.
    @discardableResult
    public func update(_ table: RecordTable, id: String, expectedVersion: Int64, values: [SQLValue]) throws(RecordStoreError) -> TableRow {
        precondition(values.count == table.columns.count, "\(table.table) takes \(table.columns.count) values")
        guard let current = try get(table, id: id) else { throw .notFound(kind: table.kind, id: id) }
        guard current.version == expectedVersion else {
            throw .versionConflict(kind: table.kind, id: id, expected: expectedVersion, actual: current.version)
        }
        let assignments = table.columns.map { "\($0.name) = ?" }.joined(separator: ", ")
        let changed = try run { () throws(StorageError) in
            try session.execute(
                "UPDATE \(table.table) SET \(assignments), version = version + 1, updated_at_unix_ms = ? WHERE record_id = ? AND version = ?",
                values + [.integer(now), .text(id), .integer(expectedVersion)])
        }
        guard changed == 1 else {
            throw .versionConflict(kind: table.kind, id: id, expected: expectedVersion, actual: current.version + 1)
        }
        return TableRow(
            [.text(id), .text(current.subjectID), .integer(expectedVersion + 1), .integer(current.createdAtUnixMillis), .integer(now)] + values,
            table)
    }
}

/// The generic records table of the release before typed tables, read to move its records out.
public enum GenericRecords {
    /// Records read per query while moving: a store of any size moves in bounded memory.
    static let page = 500

    /// Calls `body` on every record of `kind` in id order, a page at a time, and removes each one
    /// `body` moved (returned true for); the rest stay.
    public static func move(kind: String, _ session: any SQLSession, _ body: (StoredRecord) throws(StorageError) -> Bool) throws(StorageError) {
        var after = ""
        while true {
            let rows = try session.query(
                "SELECT kind, id, subject_id, version, body, created_at_unix_ms, updated_at_unix_ms FROM hsb_records WHERE kind = ? AND id > ? ORDER BY id LIMIT ?",
                [.text(kind), .text(after), .integer(Int64(page))])
            for row in rows {
                let record = RecordTransaction.record(row)
                if try body(record) {
                    try session.execute("DELETE FROM hsb_records WHERE kind = ? AND id = ?", [.text(kind), .text(record.id)])
                }
            }
            guard rows.count == page, let last = rows.last?[1] else { return }
            after = last
        }
    }
}
