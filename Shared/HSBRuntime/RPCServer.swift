public import HSBWire
public import Logging
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import Synchronization

/// How an RPC server listens, and the limits that keep a slow or hostile peer from holding it.
public struct RPCServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; ``RPCServer/localAddress`` says which.
    public var port: Int
    public var maxFrameSize: Int
    public var maxConnections: Int
    /// A connection with no request in flight and nothing read for this long is closed.
    public var idleTimeout: TimeAmount
    /// A frame begun must be complete within this long, or the connection is closed (slow peers).
    public var frameTimeout: TimeAmount
    /// On shutdown, how long in-flight requests may take to finish before connections are closed.
    public var drainTimeout: TimeAmount
    public var decodeLimits: DecodeLimits
    /// Connections one peer address may hold at once; past it, like past ``maxConnections``, a
    /// connection is answered only for health checks.
    public var maxConnectionsPerPeer: Int
    /// Connections admitted past a limit to answer health checks, at most this many at once.
    public var healthOnlyConnections: Int
    /// Bytes of partial frames all connections together may hold.
    public var maxBufferedBytes: Int
    /// The longest status message a reply carries; longer ones are cut, saying so.
    public var maxMessageBytes: Int

    public init(
        host: String = "127.0.0.1", port: Int = 0, maxFrameSize: Int = Framing.defaultMaxFrameSize,
        maxConnections: Int = 1024, idleTimeout: TimeAmount = .seconds(300), frameTimeout: TimeAmount = .seconds(30),
        drainTimeout: TimeAmount = .seconds(10), decodeLimits: DecodeLimits = .default, maxConnectionsPerPeer: Int = 256,
        healthOnlyConnections: Int = 32, maxBufferedBytes: Int = 128 * 1024 * 1024, maxMessageBytes: Int = 4096
    ) {
        self.maxConnectionsPerPeer = maxConnectionsPerPeer
        self.healthOnlyConnections = healthOnlyConnections
        self.maxBufferedBytes = maxBufferedBytes
        self.maxMessageBytes = maxMessageBytes
        self.host = host
        self.port = port
        self.maxFrameSize = maxFrameSize
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.drainTimeout = drainTimeout
        self.decodeLimits = decodeLimits
    }

    public static let defaults = RPCServerConfiguration()
}

/// Turns one decoded request into one reply: method lookup, authentication, access, deadline, work.
public final class Dispatcher: Sendable {
    public let registry: MethodRegistry
    public let authenticator: Authenticator
    public let metrics: ServerMetrics
    let logger: Logger
    /// Each method's handler beside its metrics series, looked up once per request.
    private let routes: [String: Route]
    /// Refusals are logged at most once a second per status, with a count of the rest.
    private let refusals = RateLimitedLog()

    /// A served method and the series its requests are counted in.
    struct Route: Sendable {
        let handler: MethodHandler
        let series: ServerMetrics.MethodSeries
    }

    public init(registry: MethodRegistry, authenticator: Authenticator, metrics: ServerMetrics, logger: Logger) {
        self.registry = registry
        self.authenticator = authenticator
        self.metrics = metrics
        self.logger = logger
        var routes: [String: Route] = [:]
        for method in registry.methods {
            routes[method] = Route(handler: registry.handler(for: method)!, series: metrics.series(for: method))
        }
        self.routes = routes
    }

    func route(for method: String) -> Route? { routes[method] }

    static func requestLogger(_ base: Logger, requestID: UInt64, method: String, caller: AuthenticatedCaller?) -> Logger {
        var logger = base
        logger[metadataKey: "request_id"] = "\(requestID)"
        logger[metadataKey: "method"] = "\(method)"
        if let caller { logger[metadataKey: "caller"] = "\(caller.agency.name)" }
        return logger
    }

