public import HSBWire

/// How one call is made: how long to wait, the idempotency key a retry reuses, why the caller
/// wants it (INF-05), and for a relayed act who did it.
public struct CallOptions: Sendable {
    /// How long the caller waits; nil: the transport's own default.
    public var timeout: Duration?
    /// The same key on every retry of one act; nil: the transport makes one.
    public var idempotencyKey: String?
    /// Why the caller wants this (the access log's purpose, INF-05).
    public var purpose: String
    /// The agency and person the caller relays the act for (only the orchestrator relays).
    public var acting: RelayedActor?
    /// The person this call is made by, for the access log; nil: the client's own signer's. A
    /// client shared by many practitioners of one agency (the workspace) names each call's.
    public var user: String?

    public init(timeout: Duration? = nil, idempotencyKey: String? = nil, purpose: String = "", acting: RelayedActor? = nil, user: String? = nil) {
        self.timeout = timeout
        self.idempotencyKey = idempotencyKey
        self.purpose = purpose
        self.acting = acting
        self.user = user
    }
}

/// Something a generated client calls through: a connection to a service (``RPCClient``) or a
/// dispatcher in this process (``InProcessClient``).
public protocol ClientTransport: Sendable {
    /// Calls the method named `method` with raw payload bytes; throws ``RPCError`` with the
    /// service's status and message, or the transport's own failure.
    func unary(_ method: String, payload: [UInt8], options: CallOptions) async throws(RPCError) -> [UInt8]
    /// How replies are decoded.
    var decodeLimits: DecodeLimits { get }
}

extension ClientTransport {
    /// Calls `method` with a typed request and decodes its typed reply. A reply that cannot be
    /// decoded fails this one call, naming the method, never the connection.
    public func call<Input: WireMessage, Output: WireMessage>(
        _ method: MethodDescriptor<Input, Output>, _ request: Input, options: CallOptions = CallOptions()
    ) async throws(RPCError) -> Output {
        let payload: [UInt8]
        do throws(WireError) { payload = try request.encoded() } catch {
            throw RPCError(.invalidArgument, "the request to \(method.fullName) could not be encoded: \(error)")
        }
        let reply = try await unary(method.fullName, payload: payload, options: options)
        do throws(WireError) {
            return try Output(decoding: reply, limits: decodeLimits)
        } catch {
            throw RPCError(.internal, "the reply from \(method.fullName) could not be read: \(error)")
        }
    }
}
