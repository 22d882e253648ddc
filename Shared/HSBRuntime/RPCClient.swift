public import HSBWire
public import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// When and how often a call is retried. Only UNAVAILABLE is retried, always with the same
/// idempotency key, with exponential backoff and full jitter.
/// How long to wait between attempts: `initial`, growing by `multiplier` each attempt, never more
/// than `maximum`. The one backoff of the suite: the client's retries and the outbox's both use it.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Int

    public init(initial: Duration, maximum: Duration, multiplier: Int = 2) {
        precondition(multiplier >= 1)
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The ceiling of the pause after attempt `attempt` (attempts count from 1); never overflows.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        var ceiling = initial
        for _ in 1..<max(1, attempt) {
            ceiling = ceiling * multiplier
            if ceiling >= maximum { return maximum }
        }
        return min(ceiling, maximum)
    }

    /// The ceiling in whole milliseconds.
    public func milliseconds(afterAttempt attempt: Int) -> Int64 {
        let pause = ceiling(afterAttempt: attempt)
        return pause.components.seconds * 1000 + pause.components.attoseconds / 1_000_000_000_000_000
    }
}

public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var backoff: Backoff

    public init(maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(2), multiplier: Int = 2) {
        precondition(maxAttempts >= 1 && multiplier >= 1)
        self.maxAttempts = maxAttempts
        self.backoff = Backoff(initial: initialBackoff, maximum: maxBackoff, multiplier: multiplier)
    }

    public static let defaults = RetryPolicy()
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The ceiling of the pause before attempt `attempt + 1` (attempts count from 1).
    public func backoffCeiling(afterAttempt attempt: Int) -> Duration { backoff.ceiling(afterAttempt: attempt) }
}

public struct RPCClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var maxFrameSize: Int
    public var connectTimeout: TimeAmount
    public var retry: RetryPolicy
    public var decodeLimits: DecodeLimits
    /// This client's certificate and the CAs the service's must chain to; nil speaks plaintext.
    public var tls: TLSMaterial?
    /// The agency the service's certificate must name (e.g. youth-justice for the youth
    /// justice service); nil accepts any agency with a certificate for the host.
    public var expectedAgency: Agency?

    public init(
        host: String, port: Int, maxFrameSize: Int = Framing.defaultMaxFrameSize, connectTimeout: TimeAmount = .seconds(5),
        retry: RetryPolicy = .defaults, decodeLimits: DecodeLimits = .default, tls: TLSMaterial? = nil, expectedAgency: Agency? = nil
    ) {
        self.tls = tls
        self.expectedAgency = expectedAgency
        self.host = host
        self.port = port
        self.maxFrameSize = maxFrameSize
        self.connectTimeout = connectTimeout
        self.retry = retry
        self.decodeLimits = decodeLimits
    }
}

/// A client of one service: one reused connection (reopened when it drops), many calls in
/// flight on it, deadlines, and retries of UNAVAILABLE with the idempotency key unchanged.
public final class RPCClient: ClientTransport {
    public let configuration: RPCClientConfiguration
    private let signer: RequestSigner?
    private let group: any EventLoopGroup
    private let connection = Mutex<ConnectionState>(.idle)
    private let nextRequestID = Atomic<UInt64>(1)
    private let closed = Atomic<Bool>(false)
    /// Idempotency keys are this client's random prefix and a counter: unique without a system
    /// call per request.
    private let keyPrefix = RPCClient.randomHex(bytes: 12)
    private let nextKey = Atomic<UInt64>(1)

    enum ConnectionState {
        case idle
        case connecting(EventLoopFuture<ClientConnection>)
        case ready(ClientConnection)
    }

    public init(configuration: RPCClientConfiguration, signer: RequestSigner?, group: any EventLoopGroup) {
        self.configuration = configuration
        self.signer = signer
        self.group = group
    }

