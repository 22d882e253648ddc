internal import CProtobufC
internal import HSBProtoC
public import NIOCore

/// The gRPC status code set, with gRPC's numbers (`hsb.rpc.v1.StatusCode`).
public enum StatusCode: OpenEnum, CustomStringConvertible {
    case ok
    case cancelled
    case unknown
    case invalidArgument
    case deadlineExceeded
    case notFound
    case alreadyExists
    case permissionDenied
    case resourceExhausted
    case failedPrecondition
    case aborted
    case outOfRange
    case unimplemented
    case `internal`
    case unavailable
    case dataLoss
    case unauthenticated
    /// A value this build does not know (a newer peer's): carried, never a decode failure.
    case unrecognized(Int32)

    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .ok
        case 1: self = .cancelled
        case 2: self = .unknown
        case 3: self = .invalidArgument
        case 4: self = .deadlineExceeded
        case 5: self = .notFound
        case 6: self = .alreadyExists
        case 7: self = .permissionDenied
        case 8: self = .resourceExhausted
        case 9: self = .failedPrecondition
        case 10: self = .aborted
        case 11: self = .outOfRange
        case 12: self = .unimplemented
        case 13: self = .internal
        case 14: self = .unavailable
        case 15: self = .dataLoss
        case 16: self = .unauthenticated
        default: self = .unrecognized(rawValue)
        }
    }

    public var rawValue: Int32 {
        switch self {
        case .ok: 0
        case .cancelled: 1
        case .unknown: 2
        case .invalidArgument: 3
        case .deadlineExceeded: 4
        case .notFound: 5
        case .alreadyExists: 6
        case .permissionDenied: 7
        case .resourceExhausted: 8
        case .failedPrecondition: 9
        case .aborted: 10
        case .outOfRange: 11
        case .unimplemented: 12
        case .internal: 13
        case .unavailable: 14
        case .dataLoss: 15
        case .unauthenticated: 16
        case .unrecognized(let value): value
        }
    }

    public static let allCases: [Self] = [
        .ok, .cancelled, .unknown, .invalidArgument, .deadlineExceeded, .notFound, .alreadyExists, .permissionDenied, .resourceExhausted,
        .failedPrecondition, .aborted, .outOfRange, .unimplemented, .internal, .unavailable, .dataLoss, .unauthenticated,
    ]

    /// The gRPC name, e.g. `INVALID_ARGUMENT`.
    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        case .unrecognized(let value): "STATUS_\(value)"
        }
    }
}

/// The agency and person an act is done by, when another agency (the orchestrator) relays it.
public struct RelayedActor: Sendable, Hashable {
    public var agency: Agency
    public var user: String

    public init(agency: Agency, user: String) {
        self.agency = agency
        self.user = user
    }

    /// `police (J Smith)`, or the agency alone.
    public var name: String { user.isEmpty ? agency.name : "\(agency.name) (\(user))" }
}

/// Who is calling, and the proof (`hsb.rpc.v1.Credential`).
public struct Credential: Sendable, Hashable {
    public var agency: Agency
    /// The person acting, for the access log; empty for service-to-service calls.
    public var user: String
    /// When the request was signed, milliseconds since the Unix epoch.
    public var signedAtUnixMillis: Int64
    /// HMAC-SHA256 over the request's canonical bytes.
    public var signature: [UInt8]
    /// The agency the caller relays the act for (`.unspecified`: the caller acts for itself).
    public var actingAgency: Agency
    /// The person at that agency who did it.
    public var actingUser: String

    public init(
        agency: Agency, user: String = "", signedAtUnixMillis: Int64, signature: [UInt8], actingAgency: Agency = .unspecified,
        actingUser: String = ""
    ) {
        self.agency = agency
        self.user = user
        self.signedAtUnixMillis = signedAtUnixMillis
        self.signature = signature
        self.actingAgency = actingAgency
        self.actingUser = actingUser
    }
}

extension Credential: WireMessage, CBacked {
    typealias CMessage = Hsb__Rpc__V1__Credential
    public static let protoName = "hsb.rpc.v1.Credential"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__rpc__v1__credential__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__rpc__v1__credential__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__rpc__v1__credential__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__rpc__v1__credential__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.agency = Hsb__Common__V1__Agency(rawValue: UInt32(bitPattern: agency.rawValue))
        m.pointee.user = try arena.cString(user, field: "\(Self.protoName).user")
        m.pointee.signed_at_unix_ms = signedAtUnixMillis
        m.pointee.signature = arena.binary(signature)
        m.pointee.acting_agency = Hsb__Common__V1__Agency(rawValue: UInt32(bitPattern: actingAgency.rawValue))
        m.pointee.acting_user = try arena.cString(actingUser, field: "\(Self.protoName).acting_user")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            agency: try CCodec.enumValue(m.pointee.agency.rawValue, field: "\(Self.protoName).agency"),
            user: try CCodec.string(m.pointee.user, field: "\(Self.protoName).user"),
            signedAtUnixMillis: m.pointee.signed_at_unix_ms,
            signature: CCodec.bytes(m.pointee.signature),
            actingAgency: try CCodec.enumValue(m.pointee.acting_agency.rawValue, field: "\(Self.protoName).acting_agency"),
            actingUser: try CCodec.string(m.pointee.acting_user, field: "\(Self.protoName).acting_user")
        )
        var required = RequiredFields(Self.protoName)
        required.require(agency != .unspecified, "agency")
        required.require(signedAtUnixMillis != 0, "signed_at_unix_ms")
        required.require(!signature.isEmpty, "signature")
        try required.check()
    }

    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// A call from a caller to a service (`hsb.rpc.v1.Request`).
