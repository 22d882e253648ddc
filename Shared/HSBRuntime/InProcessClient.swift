public import HSBWire
import NIOCore
import Synchronization

/// Calls a service's handlers in this process, with no sockets: each request is encoded, signed,
/// authenticated, dispatched and answered exactly as over the wire (the same `Dispatcher`), so a
/// handler's unit test exercises its decoding, access policy and errors without a network.
public final class InProcessClient: ClientTransport {
    private let dispatcher: Dispatcher
    private let signer: RequestSigner?
    private let nextID = Atomic<UInt64>(1)

    public init(dispatcher: Dispatcher, signer: RequestSigner?) {
        self.dispatcher = dispatcher
        self.signer = signer
    }

    /// Calls `method` with raw payload bytes; throws ``RPCError`` with the service's status and message.
    public func call(
        _ method: String, payload: [UInt8], idempotencyKey: String = "", purpose: String = "", acting: RelayedActor? = nil, user: String? = nil
    )
        async throws(RPCError) -> [UInt8]
    {
        var request = RequestEnvelope(
            requestID: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, method: method,
            idempotencyKey: idempotencyKey.isEmpty ? "in-process-\(UInt64.random(in: 1...UInt64.max))" : idempotencyKey, payload: payload,
            purpose: purpose)
        signer?.sign(&request, acting: acting, user: user)
        // Through the bytes, as a peer's request would arrive.
        let bytes: [UInt8]
        do throws(WireError) { bytes = try request.encoded() } catch { throw RPCError(.invalidArgument, "request could not be encoded: \(error)") }
        let received: RequestEnvelope
        do throws(WireError) { received = try RequestEnvelope(decoding: bytes) } catch {
            throw RPCError(.invalidArgument, "request envelope: \(error)")
        }
        let response = await dispatcher.respond(to: received, route: dispatcher.route(for: received.method), deadline: nil)
        guard response.status == .ok else { throw RPCError(response.status, response.message) }
        return response.payload
    }

    public func unary(_ method: String, payload: [UInt8], options: CallOptions) async throws(RPCError) -> [UInt8] {
        try await call(
            method, payload: payload, idempotencyKey: options.idempotencyKey ?? "", purpose: options.purpose, acting: options.acting,
            user: options.user)
    }

    public var decodeLimits: DecodeLimits { .default }
}
