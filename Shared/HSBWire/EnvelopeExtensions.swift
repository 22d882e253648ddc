// What the generated envelope types (Generated/RpcV1.swift) do beyond the wire.

public import NIOCore

extension StatusCode: CustomStringConvertible {
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
    /// The agency's own signature over the act (``ActProof``), relayed with it to the owning service.
    public var proof: ActProof?

    public init(agency: Agency, user: String, proof: ActProof? = nil) {
        self.agency = agency
        self.user = user
        self.proof = proof
    }

    /// `police (J Smith)`, or the agency alone.
    public var name: String { user.isEmpty ? agency.name : "\(agency.name) (\(user))" }
}

extension RequestEnvelope {
    /// This envelope as one frame, packed straight into a new buffer.
    public func encodedFrame(allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer { try CCodec.encodeFrame(self, allocator: allocator) }
}

extension ResponseEnvelope {
    /// This envelope as one frame, packed straight into a new buffer.
    public func encodedFrame(allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer { try CCodec.encodeFrame(self, allocator: allocator) }
}
