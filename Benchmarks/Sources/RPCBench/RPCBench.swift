// Unary calls over loopback with a 200-byte payload: a bare SwiftNIO length-prefixed echo (the
// limit), the suite's runtime (envelopes, HMAC authentication, method registry, metrics) and
// grpc-swift-2 over its HTTP/2 NIO transport with swift-protobuf messages, alternating A B C A B C
// in the same run, at 1 connection x 1 in flight, 1 x 32 and 8 x 32. Latencies in HdrHistogram.
// Usage: RPCBench [seconds-per-round] [rounds] [echo|runtime|grpc]   (one contender alone, for profiling)
import BenchSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import HSBRuntime
import HSBWire
import Logging
import NIOCore
import NIOPosix
import SwiftProtobufMessages
import Synchronization

let secondsPerRound = argument(1, default: 3)
let rounds = Int(argument(2, default: 3))
/// `echo`, `runtime` or `grpc` runs that contender alone (for profiling); by default all three run.
let only = CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "all"
let payload = [UInt8](repeating: 0x5A, count: 200)
let group = MultiThreadedEventLoopGroup.singleton
let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

// MARK: bare echo

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let body = Self.unwrapInboundIn(data)
        var out = context.channel.allocator.buffer(capacity: body.readableBytes + 4)
        out.writeInteger(UInt32(body.readableBytes))
        out.writeImmutableBuffer(body)
        context.write(Self.wrapOutboundOut(out), promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

/// Replies from an echo come back in order, so a FIFO of promises matches them.
final class EchoClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var waiting: CircularBuffer<EventLoopPromise<ByteBuffer>> = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        waiting.removeFirst().succeed(Self.unwrapInboundIn(data))
    }
}

struct EchoConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<EchoClientHandler>

    func call(_ body: [UInt8]) async throws {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let frame = Framing.frame(body, allocator: channel.allocator)
        let handler = self.handler
        let channel = self.channel
        channel.eventLoop.execute {
            handler.value.waiting.append(promise)
            channel.writeAndFlush(frame, promise: nil)
        }
        _ = try await promise.futureResult.get()
    }
}

func startEchoServer() async throws -> any Channel {
    try await ServerBootstrap(group: group)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(EchoHandler())
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
}

func connectEcho(port: Int) async throws -> EchoConnection {
    try await ClientBootstrap(group: group)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(EchoClientHandler())
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .flatMapThrowing { channel in
            EchoConnection(
                channel: channel,
                handler: NIOLoopBound(try channel.pipeline.syncOperations.handler(type: EchoClientHandler.self), eventLoop: channel.eventLoop))
        }.get()
}

// MARK: the suite's runtime

let secret = AgencySecret.random()
/// The same echo through the typed layer: a generated-style descriptor, a decoded request, the
/// proven caller as a value, an encoded reply (what every service method pays over a raw handler).
let typedEcho = HSBWire.MethodDescriptor<HealthCheckRequest, HealthCheckRequest>(service: "hsb.bench.v1.Bench", method: "TypedEcho")

func startRuntimeServer() async throws -> RPCServer {
    let echo = MethodHandler(method: "hsb.bench.v1.Bench/Echo", policy: .agencies([.orchestrator])) { _, payload in payload }
    let typed = MethodHandler.authenticated(typedEcho, policy: .agencies([.orchestrator])) { _, request in request }
    // The pattern the typed layer replaced: a raw handler that decodes and encodes by hand.
    let byHand = MethodHandler(method: "hsb.bench.v1.Bench/ByHand", policy: .agencies([.orchestrator])) { context, payload in
        _ = try context.requireCaller()
        return try HealthCheckRequest(decoding: payload).encoded()
    }
    let dispatcher = Dispatcher(
        registry: MethodRegistry([echo, typed, byHand]), authenticator: Authenticator(secrets: [.orchestrator: secret]),
        metrics: ServerMetrics(prefix: "bench"), logger: quiet)
    let server = RPCServer(configuration: RPCServerConfiguration(host: "127.0.0.1", port: 0), dispatcher: dispatcher, group: group, logger: quiet)
    try await server.start()
    return server
}

// MARK: grpc-swift-2

let grpcEcho = MethodDescriptor(fullyQualifiedService: "hsb.bench.v1.Bench", method: "Echo")

struct GRPCEchoService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: grpcEcho, deserializer: ProtobufDeserializer<Hsb_Bench_V1_EchoMessage>(),
            serializer: ProtobufSerializer<Hsb_Bench_V1_EchoMessage>()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: single.message))
        }
    }
}

func grpcCall(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ message: Hsb_Bench_V1_EchoMessage) async throws {
    _ = try await client.unary(
        request: ClientRequest(message: message), descriptor: grpcEcho, serializer: ProtobufSerializer<Hsb_Bench_V1_EchoMessage>(),
        deserializer: ProtobufDeserializer<Hsb_Bench_V1_EchoMessage>(), options: .defaults
    ) { response in try response.message }
}