    /// Calls `method` with raw payload bytes; throws ``RPCError`` with the service's status and message.
    public func call(
        _ method: String, payload: [UInt8], timeout: Duration? = nil, idempotencyKey: String? = nil, purpose: String = "",
        acting: RelayedActor? = nil, user: String? = nil
    ) async throws(RPCError) -> [UInt8] {
        let key = idempotencyKey ?? "\(keyPrefix)-\(nextKey.wrappingAdd(1, ordering: .relaxed).oldValue)"
        let deadline = timeout.map {
            NIODeadline.now() + .nanoseconds(Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000)
        }
        var attempt = 0
        while true {
            attempt += 1
            var lastError: RPCError
            do throws(RPCError) {
                let response = try await attemptOnce(
                    method: method, payload: payload, deadline: deadline, idempotencyKey: key, purpose: purpose, acting: acting, user: user)
                if response.status == .ok { return response.payload }
                lastError = RPCError(response.status, response.message)
            } catch {
                lastError = error
            }
            guard lastError.code == .unavailable, lastError.transient, attempt < configuration.retry.maxAttempts else { throw lastError }
            let ceiling = configuration.retry.backoffCeiling(afterAttempt: attempt)
            let ceilingNanos = max(1, ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000)
            let pause = Int64.random(in: 0...ceilingNanos)
            if let deadline, NIODeadline.now() + .nanoseconds(pause) >= deadline {
                throw RPCError(.deadlineExceeded, "deadline passed while retrying after: \(lastError.message)")
            }
            do { try await Task.sleep(for: .nanoseconds(pause)) } catch { throw RPCError(.cancelled, "call cancelled while waiting to retry") }
        }
    }

    public func unary(_ method: String, payload: [UInt8], options: CallOptions) async throws(RPCError) -> [UInt8] {
        try await call(
            method, payload: payload, timeout: options.timeout, idempotencyKey: options.idempotencyKey,
            purpose: options.purpose, acting: options.acting, user: options.user)
    }

    public var decodeLimits: DecodeLimits { configuration.decodeLimits }

    /// Closes the connection; later calls fail with UNAVAILABLE.
    public func close() async {
        closed.store(true, ordering: .sequentiallyConsistent)
        let state = connection.withLock { current in
            defer { current = .idle }
            return current
        }
        switch state {
        case .idle: break
        case .connecting(let future): if let channel = try? await future.get().channel { try? await channel.close() }
        case .ready(let conn): try? await conn.channel.close()
        }
    }

