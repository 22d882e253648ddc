import Foundation
public import HSBRuntime
public import HSBStorage
public import HSBWire

extension RecordStoreError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .notFound: RPCError(.notFound, description)
        case .alreadyExists: RPCError(.alreadyExists, description)
        case .versionConflict: RPCError(.aborted, description)
        case .idempotencyKeyReused: RPCError(.failedPrecondition, "\(description); use a new key for a new request")
        case .storage(let error): RPCError(.unavailable, "the store could not complete the request (\(error.operation)); retry later")
        case .refused(.invalidArgument, let message): RPCError(.invalidArgument, message)
        case .refused(.failedPrecondition, let message): RPCError(.failedPrecondition, message)
        case .refused(.permissionDenied, let message): RPCError(.permissionDenied, message)
        }
    }
}

extension ServiceResources {
    /// The one way a handler writes: `body` runs in a transaction (grouped with others), its reply
    /// is stored under the caller's idempotency key in the same commit, and a retry with that key
    /// gets the first reply back without running `body` again. Nothing is answered before it is
    /// durable.
    public func idempotentWrite<Output: WireMessage>(
        _ context: CallerContext, now: Int64? = nil, _ body: @escaping @Sendable (RecordTransaction) throws(RecordStoreError) -> Output
    ) async throws -> Output {
        try await idempotentWriteOutcome(context, now: now, body).output
    }

    /// `idempotentWrite`, saying also whether the reply is a retry's (the first call's reply,
    /// `body` not run), so a caller does not repeat what the first call set going.
    public func idempotentWriteOutcome<Output: WireMessage>(
        _ context: CallerContext, now: Int64? = nil, _ body: @escaping @Sendable (RecordTransaction) throws(RecordStoreError) -> Output
    ) async throws -> (output: Output, replayed: Bool) {
        let written = try await write(
            idempotencyKey: context.idempotencyKey, caller: context.caller.agency.name, method: context.method, now: now ?? clock.nowUnixMillis()
        ) { tx throws(RecordStoreError) in
            let output = try body(tx)
            do throws(WireError) { return try output.encoded() } catch {
                throw .storage(StorageError(operation: "encode \(Output.protoName)", message: "\(error)"))
            }
        }
        do throws(WireError) { return (try Output(decoding: written.reply), written.replayed) } catch {
            throw RPCError(.internal, "the stored reply of \(context.method) could not be read: \(error)")
        }
    }

    /// Stores a new record of `table` holding its reply, idempotently, and logs the write, in one
    /// transaction; returns the reply (the first one, for a retried key).
    public func storeNew<Output: WireMessage>(
        _ context: CallerContext, _ table: ReplyTable<Output>, id: String, subjectID: String, reply: Output
    ) async throws -> Output {
        let caller = context.caller
        return try await idempotentWrite(context) { tx throws(RecordStoreError) in
            try tx.insert(table.table, id: id, subjectID: subjectID, values: try table.values(reply, recordedBy: caller.agency.name))
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: table.table.kind, recordID: id,
                purpose: context.purpose.isEmpty ? context.method : context.purpose, requestID: String(context.requestID))
            return reply
        }
    }

    /// The records of each of `tables` about `subjectID`, oldest first, by kind, in one
    /// transaction; each read logged with the caller's purpose (INF-05).
    public func readRows(_ context: CallerContext, _ tables: [RecordTable], subjectID: String) async throws -> [String: [TableRow]] {
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to read records: say why you need them (INF-05)")
        }
        let caller = context.caller
        let (purpose, requestID) = (context.purpose, String(context.requestID))
        let now = clock.nowUnixMillis()
        let store = self.store
        return try await blocking {
            try store.read(now: now) { tx throws(RecordStoreError) in
                var found: [String: [TableRow]] = [:]
                for table in tables {
                    let rows = try tx.list(table, subjectID: subjectID)
                    for row in rows {
                        try tx.logAccess(
                            agency: caller.agency.name, user: caller.user, action: .read, kind: table.kind, recordID: row.id, purpose: purpose,
                            requestID: requestID)
                    }
                    found[table.kind] = rows
                }
                return found
            }
        }
    }

    /// The replies of `table` about `subjectID`, oldest first, each read logged with the caller's purpose.
    public func readReplies<Output: WireMessage>(_ context: CallerContext, _ table: ReplyTable<Output>, subjectID: String) async throws -> [Output] {
        try table.replies(try await readRows(context, [table.table], subjectID: subjectID))
    }

    /// A new record id: `prefix-` and a random UUID.
    public static func newID(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.lowercased())" }
}