let echoServer = try await startEchoServer()
let runtimeServer = try await startRuntimeServer()
let echoPort = echoServer.localAddress!.port!
let runtimePort = runtimeServer.localAddress!.port!
let grpcServer = GRPCServer(
    transport: HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
    services: [GRPCEchoService()])
let grpcServing = Task { try await grpcServer.serve() }
guard let grpcPort = try await grpcServer.listeningAddress?.ipv4?.port else { fatalError("the gRPC server did not start") }
var grpcMessage = Hsb_Bench_V1_EchoMessage()
grpcMessage.payload = Data(payload)
let echoMessage = grpcMessage
let typedMessage = HealthCheckRequest(service: String(repeating: "x", count: payload.count))

print("| configuration | contender | requests/s (median of \(rounds)) | p50 µs | p99 µs | p99.9 µs | vs bare echo | CPU µs per request |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
var summary: [String] = []
for (connections, inFlight) in [(1, 1), (1, 32), (8, 32)] {
    let echoes = try await (0..<connections).asyncMap { _ in try await connectEcho(port: echoPort) }
    let clients = (0..<connections).map { _ in
        RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: runtimePort, retry: .none),
            signer: RequestSigner(agency: .orchestrator, secret: secret), group: group)
    }
    let grpcClients = try (0..<connections).map { _ in
        GRPCClient(transport: try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext))
    }
    let grpcRunning = grpcClients.map { client in Task { try await client.runConnections() } }
    let workers = connections * inFlight
    let all: [(key: String, name: String, call: @Sendable (Int) async throws -> Void)] = [
        ("echo", "bare NIO echo", { @Sendable in try await echoes[$0 % connections].call(payload) }),
        ("runtime", "suite runtime", { @Sendable in _ = try await clients[$0 % connections].call("hsb.bench.v1.Bench/Echo", payload: payload) }),
        ("grpc", "grpc-swift-2", { @Sendable in try await grpcCall(grpcClients[$0 % connections], echoMessage) }),
        ("typed", "suite runtime, typed", { @Sendable in _ = try await clients[$0 % connections].call(typedEcho, typedMessage) }),
        (
            "byhand", "suite runtime, decoded by hand",
            { @Sendable in
                let reply = try await clients[$0 % connections].call("hsb.bench.v1.Bench/ByHand", payload: try typedMessage.encoded())
                _ = try HealthCheckRequest(decoding: reply)
            }
        ),
    ]
    let contenders = all.filter { only == "all" || $0.key == only }
    var results = [Rounds](repeating: Rounds(), count: contenders.count)
    // Warm up each, then alternate A B C A B C.
    for contender in contenders { _ = try await load(workers: workers, seconds: 0.5, call: contender.call) }
    for _ in 0..<rounds {
        for (index, contender) in contenders.enumerated() {
            results[index].results.append(try await load(workers: workers, seconds: secondsPerRound, call: contender.call))
        }
    }
    let echoRate = contenders.first?.name == "bare NIO echo" ? results[0].rate : 1
    let echoP99 = contenders.first?.name == "bare NIO echo" ? results[0].micros(99) : 1
    for (index, contender) in contenders.enumerated() {
        let rounds = results[index]
        print(
            "| \(connections) x \(inFlight) | \(contender.name) | \(grouped(rounds.rate)) | \(oneDecimal(rounds.micros(50))) | \(oneDecimal(rounds.micros(99))) | \(oneDecimal(rounds.micros(99.9))) | \(ratio(rounds.rate / echoRate)) | \(oneDecimal(rounds.cpuMicrosPerOperation)) |"
        )
    }
    if contenders.count == 5 {
        summary.append(
            "- \(connections) x \(inFlight): runtime/echo requests/s \(ratio(results[1].rate / echoRate)) (target 0.80x), runtime/echo p99 \(ratio(results[1].micros(99) / echoP99)) (target at most 1.25x), runtime/grpc-swift-2 requests/s \(ratio(results[1].rate / results[2].rate)), typed/raw runtime requests/s \(ratio(results[3].rate / results[1].rate)), typed/decoded-by-hand requests/s \(ratio(results[3].rate / results[4].rate)) (target 1.00x: the typed layer itself)"
        )
    }
    for echo in echoes { try? await echo.channel.close().get() }
    for client in clients { await client.close() }
    for client in grpcClients { client.beginGracefulShutdown() }
    for running in grpcRunning { _ = try? await running.value }
}
print("")
for line in summary { print(line) }
try await echoServer.close().get()
await runtimeServer.drain()
grpcServer.beginGracefulShutdown()
_ = try? await grpcServing.value

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for value in self { out.append(try await transform(value)) }
        return out
    }
}