    static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        while bytes.count < count {
            withUnsafeBytes(of: generator.next()) { bytes += $0 }
        }
        return Array(bytes.prefix(count)).hexString
    }

    private func attemptOnce(
        method: String, payload: [UInt8], deadline: NIODeadline?, idempotencyKey: String, purpose: String, acting: RelayedActor?,
        user: String?
    ) async throws(RPCError) -> ResponseEnvelope {
        let timeoutMillis: Int64
        if let deadline {
            let remaining = (deadline - NIODeadline.now()).nanoseconds / 1_000_000
            guard remaining > 0 else {
                var late = RPCError(.deadlineExceeded, "deadline passed before \(method) was sent")
                late.neverSent = true
                throw late
            }
            timeoutMillis = remaining
        } else {
            timeoutMillis = 0
        }
        var request = RequestEnvelope(
            requestID: nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue, method: method, timeoutMillis: timeoutMillis,
            idempotencyKey: idempotencyKey, payload: payload, purpose: purpose)
        signer?.sign(&request, acting: acting, user: user)
        let frame: ByteBuffer
        do throws(WireError) {
            frame = try request.encodedFrame(allocator: ByteBufferAllocator())
        } catch {
            throw RPCError(.invalidArgument, "request could not be encoded: \(error)")
        }
        let size = frame.readableBytes - Framing.headerSize
        guard size <= configuration.maxFrameSize else {
            throw RPCError(.resourceExhausted, "request of \(size) bytes exceeds the maximum frame size of \(configuration.maxFrameSize)")
        }
        let conn = try await connect()
        let id = request.requestID
        let handler = conn.handler
        let loop = conn.channel.eventLoop
        do {
            // Resumed once, from the connection's loop: by the reply, the deadline, the connection's
            // end, or the calling task's cancellation (which frees the call's slot at once).
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (reply: UnsafeContinuation<ResponseEnvelope, any Error>) in
                    loop.execute { handler.value.send(frame, id: id, reply: reply, deadline: deadline, method: method) }
                }
            } onCancel: {
                loop.execute { handler.value.cancel(id: id, method: method) }
            }
        } catch let error as RPCError {
            throw error
        } catch {
            var failure = RPCError(.unavailable, "\(method) failed: \(ConnectFailure.reason(error))")
            failure.cause = "\(error)"
            throw failure
        }
    }

    private func connect() async throws(RPCError) -> ClientConnection {
        if closed.load(ordering: .relaxed) { throw RPCError.unreachable("client is closed") }
        let configuration = self.configuration
        let current: ConnectionState = connection.withLock { state in
            switch state {
            case .ready, .connecting:
                return state
            case .idle:
                let maxFrame = configuration.maxFrameSize
                let limits = configuration.decodeLimits
                let tls = configuration.tls.map { ($0.clientContext, configuration.expectedAgency) }
                // The host name is checked against the certificate's DNS names; an IP address
                // (never sent as SNI) against its IP addresses.
                let serverName = configuration.host.isIPAddress ? nil : configuration.host
                let made = ClientBootstrap(group: group)
                    .connectTimeout(configuration.connectTimeout)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if let (context, expected) = tls {
                                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                                try channel.pipeline.syncOperations.addHandler(ServerIdentityCheck(expected: expected))
                            }
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrame)))
                            try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler(limits: limits))
                        }
                    }
                    .connect(host: configuration.host, port: configuration.port)
                    .flatMapThrowing { channel in
                        let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
                        return ClientConnection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                state = .connecting(made)
                made.whenComplete { [weak self] result in
                    guard let self else { return }
                    switch result {
                    case .success(let conn):
                        self.connection.withLock { state in
                            if case .connecting(let pending) = state, pending === made { state = .ready(conn) }
                        }
                        // Forget the connection once it closes, so the next call reconnects.
                        conn.channel.closeFuture.whenComplete { [weak self] _ in
                            self?.connection.withLock { state in
                                if case .ready(let current) = state, current.channel === conn.channel { state = .idle }
                            }
                        }
                    case .failure:
                        self.connection.withLock { state in
                            if case .connecting(let pending) = state, pending === made { state = .idle }
                        }
                    }
                }
                return .connecting(made)
            }
        }
        let future: EventLoopFuture<ClientConnection>
        switch current {
        case .ready(let conn): return conn
        case .connecting(let pending): future = pending
        case .idle: preconditionFailure("connect() always leaves a connection or an attempt")
        }
        do {
            return try await future.get()
        } catch {
            var failure = RPCError.unreachable("cannot connect to \(configuration.host):\(configuration.port): \(ConnectFailure.reason(error))")
            failure.cause = "\(error)"
            throw failure
        }
    }
}

struct ClientConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ClientConnectionHandler>
}

