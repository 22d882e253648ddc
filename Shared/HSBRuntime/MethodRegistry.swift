public import HSBWire
public import Logging
public import NIOCore

/// What a handler knows about the call it is serving.
public struct RequestContext: Sendable {
    public let requestID: UInt64
    public let method: String
    /// The proven caller; nil only for methods open to anyone, called without a credential.
    public let caller: AuthenticatedCaller?
    public let idempotencyKey: String
    public let purpose: String
    /// When the caller stops waiting; the server abandons the work then.
    public let deadline: NIODeadline?
    /// The service's logger; `logger` adds this request's metadata when something is logged.
    let baseLogger: Logger

    /// The proven caller. For a method whose policy needs a credential (every policy but open to
    /// anyone), the dispatcher refused an unproven call before the handler ran; in a method open to
    /// anyone it is UNAUTHENTICATED. Never a trap, however the request arrived.
    public func requireCaller() throws(RPCError) -> AuthenticatedCaller {
        guard let caller else { throw RPCError(.unauthenticated, "\(method) needs a signed credential") }
        return caller
    }

    /// A logger carrying the request id, method and caller. Built when asked for, so a request
    /// that logs nothing pays nothing for it.
    public var logger: Logger {
        Dispatcher.requestLogger(baseLogger, requestID: requestID, method: method, caller: caller)
    }
}

/// What a typed handler of a method that needs a credential knows about the call: the proven
/// caller, never optional, and the request's own context.
public struct CallerContext: Sendable {
    /// Who called, proven by the credential (and, for a relayed act, who did it).
    public let caller: AuthenticatedCaller
    public let request: RequestContext

    public init(caller: AuthenticatedCaller, request: RequestContext) {
        self.caller = caller
        self.request = request
    }

    public var requestID: UInt64 { request.requestID }
    public var method: String { request.method }
    public var idempotencyKey: String { request.idempotencyKey }
    /// Why the caller wants this (INF-05); empty when none was given.
    public var purpose: String { request.purpose }
    public var deadline: NIODeadline? { request.deadline }
    public var logger: Logger { request.logger }
}

/// A method a service serves: its full name, who may call it, and the work.
public struct MethodHandler: Sendable {
    /// `hsb.intake.v1.Intake/Screen` style.
    public let method: String
    public let policy: AccessPolicy
    let body: @Sendable (RequestContext, [UInt8]) async throws -> [UInt8]

    /// The service part of the method name (`hsb.intake.v1.Intake`).
    public var service: String {
        String(method.split(separator: "/", maxSplits: 1).first ?? Substring(method))
    }

    /// A method over raw payload bytes.
    public init(method: String, policy: AccessPolicy, body: @escaping @Sendable (RequestContext, [UInt8]) async throws -> [UInt8]) {
        precondition(method.contains("/"), "method names look like package.Service/Method")
        self.method = method
        self.policy = policy
        self.body = body
    }

    /// A method of the contract, typed by its descriptor; an undecodable payload is
    /// INVALID_ARGUMENT naming what failed. The handler sees the caller as optional: for methods
    /// open to anyone (health).
    public static func unary<Input: WireMessage, Output: WireMessage>(
        _ method: MethodDescriptor<Input, Output>,
        policy: AccessPolicy,
        limits: DecodeLimits = .default,
        _ body: @escaping @Sendable (RequestContext, Input) async throws -> Output
    ) -> MethodHandler {
        unary(method.fullName, policy: policy, limits: limits, body)
    }

    /// A method of the contract that needs a credential: the handler gets the proven caller as a
    /// value (UNAUTHENTICATED before the handler runs when there is none, whatever the policy says).
    public static func authenticated<Input: WireMessage, Output: WireMessage>(
        _ method: MethodDescriptor<Input, Output>,
        policy: AccessPolicy,
        limits: DecodeLimits = .default,
        _ body: @escaping @Sendable (CallerContext, Input) async throws -> Output
    ) -> MethodHandler {
        unary(method.fullName, policy: policy, limits: limits) { context, input in
            try await body(CallerContext(caller: try context.requireCaller(), request: context), input)
        }
    }

    /// A method whose payloads are wire messages, by full name (a service outside the contract,
    /// as tests and the fuzzer build).
    public static func unary<Input: WireMessage, Output: WireMessage>(
        _ method: String,
        policy: AccessPolicy,
        limits: DecodeLimits = .default,
        _ body: @escaping @Sendable (RequestContext, Input) async throws -> Output
    ) -> MethodHandler {
        MethodHandler(method: method, policy: policy) { context, payload in
            let input: Input
            do throws(WireError) {
                input = try Input(decoding: payload, limits: limits)
            } catch {
                throw RPCError.invalidPayload(error)
            }
            let output = try await body(context, input)
            do {
                return try output.encoded()
            } catch {
                throw RPCError(.internal, "reply could not be encoded: \(error)")
            }
        }
    }
}

/// Every method a server serves, looked up by full name.
public struct MethodRegistry: Sendable {
    private var handlers: [String: MethodHandler] = [:]

    public init(_ handlers: [MethodHandler] = []) {
        for handler in handlers { register(handler) }
    }

    public mutating func register(_ handler: MethodHandler) {
        precondition(handlers[handler.method] == nil, "\(handler.method) registered twice")
        handlers[handler.method] = handler
    }

    public func handler(for method: String) -> MethodHandler? { handlers[method] }

    /// The service names hosted (for health checks by name).
    public var services: Set<String> { Set(handlers.values.map(\.service)) }

    public var methods: [String] { handlers.keys.sorted() }
}