public struct RequestEnvelope: Sendable, Hashable {
    /// Unique among the caller's requests in flight on one connection.
    public var requestID: UInt64
    /// `hsb.intake.v1.Intake/Screen` style.
    public var method: String
    /// The deadline in milliseconds from receipt; 0 means none.
    public var timeoutMillis: Int64
    /// Unchanged across retries: a service that has seen it returns the first answer.
    public var idempotencyKey: String
    public var credential: Credential?
    public var payload: [UInt8]
    /// Why the caller wants this (access log purpose, INF-05).
    public var purpose: String

    public init(
        requestID: UInt64, method: String, timeoutMillis: Int64 = 0, idempotencyKey: String = "",
        credential: Credential? = nil, payload: [UInt8] = [], purpose: String = ""
    ) {
        self.requestID = requestID
        self.method = method
        self.timeoutMillis = timeoutMillis
        self.idempotencyKey = idempotencyKey
        self.credential = credential
        self.payload = payload
        self.purpose = purpose
    }
}

extension RequestEnvelope: WireMessage, CBacked {
    typealias CMessage = Hsb__Rpc__V1__Request
    public static let protoName = "hsb.rpc.v1.Request"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__rpc__v1__request__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__rpc__v1__request__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__rpc__v1__request__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__rpc__v1__request__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.request_id = requestID
        m.pointee.method = try arena.cString(method, field: "\(Self.protoName).method")
        m.pointee.timeout_ms = timeoutMillis
        m.pointee.idempotency_key = try arena.cString(idempotencyKey, field: "\(Self.protoName).idempotency_key")
        if let credential { m.pointee.credential = try arena.message(credential) }
        m.pointee.payload = arena.binary(payload)
        m.pointee.purpose = try arena.cString(purpose, field: "\(Self.protoName).purpose")
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            requestID: m.pointee.request_id,
            method: try CCodec.string(m.pointee.method, field: "\(Self.protoName).method"),
            timeoutMillis: m.pointee.timeout_ms,
            idempotencyKey: try CCodec.string(m.pointee.idempotency_key, field: "\(Self.protoName).idempotency_key"),
            credential: try CCodec.message(Credential.self, m.pointee.credential),
            payload: CCodec.bytes(m.pointee.payload),
            purpose: try CCodec.string(m.pointee.purpose, field: "\(Self.protoName).purpose")
        )
        var required = RequiredFields(Self.protoName)
        required.require(requestID != 0, "request_id")
        required.require(!method.isEmpty, "method")
        try required.check()
    }

    /// This envelope as one frame, packed straight into a new buffer.
    public func encodedFrame(allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer { try CCodec.encodeFrame(self, allocator: allocator) }
    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}

/// A service's reply (`hsb.rpc.v1.Response`).
public struct ResponseEnvelope: Sendable, Hashable {
    /// The request this answers; 0 when the request could not be read far enough to know it.
    public var requestID: UInt64
    public var status: StatusCode
    /// For a person to act on when `status` is not OK.
    public var message: String
    public var payload: [UInt8]

    public init(requestID: UInt64, status: StatusCode, message: String = "", payload: [UInt8] = []) {
        self.requestID = requestID
        self.status = status
        self.message = message
        self.payload = payload
    }
}

extension ResponseEnvelope: WireMessage, CBacked {
    typealias CMessage = Hsb__Rpc__V1__Response
    public static let protoName = "hsb.rpc.v1.Response"
    static func cInit(_ m: UnsafeMutablePointer<CMessage>) { hsb__rpc__v1__response__init(m) }
    static func cPackedSize(_ m: UnsafePointer<CMessage>) -> Int { hsb__rpc__v1__response__get_packed_size(m) }
    static func cPack(_ m: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int { hsb__rpc__v1__response__pack(m, out) }
    static func cUnpack(_ a: UnsafeMutablePointer<ProtobufCAllocator>, _ n: Int, _ d: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>? {
        hsb__rpc__v1__response__unpack(a, n, d)
    }

    func fill(_ m: UnsafeMutablePointer<CMessage>, arena: Arena) throws(WireError) {
        m.pointee.request_id = requestID
        m.pointee.status = Hsb__Rpc__V1__StatusCode(rawValue: UInt32(bitPattern: status.rawValue))
        m.pointee.message = try arena.cString(message, field: "\(Self.protoName).message")
        m.pointee.payload = arena.binary(payload)
    }

    init(c m: UnsafePointer<CMessage>) throws(WireError) {
        self.init(
            requestID: m.pointee.request_id,
            status: try CCodec.enumValue(m.pointee.status.rawValue, field: "\(Self.protoName).status"),
            message: try CCodec.string(m.pointee.message, field: "\(Self.protoName).message"),
            payload: CCodec.bytes(m.pointee.payload)
        )
    }

    /// This envelope as one frame, packed straight into a new buffer.
    public func encodedFrame(allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer { try CCodec.encodeFrame(self, allocator: allocator) }
    public func encoded() throws(WireError) -> [UInt8] { try CCodec.encode(self) }
    public init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(WireError) {
        self = try CCodec.decode(Self.self, from: bytes, limits: limits)
    }
}
