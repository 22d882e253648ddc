import Foundation
public import HSBRuntime
public import HSBStorage

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
    /// Stores a new record with its reply, idempotently, and logs the write, in one transaction;
    /// returns the reply (the first one, for a retried key).
    public func storeNew(
        _ context: RequestContext, method: String, kind: String, id: String, subjectID: String, body: String, reply: [UInt8]
    ) async throws -> [UInt8] {
        let caller = try context.requireCaller()
        let now = clock.nowUnixMillis()
        return try await write(idempotencyKey: context.idempotencyKey, caller: caller.agency.name, method: method, now: now) {
            tx throws(RecordStoreError) in
            _ = try tx.insert(kind: kind, id: id, subjectID: subjectID, body: body)
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: kind, recordID: id,
                purpose: context.purpose.isEmpty ? method : context.purpose, requestID: String(context.requestID))
            return reply
        }.reply
    }

    /// The records of each kind about `subjectID`, each read logged with the caller's purpose.
    public func readRecords(_ context: RequestContext, kinds: [String], subjectID: String) async throws -> [String: [StoredRecord]] {
        let caller = try context.requireCaller()
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to read records: say why you need them (INF-05)")
        }
        let now = clock.nowUnixMillis()
        let store = self.store
        return try await blocking {
            try store.read(now: now) { tx throws(RecordStoreError) in
                var found: [String: [StoredRecord]] = [:]
                for kind in kinds {
                    let records = try tx.list(kind: kind, subjectID: subjectID)
                    for record in records {
                        try tx.logAccess(
                            agency: caller.agency.name, user: caller.user, action: .read, kind: kind, recordID: record.id, purpose: context.purpose,
                            requestID: String(context.requestID))
                    }
                    found[kind] = records
                }
                return found
            }
        }
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

    public func json() -> String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }

    public static func decode(_ body: String) throws -> StoredReply {
        try JSONDecoder().decode(StoredReply.self, from: Data(body.utf8))
    }
}