    /// The reply to `request`. Never throws: every failure is a status with a message.
    /// `route` is the request's method as looked up by ``route(for:)``; nil when it is not served here.
    /// `link` is how the connection identified its peer (the agency of its verified certificate, on TLS).
    func respond(to request: RequestEnvelope, route: Route?, deadline: NIODeadline?, link: LinkIdentity = .plaintext) async -> ResponseEnvelope {
        guard let handler = route?.handler else {
            return ResponseEnvelope(requestID: request.requestID, status: .unimplemented, message: "method \(request.method) is not served here")
        }
        let caller: AuthenticatedCaller?
        do {
            caller = try authenticator.authenticate(request, policy: handler.policy, link: link)
            if let caller { try await authenticator.verifyRelayedAct(request, caller: caller) }
        } catch {
            let logger = self.logger
            refusals.log(kind: "\(error.code)") { suppressed in
                Self.requestLogger(logger, requestID: request.requestID, method: request.method, caller: nil).notice(
                    "refused", metadata: ["status": "\(error.code)", "reason": "\(error.message)", "suppressed_since_last": "\(suppressed)"])
            }
            return ResponseEnvelope(requestID: request.requestID, status: error.code, message: error.message)
        }
        let context = RequestContext(
            requestID: request.requestID, method: request.method, caller: caller,
            idempotencyKey: request.idempotencyKey, purpose: request.purpose, deadline: deadline, baseLogger: logger)
        do {
            let payload = try await handler.body(context, request.payload)
            return ResponseEnvelope(requestID: request.requestID, status: .ok, payload: payload)
        } catch let error as RPCError {
            return ResponseEnvelope(requestID: request.requestID, status: error.code, message: error.message)
        } catch let error as any RPCErrorConvertible {
            let rpc = error.rpcError
            if rpc.code == .internal || rpc.code == .unavailable {
                context.logger.error("handler failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            return ResponseEnvelope(requestID: request.requestID, status: rpc.code, message: rpc.message)
        } catch is CancellationError {
            return ResponseEnvelope(requestID: request.requestID, status: .cancelled, message: "the work was cancelled")
        } catch {
            context.logger.error("handler failed", metadata: ["error": "\(String(reflecting: error))"])
            return ResponseEnvelope(
                requestID: request.requestID, status: .internal,
                message: "internal error while serving \(request.method); the service logged the details")
        }
    }
}

/// The suite's TCP server: length-prefixed envelopes, many requests in flight per connection,
/// replies in completion order, deadlines, limits and a graceful drain.
public final class RPCServer: Service, Sendable {
    public let configuration: RPCServerConfiguration
    public let dispatcher: Dispatcher
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(ServerState())
    /// Set once a drain begins, so a finished request need not take the lock unless one has.
    /// Sequentially consistent with the in-flight count: a request that finishes as a drain begins
    /// either sees the drain, or the drain sees it finished (never both missed, which would leave
    /// the drain waiting for its timeout).
    private let drainBegun = Atomic<Bool>(false)

    /// Partial frames held across all connections.
    let bufferBudget: BufferBudget
    /// Requests being served now: the server's own count, which its drain waits on (the metrics
    /// gauge reports it; nothing here reads the gauge).
    private let inFlight = Atomic<Int>(0)
    /// Set when a drain begins; shared with whatever must know (the health handler reports
    /// NOT_SERVING from then on) without pointing back at the server.
    public let drainSignal: DrainSignal

    struct ServerState {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Connections per peer address (its IP, without the port), and each connection's peer.
        var perPeer: [String: Int] = [:]
        var peerOf: [ObjectIdentifier: String] = [:]
        var healthOnly = 0
        var draining = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// What a new connection is let do.
    enum Admission {
        case served
        /// Over a limit: health checks only, for a short while.
        case healthOnly(reason: String)
        case refused
    }

    /// The server's certificate and the CAs its clients' certificates must chain to; nil serves
    /// plaintext (loopback, or `--insecure-plaintext`).
    public let tls: TLSMaterial?
    /// Handshake failures are logged at most once a second per reason.
    private let handshakeRefusals = RateLimitedLog()

    public init(
        configuration: RPCServerConfiguration, dispatcher: Dispatcher, group: any EventLoopGroup, logger: Logger,
        drainSignal: DrainSignal = DrainSignal(), tls: TLSMaterial? = nil
    ) {
        self.tls = tls
        self.drainSignal = drainSignal
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.group = group
        self.logger = logger
        self.bufferBudget = BufferBudget(limit: configuration.maxBufferedBytes)
    }

    /// The bound address, once ``start()`` has returned.
    public var localAddress: SocketAddress? { state.withLock { $0.channel?.localAddress } }

    /// True once a drain has begun; health reports NOT_SERVING from then on.
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Binds and starts accepting. Idempotent.
    @discardableResult
    public func start() async throws -> SocketAddress {
        if let address = localAddress { return address }
        let configuration = self.configuration
        let bound = { () async throws -> any Channel in
            try await ServerBootstrap(group: self.group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        let metrics = self.dispatcher.metrics
                        if let tls = self.tls {
                            // TLS first: nothing reaches the frame decoder before the handshake
                            // has verified the client's certificate and named its agency.
                            let identity = TLSIdentityHandler(handshakeTimeout: .seconds(10)) { [self] failure in
                                self.handshakeRefused(failure, peer: Self.peerKey(channel))
                            }
                            try sync.addHandler(
                                NIOSSLServerHandler(
                                    context: tls.serverContext,
                                    customVerificationCallbackWithMetadata: ClientCertificateVerification.callback(
                                        trusted: tls.trustedCAs, outcome: identity.outcome)))
                            try sync.addHandler(identity)
                        }
                        switch self.admit(channel) {
                        case .refused:
                            try sync.addHandler(RefuseConnectionHandler(limit: configuration.maxConnections, metrics: metrics))
                        case .healthOnly(let reason):
                            try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: min(configuration.maxFrameSize, 64 * 1024))))
                            try sync.addHandler(
                                HealthOnlyHandler(
                                    dispatcher: self.dispatcher, reason: reason, lifetime: .seconds(10), decodeLimits: configuration.decodeLimits))
                        case .served:
                            try sync.addHandler(ServerConnectionHandler(server: self, channel: channel))
                        }
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        }
        let channel: any Channel
        do {
            channel = try await bound()
        } catch {
            throw BindFailure.from(error, what: "RPC", host: configuration.host, port: configuration.port, setting: "--port (HSB_PORT)")
        }
        state.withLock { $0.channel = channel }
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return channel.localAddress!
    }

    private func handshakeRefused(_ failure: HandshakeFailure, peer: String) {
        dispatcher.metrics.handshakeRefused(reason: failure.reason)
        let logger = self.logger
        handshakeRefusals.log(kind: failure.reason) { suppressed in
            logger.notice(
                "TLS connection refused",
                metadata: [
                    "reason": "\(failure.reason)", "detail": "\(failure.detail)", "peer": "\(peer)", "suppressed_since_last": "\(suppressed)",
                ])
        }
    }

    static func peerKey(_ channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }

    private func admit(_ channel: any Channel) -> Admission {
        let peer = Self.peerKey(channel)
        return state.withLock { state in
            if state.draining { return .refused }
            let reason: String
            if state.connections.count >= configuration.maxConnections {
                reason = "the server is at its limit of \(configuration.maxConnections) connections"
            } else if state.perPeer[peer, default: 0] >= configuration.maxConnectionsPerPeer {
                reason = "your address holds its limit of \(configuration.maxConnectionsPerPeer) connections"
            } else {
                state.connections[ObjectIdentifier(channel)] = channel
                state.peerOf[ObjectIdentifier(channel)] = peer
                state.perPeer[peer, default: 0] += 1
                return .served
            }
            guard state.healthOnly < configuration.healthOnlyConnections else { return .refused }
            state.healthOnly += 1
            channel.closeFuture.whenComplete { _ in self.state.withLock { $0.healthOnly -= 1 } }
            return .healthOnly(reason: reason)
        }
    }

    func connectionClosed(_ channel: any Channel) {
        state.withLock { state in
            guard state.connections.removeValue(forKey: ObjectIdentifier(channel)) != nil,
                let peer = state.peerOf.removeValue(forKey: ObjectIdentifier(channel))
            else { return }
            let left = state.perPeer[peer, default: 1] - 1
            state.perPeer[peer] = left > 0 ? left : nil
        }
    }

    func requestStarted() { inFlight.wrappingAdd(1, ordering: .relaxed) }

    func requestFinished() {
        inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        guard drainBegun.load(ordering: .sequentiallyConsistent) else { return }
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard state.draining, inFlight.load(ordering: .sequentiallyConsistent) == 0 else { return [] }
            defer { state.drainWaiters.removeAll() }
            return state.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Stops accepting, lets in-flight requests finish for up to the drain timeout, then closes
    /// every connection.
    public func drain() async {
        let listener: (any Channel)? = state.withLock { state in
            state.draining = true
            drainBegun.store(true, ordering: .sequentiallyConsistent)
            drainSignal.begin()
            return state.channel
        }
        try? await listener?.close()
        // Each connection refuses new requests from now on and closes once its own are answered.
        for connection in state.withLock({ Array($0.connections.values) }) {
            connection.pipeline.fireUserInboundEventTriggered(ServerConnectionHandler.DrainBegan())
        }
        logger.info("draining", metadata: ["in_flight": "\(inFlight.load(ordering: .sequentiallyConsistent))"])
        let timeout = configuration.drainTimeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.state.withLock { state -> Bool in
                        if self.inFlight.load(ordering: .sequentiallyConsistent) == 0 { return true }
                        state.drainWaiters.append(continuation)
                        return false
                    }
                    if done { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                let waiters = self.state.withLock { state in
                    defer { state.drainWaiters.removeAll() }
                    return state.drainWaiters
                }
                for waiter in waiters { waiter.resume() }
            }
            await group.next()
            group.cancelAll()
        }
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections { try? await connection.close() }
        logger.info("stopped", metadata: ["unfinished": "\(inFlight.load(ordering: .sequentiallyConsistent))"])
    }

    /// Runs until graceful shutdown is signalled (SIGTERM/SIGINT through the service group), then drains.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await drain()
    }
}