/// A record body holding the reply a method sent, as protobuf bytes in JSON.
public struct StoredReply: Codable, Sendable {
    var reply: Data
    public var recordedBy: String

    /// The reply's protobuf bytes.
    public var replyBytes: [UInt8] { [UInt8](reply) }

    public init(reply: [UInt8], recordedBy: String) {
        self.reply = Data(reply)
        self.recordedBy = recordedBy
    }

    public static func decode(_ body: String) throws -> StoredReply {
        try JSONDecoder().decode(StoredReply.self, from: Data(body.utf8))
    }
}

/// A table whose records each hold a reply a method sent, kept whole as protobuf (`document`), with
/// who recorded it and the columns a person asks about beside it, read from the reply.
public struct ReplyTable<Reply: WireMessage>: Sendable {
    public let table: RecordTable
    let projections: [@Sendable (Reply) -> SQLValue]

    /// - Parameter columns: the columns read from each reply, with how.
    public init(
        kind: String, table: String, subjectMeans: String = "the child's subject id",
        columns: [(RecordTable.Column, @Sendable (Reply) -> SQLValue)] = []
    ) {
        self.table = RecordTable(
            kind: kind, table: table, subjectMeans: subjectMeans,
            columns: [RecordTable.Column("recorded_by", .text)] + columns.map(\.0) + [RecordTable.Column("document", .blob)])
        projections = columns.map(\.1)
    }

    /// The column values of a record holding `reply`.
    public func values(_ reply: Reply, recordedBy: String) throws(RecordStoreError) -> [SQLValue] {
        let bytes: [UInt8]
        do throws(WireError) { bytes = try reply.encoded() } catch {
            throw .storage(StorageError(operation: "encode \(Reply.protoName)", message: "\(error)"))
        }
        return [.text(recordedBy)] + projections.map { $0(reply) } + [.blob(bytes)]
    }

    /// The reply a row holds.
    public func reply(_ row: TableRow) throws(RecordStoreError) -> Reply {
        guard let bytes = row.bytes("document") else {
            throw .storage(StorageError(operation: "read \(table.table)", message: "record \(row.id) has no document"))
        }
        do throws(WireError) { return try Reply(decoding: bytes) } catch {
            throw .storage(StorageError(operation: "read \(table.table)", message: "record \(row.id): \(error)"))
        }
    }

    /// The replies among `rows` (read by kind) that are this table's.
    public func replies(_ rows: [String: [TableRow]]) throws(RecordStoreError) -> [Reply] {
        var out: [Reply] = []
        for row in rows[table.kind] ?? [] { out.append(try reply(row)) }
        return out
    }

    /// The migration that creates the table and moves the generic store's records of its kind
    /// (the reply as protobuf in JSON) into it.
    public func migration(version: Int) -> Migration {
        let this = self
        return table.migration(version: version) { record in
            guard let stored = try? StoredReply.decode(record.body), let reply = try? Reply(decoding: stored.replyBytes) else { return nil }
            return try? this.values(reply, recordedBy: stored.recordedBy)
        }
    }
}

extension CalendarDate {
    /// The date as a `date` column holds it, `YYYY-MM-DD`; NULL when unset or not a date.
    public var column: SQLValue {
        guard problem == nil else { return .null }
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return .text("\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))")
    }
}
