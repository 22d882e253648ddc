public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import NIOSSL
public import ServiceLifecycle
import Synchronization

/// The ops port: `GET /healthz` (alive, always open), `GET /readyz` (ready, with each check and the
/// result's age) and `GET /metrics` (Prometheus text). When a token is set, `/metrics` needs
/// `Authorization: Bearer <token>` and `/readyz` without it gives only its verdict (200 or 503 and
/// `{"ready":...}`), which is all a probe needs. Plain HTTP, or HTTPS when given a context. Nothing it serves names a path
/// or an address.
public final class OpsServer: Service, Sendable {
    public let host: String
    public let port: Int
    private let metrics: ServerMetrics
    private let probe: any ReadinessProbe
    private let group: any EventLoopGroup
    private let logger: Logger
    private let channel = Mutex<(any Channel)?>(nil)
    /// Connections the ops port serves at once; more are closed at once, so scrapers and probes
    /// can never use up the process's file descriptors that the RPC port needs.
    public let maxConnections: Int
    /// A connection that has sent nothing for this long is closed.
    public let idleTimeout: TimeAmount
    private let open = Atomic<Int>(0)
    /// The bearer token /readyz and /metrics require; nil leaves them open.
    private let token: String?
    private let tls: NIOSSLContext?

    public init(
        host: String, port: Int, metrics: ServerMetrics, probe: any ReadinessProbe, group: any EventLoopGroup, logger: Logger,
        maxConnections: Int = 64, idleTimeout: TimeAmount = .seconds(30), token: String? = nil, tls: NIOSSLContext? = nil
    ) {
        self.token = token
        self.tls = tls
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.host = host
        self.port = port
        self.metrics = metrics
        self.probe = probe
        self.group = group
        self.logger = logger
    }

    public var localAddress: SocketAddress? { channel.withLock { $0?.localAddress } }

    @discardableResult
    public func start() async throws -> SocketAddress {
        if let address = localAddress { return address }
        let metrics = self.metrics
        let probe = self.probe
        let opened: () async throws -> any Channel = { [self] in
            try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let count = self.open.wrappingAdd(1, ordering: .relaxed).newValue
                        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
                        guard count <= self.maxConnections else {
                            metrics.connectionRefused()
                            channel.close(promise: nil)
                            return
                        }
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: self.idleTimeout))
                        if let tls = self.tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(OpsHTTPHandler(metrics: metrics, probe: probe, token: self.token))
                    }
                }
                .bind(host: host, port: port)
                .get()
        }
        let bound: any Channel
        do {
            bound = try await opened()
        } catch {
            throw BindFailure.from(error, what: "ops", host: host, port: port, setting: "--ops-port (HSB_OPS_PORT)")
        }
        channel.withLock { $0 = bound }
        logger.info(
            "ops HTTP listening",
            metadata: [
                "address": "\(bound.localAddress.map { "\($0)" } ?? "?")", "https": "\(tls != nil)", "token_required": "\(token != nil)",
            ])
        return bound.localAddress!
    }

    public func stop() async {
        let current = channel.withLock { $0 }
        try? await current?.close()
    }

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }
}

final class OpsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: ServerMetrics
    private let probe: any ReadinessProbe
    private let expected: [UInt8]?
    private var head: HTTPRequestHead?

    init(metrics: ServerMetrics, probe: any ReadinessProbe, token: String?) {
        self.metrics = metrics
        self.probe = probe
        self.expected = token.map { Array("Bearer \($0)".utf8) }
    }

    /// Whether the request carries the token (compared in constant time); true when none is set.
    private func authorised(_ head: HTTPRequestHead) -> Bool {
        guard let expected else { return true }
        let given = Array((head.headers.first(name: "Authorization") ?? "").utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices { difference |= expected[index] ^ (index < given.count ? given[index] : 0) }
        return difference == 0
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            route(head, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            respond(context, head, .methodNotAllowed, "only GET is served on the ops port\n")
            return
        }
        if path == "/metrics", !authorised(head) {
            respond(
                context, head, .unauthorized, "\(path) needs the ops bearer token (Authorization: Bearer ...)\n",
                extraHeaders: [("WWW-Authenticate", "Bearer")])
            return
        }
        switch path {
        case "/healthz":
            respond(context, head, .ok, "ok\n")
        case "/metrics":
            respond(context, head, .ok, metrics.prometheusText(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/readyz":
            let probe = self.probe
            let age = (probe as? BackgroundReadiness)?.ageMillis
            // Without the token (a kubelet's probe cannot send one) only the verdict: 200 or 503.
            let detailed = authorised(head)
            context.eventLoop.makeFutureWithTask { await probe.check() }.assumeIsolated().whenSuccess { checks in
                let body = detailed ? Self.readinessJSON(checks, ageMillis: age) : "{\"ready\":\(checks.allOK)}\n"
                self.respond(context, head, checks.allOK ? .ok : .serviceUnavailable, body, contentType: "application/json")
            }
        default:
            respond(context, head, .notFound, "no such ops path \(path); try /healthz, /readyz or /metrics\n")
        }
    }

    /// Names, outcomes and plain details only: a check's cause (paths, hosts, errors) is logged, not served.
    static func readinessJSON(_ checks: [ReadinessCheck], ageMillis: Int64?) -> String {
        let quote = JSONLogHandler.quote
        let items = checks.map { "{\"name\":\(quote($0.name)),\"ok\":\($0.ok),\"detail\":\(quote($0.detail))}" }
        let age = ageMillis.map { ",\"age_ms\":\($0)" } ?? ""
        return "{\"ready\":\(checks.allOK),\"checks\":[\(items.joined(separator: ","))]\(age)}\n"
    }

    private func respond(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: String,
        contentType: String = "text/plain; charset=utf-8", extraHeaders: [(String, String)] = []
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders(extraHeaders)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        let head = HTTPResponseHead(version: request.version, status: status, headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
            buffer.writeString(body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let keepAlive = request.isKeepAlive
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