/// Matches replies to waiting calls by request id; fails them all when the connection drops.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private struct Pending {
        let reply: UnsafeContinuation<ResponseEnvelope, any Error>
        let timer: Scheduled<Void>?
    }

    private var pending: [UInt64: Pending] = [:]
    private var context: ChannelHandlerContext?
    /// When a frame last came in on this connection.
    private var lastRead = NIODeadline.now()
    private let limits: DecodeLimits
    /// Why the connection failed, once it has: a call that reaches it afterwards (a TLS
    /// handshake can fail before the first call is registered) is told that, not only that it closed.
    private var broken: RPCError?

    init(limits: DecodeLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    private var flushScheduled = false

    /// Registers the call and writes its frame; calls sent in the same turn of the loop share a flush.
    func send(_ frame: ByteBuffer, id: UInt64, reply: UnsafeContinuation<ResponseEnvelope, any Error>, deadline: NIODeadline?, method: String) {
        if let broken {
            reply.resume(throwing: broken)
            return
        }
        guard let context, context.channel.isActive else {
            reply.resume(throwing: RPCError.unreachable("connection closed before \(method) was sent"))
            return
        }
        highestSent = max(highestSent, id)
        // Cancelled before it could be sent: never sent at all.
        if cancelledBeforeSending.remove(id) != nil {
            var cancelled = RPCError(.cancelled, "\(method) was cancelled before it was sent")
            cancelled.neverSent = true
            reply.resume(throwing: cancelled)
            return
        }
        var timer: Scheduled<Void>? = nil
        if let deadline {
            let sentAt = NIODeadline.now()
            timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                self.fail(id: id, RPCError(.deadlineExceeded, "no reply to \(method) before the deadline"))
                // Nothing at all came back on this connection while the call waited: the peer or the
                // link is gone without a reset (a cut cable, a host that hangs), and TCP would keep the
                // connection open for many minutes. It is closed, so the next call connects afresh
                // and, while the link is down, fails without sending (which the outbox does not count
                // against a step) instead of being sent into the same hole again.
                // A call made while it closes (TLS first says goodbye, for up to seconds) fails at
                // once as never sent, not sent into it.
                if self.lastRead < sentAt {
                    if self.broken == nil {
                        self.broken = RPCError.unreachable("the connection answered nothing before a call's deadline and is being closed")
                    }
                    self.context?.close(promise: nil)
                }
            }
        }
        pending[id] = Pending(reply: reply, timer: timer)
        // No promise per write: a write that fails closes the connection, and channelInactive
        // fails every call still waiting, this one included.
        context.write(NIOAny(frame), promise: nil)
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute { [self] in
                self.flushScheduled = false
                self.context?.flush()
            }
        }
    }

    func fail(id: UInt64, _ error: RPCError) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.timer?.cancel()
        entry.reply.resume(throwing: error)
    }

    /// The calling task was cancelled: the call ends now and its slot is freed; a reply that
    /// comes later is dropped. A cancellation that overtakes the send is remembered for it.
    func cancel(id: UInt64, method: String) {
        guard pending[id] != nil else {
            // Ids rise with each call: one above any sent yet has not reached the loop; one below has
            // already been answered (nothing to remember, so nothing accumulates).
            if id > highestSent { cancelledBeforeSending.insert(id) }
            return
        }
        fail(id: id, RPCError(.cancelled, "\(method) was cancelled"))
    }

    /// Calls cancelled before their send reached the loop, and the highest id sent so far.
    private var cancelledBeforeSending: Set<UInt64> = []
    private var highestSent: UInt64 = 0

    /// Calls waiting for their reply (for tests and metrics).
    var inFlight: Int { pending.count }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        let frame = Self.unwrapInboundIn(data)
        let response: ResponseEnvelope
        do {
            response = try ResponseEnvelope(decoding: frame, limits: limits)
        } catch {
            failAll(RPCError(.internal, "the service sent an undecodable reply: \(error)"))
            context.close(promise: nil)
            return
        }
        if response.requestID == 0 {
            // A connection-level refusal (over the connection limit, frame too large, bad envelope).
            failAll(RPCError(response.status, response.message))
            return
        }
        guard let entry = pending.removeValue(forKey: response.requestID) else { return }
        entry.timer?.cancel()
        entry.reply.resume(returning: response)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(broken ?? RPCError(.unavailable, "connection to the service closed before the reply"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        var failure = RPCError(.unavailable, "the connection to the service failed: \(ConnectFailure.broken(error))")
        // A refused handshake: nothing reached the service, and nothing will until a certificate
        // or a CA changes, so it is not retried within the call.
        if let refused = error as? TransportSecurityError {
            failure = RPCError.unreachable("the service's identity was refused: \(refused)")
            failure.transient = false
        } else if let handshake = HandshakeFailure.from(error) {
            failure = RPCError.unreachable("the TLS handshake with the service failed: \(handshake.detail)")
            failure.transient = false
        }
        failure.cause = "\(error)"
        if broken == nil { broken = failure }
        failAll(failure)
        context.close(promise: nil)
    }

    private func failAll(_ error: RPCError) {
        let entries = pending
        pending.removeAll()
        for (_, entry) in entries {
            entry.timer?.cancel()
            entry.reply.resume(throwing: error)
        }
    }
}

extension String {
    /// Whether this is an IPv4 or IPv6 address literal (not a host name).
    var isIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, self, &v4) == 1 || inet_pton(AF_INET6, self, &v6) == 1
    }
}

/// On a client connection: once TLS is up, the service's certificate must name the agency the
/// client expects (a certificate for another agency, even from the same CA, is refused).
final class ServerIdentityCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let expected: Agency?

    init(expected: Agency?) { self.expected = expected }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            do {
                guard let certificate = try context.pipeline.syncOperations.nioSSL_peerCertificate() else {
                    throw TransportSecurityError.noAgency("the service presented no certificate")
                }
                let agency = try AgencyIdentity.agency(of: certificate)
                if let expected, agency != expected {
                    throw TransportSecurityError.unusable("the service's certificate is \(agency.name)'s, not \(expected.name)'s")
                }
            } catch {
                context.fireErrorCaught(error)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }
}