/// Whether a server has begun to drain, for those that must know without holding the server.
public final class DrainSignal: Sendable {
    private let begun = Atomic<Bool>(false)
    public init() {}
    public var isDraining: Bool { begun.load(ordering: .sequentiallyConsistent) }
    func begin() { begun.store(true, ordering: .sequentiallyConsistent) }
}

/// Sends one RESOURCE_EXHAUSTED reply to a connection over the limit, then closes it.
final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let limit: Int
    let metrics: ServerMetrics

    init(limit: Int, metrics: ServerMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    func channelActive(context: ChannelHandlerContext) {
        metrics.connectionRefused()
        let reply = ResponseEnvelope(
            requestID: 0, status: .resourceExhausted, message: "server is at its limit of \(limit) connections or shutting down; retry later")
        let bytes = (try? reply.encoded()) ?? []
        context.writeAndFlush(NIOAny(Framing.frame(bytes, allocator: context.channel.allocator))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// One connection: frames decoded straight to envelopes in one step, requests dispatched
/// concurrently and answered as each finishes, a frame begun that is not finished in time closes it
/// (slow peers), and its partial frame is held to the server's memory budget. What happens when is
/// decided by a ``ConnectionStateMachine``; this handler carries out its actions.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline when the server begins to drain.
    struct DrainBegan: Sendable {}

    private let server: RPCServer
    private let channel: any Channel
    private var machine: ConnectionStateMachine
    private let processor: NIOSingleStepByteToMessageProcessor<RequestFrameDecoder>
    /// The work and the deadline timer of each request in flight.
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var timers: [UInt64: Scheduled<Void>] = [:]
    /// Runs this connection's handlers on its own event loop.
    private let executor: EventLoopTaskExecutor
    private var flushScheduled = false
    private var idleCheck: Scheduled<Void>?
    /// When the frame in progress began (its first byte), and the check that it ends in time.
    private var frameStarted: NIODeadline?
    private var frameCheck: Scheduled<Void>?
    /// Bytes of the frame in progress, as reserved from the server's budget.
    private var held = 0
    /// Set once the connection is being closed for a broken frame or the budget: nothing more is read.
    private var refusing = false
    /// Set while the processor is cutting frames: a close that happens inside (a drain's last reply
    /// written at once) must not re-enter it.
    private var processing = false
    /// How the peer is identified: its certificate's agency once the TLS handshake names it;
    /// plaintext when the server serves no TLS. Nil on a TLS server until then.
    private var link: LinkIdentity?

    init(server: RPCServer, channel: any Channel) {
        self.server = server
        self.channel = channel
        self.executor = EventLoopTaskExecutor(channel.eventLoop)
        self.machine = ConnectionStateMachine(now: .now(), idleTimeout: server.configuration.idleTimeout)
        self.link = server.tls == nil ? .plaintext : nil
        self.processor = NIOSingleStepByteToMessageProcessor(
            RequestFrameDecoder(maxFrameSize: server.configuration.maxFrameSize, limits: server.configuration.decodeLimits))
    }

    private var metrics: ServerMetrics { server.dispatcher.metrics }

    func channelActive(context: ChannelHandlerContext) {
        metrics.connectionOpened()
        scheduleIdleCheck(at: machine.lastActivity + machine.idleTimeout, context: context)
        context.fireChannelActive()
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            switch self.machine.idleCheck(now: .now()) {
            case .close: context.close(promise: nil)
            case .checkAgain(let at): self.scheduleIdleCheck(at: at, context: context)
            case .stop: break
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identified = event as? PeerIdentified {
            switch identified.agency {
            case .success(let agency): link = .certificate(agency)
            case .failure: context.close(promise: nil)  // counted and logged by the TLS identity handler
            }
            return
        }
        guard event is DrainBegan else { return context.fireUserInboundEventTriggered(event) }
        if machine.drainBegan() == .close { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        frameCheck?.cancel()
        frameCheck = nil
        server.bufferBudget.release(held)
        held = 0
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        frameCheck?.cancel()
        frameCheck = nil
        // A frame cut off by the close is counted, as a broken frame is.
        if !processing {
            do {
                try processor.finishProcessing(seenEOF: true) { _ in }
            } catch {
                if case FrameError.truncatedFrame = error { metrics.frameRefused(reason: "truncated") }
            }
        }
        metrics.connectionClosed()
        server.connectionClosed(channel)
        for id in machine.closed() {
            tasks[id]?.cancel()
            timers.removeValue(forKey: id)?.cancel()
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        // TLS delivers no application bytes before its handshake completes, so a TLS server's
        // connection always knows its peer here; this guards that promise.
        guard link != nil else {
            refusing = true
            context.close(promise: nil)
            return
        }
        var decoded = false
        processing = true
        defer { processing = false }
        do {
            try processor.process(buffer: Self.unwrapInboundIn(data)) { frame in
                decoded = true
                self.received(frame, context: context)
            }
        } catch let error as FrameError {
            refuse(error, context: context)
            return
        } catch {
            context.close(promise: nil)
            return
        }
        holdPartialFrame(decoded: decoded, context: context)
    }

    /// Accounts for the bytes of the frame in progress: held to the server's budget, and timed
    /// from its first byte.
    private func holdPartialFrame(decoded: Bool, context: ChannelHandlerContext) {
        let partial = processor.unprocessedBytes
        if partial > held {
            guard server.bufferBudget.reserve(partial - held) else {
                metrics.frameRefused(reason: "over_memory_budget")
                refusing = true
                closeWith(
                    ResponseEnvelope(
                        requestID: 0, status: .resourceExhausted,
                        message: "the server is holding as many partial frames as it allows; the connection is closed, retry later"),
                    context: context)
                return
            }
        } else if partial < held {
            server.bufferBudget.release(held - partial)
        }
        held = partial
        if partial == 0 {
            frameStarted = nil
        } else if decoded || frameStarted == nil {
            // A new frame began in this read.
            frameStarted = .now()
        }
        if frameStarted != nil && frameCheck == nil { scheduleFrameCheck(context: context) }
    }

    private func scheduleFrameCheck(context: ChannelHandlerContext) {
        guard let started = frameStarted else { return }
        let timeout = server.configuration.frameTimeout
        frameCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: started + timeout) { [self] in
            self.frameCheck = nil
            guard let started = self.frameStarted else { return }
            if NIODeadline.now() >= started + timeout {
                self.metrics.frameRefused(reason: "too_slow")
                context.close(promise: nil)
            } else {
                self.scheduleFrameCheck(context: context)
            }
        }
    }

    private func received(_ frame: RequestFrameDecoder.Frame, context: ChannelHandlerContext) {
        let request: RequestEnvelope
        switch frame {
        case .undecodable(let error):
            metrics.frameRefused(reason: "undecodable")
            write(ResponseEnvelope(requestID: 0, status: .invalidArgument, message: "request envelope: \(error)"), context: context)
            return
        case .request(let decoded):
            request = decoded
        }
        let started = NIODeadline.now()
        let id = request.requestID
        let deadline: NIODeadline?
        switch machine.requestReceived(
            id: id, timeoutMillis: request.timeoutMillis, servedWhileDraining: request.method == HealthService.check.fullName, now: started)
        {
        case .ignore:
            return
        case .reject(let status, let message):
            write(ResponseEnvelope(requestID: id, status: status, message: message), context: context)
            return
        case .dispatch(let at):
            deadline = at
        }
        metrics.requestStarted()
        server.requestStarted()
        let dispatcher = server.dispatcher
        let route = dispatcher.route(for: request.method)
        let series = route?.series ?? metrics.unknownMethod
        if let deadline {
            let timeoutMillis = request.timeoutMillis
            timers[id] = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                self.timers[id] = nil
                guard case .cancelAndReply(let close) = self.machine.deadlineReached(id: id) else { return }
                self.tasks.removeValue(forKey: id)?.cancel()
                let response = ResponseEnvelope(
                    requestID: id, status: .deadlineExceeded, message: "deadline of \(timeoutMillis) ms exceeded; the work was abandoned")
                self.answer(response, series: series, started: started, close: close, context: context)
            }
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let link = self.link ?? .plaintext
        // The handler starts here, on the loop, and runs until it first suspends: one that never
        // does (a health check, a refusal) is answered before this returns, with no task switch.
        // One that suspends (storage, through the thread pool) resumes on this connection's loop.
        let task = Task.immediate(executorPreference: executor) {
            let response = await dispatcher.respond(to: request, route: route, deadline: deadline, link: link)
            if loop.inEventLoop {
                let (handler, context) = bound.value
                handler.finished(id: id, series: series, started: started, response: response, context: context)
            } else {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.finished(id: id, series: series, started: started, response: response, context: context)
                }
            }
        }
        // Kept only while the request is still in flight (it may have been answered already).
        if machine.inFlight.contains(id) { tasks[id] = task }
    }

    /// A request's work has ended: its reply is written, unless its deadline already answered it.
    private func finished(
        id: UInt64, series: ServerMetrics.MethodSeries, started: NIODeadline, response: ResponseEnvelope, context: ChannelHandlerContext
    ) {
        let activity = response.status != .unauthenticated && response.status != .unimplemented
        switch machine.requestFinished(id: id, countsAsActivity: activity, now: .now()) {
        case .drop:
            return
        case .discard:
            tasks[id] = nil
            metrics.requestFinished(series, status: .cancelled, seconds: Self.seconds(since: started))
            server.requestFinished()
        case .reply(let close):
            tasks[id] = nil
            timers.removeValue(forKey: id)?.cancel()
            answer(response, series: series, started: started, close: close, context: context)
        }
    }

    private func answer(
        _ response: ResponseEnvelope, series: ServerMetrics.MethodSeries, started: NIODeadline, close: Bool, context: ChannelHandlerContext
    ) {
        metrics.requestFinished(series, status: response.status, seconds: Self.seconds(since: started))
        if context.channel.isActive { write(response, context: context) }
        server.requestFinished()
        if close {
            context.flush()
            context.close(promise: nil)
        }
    }

    private static func seconds(since started: NIODeadline) -> Double { Double((NIODeadline.now() - started).nanoseconds) / 1e9 }

    /// Answers a broken frame and closes the connection: a frame too large is told why; a
    /// connection that ended inside a frame has no one to tell.
    private func refuse(_ error: FrameError, context: ChannelHandlerContext) {
        refusing = true
        switch error {
        case .frameTooLarge:
            metrics.frameRefused(reason: "too_large")
            closeWith(ResponseEnvelope(requestID: 0, status: .resourceExhausted, message: "\(error); the connection is closed"), context: context)
        case .truncatedFrame:
            metrics.frameRefused(reason: "truncated")
            context.close(promise: nil)
        }
    }

    private func closeWith(_ response: ResponseEnvelope, context: ChannelHandlerContext) {
        let frame = (try? response.encodedFrame(allocator: context.channel.allocator)) ?? Framing.frame([], allocator: context.channel.allocator)
        context.writeAndFlush(Self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func write(_ response: ResponseEnvelope, context: ChannelHandlerContext) {
        var response = response
        let limit = server.configuration.maxMessageBytes
        if response.message.utf8.count > limit {
            // A message is for a person: a bounded one, cut at a character, saying that it was.
            var cut = response.message.utf8.prefix(limit)
            while !cut.isEmpty, String(cut) == nil { cut = cut.dropLast() }
            response.message = (String(cut) ?? "") + " … (cut at \(limit) bytes)"
        }
        let allocator = context.channel.allocator
        var frame: ByteBuffer
        do {
            frame = try response.encodedFrame(allocator: allocator)
        } catch {
            frame = Self.fallback(
                ResponseEnvelope(requestID: response.requestID, status: .internal, message: "reply could not be encoded"), allocator)
        }
        let size = frame.readableBytes - Framing.headerSize
        if size > server.configuration.maxFrameSize {
            frame = Self.fallback(
                ResponseEnvelope(
                    requestID: response.requestID, status: .resourceExhausted, message: "reply of \(size) bytes exceeds the maximum frame size"),
                allocator)
        }
        context.write(Self.wrapOutboundOut(frame), promise: nil)
        flushSoon(context: context)
    }

    /// A short status reply, which always encodes (its message is the runtime's own text).
    private static func fallback(_ response: ResponseEnvelope, _ allocator: ByteBufferAllocator) -> ByteBuffer {
        (try? response.encodedFrame(allocator: allocator)) ?? Framing.frame([], allocator: allocator)
    }

    /// Replies finished in the same turn of the event loop share one flush (one write system call).
    private func flushSoon(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushScheduled = false
            context.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
