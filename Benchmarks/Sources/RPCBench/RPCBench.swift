// Unary calls over loopback with a 200-byte payload: a bare SwiftNIO length-prefixed echo (the
// limit), the suite's runtime (envelopes, HMAC authentication, method registry, metrics) and
// grpc-swift-2 over its HTTP/2 NIO transport with swift-protobuf messages; then the same three
// over mutual TLS 1.3 (the suite's runtime as deployed: the agency from the client certificate,
// no per-request HMAC), all alternating A B C A B C in the same run, at 1 connection x 1 in
// flight, 1 x 32 and 8 x 32. Latencies in HdrHistogram.
// Usage: RPCBench [seconds-per-round] [rounds] [echo|runtime|grpc|typed|byhand|echo-tls|runtime-tls|grpc-tls]   (one alone, for profiling)
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
import NIOSSL
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

func startEchoServer(tls: NIOSSLContext? = nil) async throws -> any Channel {
    try await ServerBootstrap(group: group)
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(EchoHandler())
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
}

func connectEcho(port: Int, tls: NIOSSLContext? = nil) async throws -> EchoConnection {
    try await ClientBootstrap(group: group)
        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
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

func startRuntimeServer(tls: TLSMaterial? = nil) async throws -> RPCServer {
    let echo = MethodHandler(method: "hsb.bench.v1.Bench/Echo", policy: .agencies([.orchestrator])) { _, payload in payload }
    let typed = MethodHandler.authenticated(typedEcho, policy: .agencies([.orchestrator])) { _, request in request }
    // The pattern the typed layer replaced: a raw handler that decodes and encodes by hand.
    let byHand = MethodHandler(method: "hsb.bench.v1.Bench/ByHand", policy: .agencies([.orchestrator])) { context, payload in
        _ = try context.requireCaller()
        return try HealthCheckRequest(decoding: payload).encoded()
    }
    let dispatcher = Dispatcher(
        registry: MethodRegistry([echo, typed, byHand]), authenticator: Authenticator(secrets: tls == nil ? [.orchestrator: secret] : [:]),
        metrics: ServerMetrics(prefix: "bench"), logger: quiet)
    let server = RPCServer(
        configuration: RPCServerConfiguration(host: "127.0.0.1", port: 0), dispatcher: dispatcher, group: group, logger: quiet, tls: tls)
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

// MARK: mutual TLS: a throwaway partnership CA, a certificate for the servers and one for the clients

let pkiFolder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-bench-pki-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: pkiFolder, withIntermediateDirectories: true)
let benchCA = try PartnershipPKI.makeCA(name: "Bench")
try benchCA.certificatePEM.write(toFile: "\(pkiFolder)/ca.pem", atomically: true, encoding: .utf8)
func issueFiles(_ agency: Agency) throws -> TLSFiles {
    let issued = try PartnershipPKI.issue(agency: agency, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], by: benchCA)
    try issued.certificatePEM.write(toFile: "\(pkiFolder)/\(agency.name).pem", atomically: true, encoding: .utf8)
    try issued.keyPEM.write(toFile: "\(pkiFolder)/\(agency.name)-key.pem", atomically: true, encoding: .utf8)
    return TLSFiles(certificate: "\(pkiFolder)/\(agency.name).pem", key: "\(pkiFolder)/\(agency.name)-key.pem", trustedCAs: "\(pkiFolder)/ca.pem")
}
let serverFiles = try issueFiles(.socialCare)
let clientFiles = try issueFiles(.orchestrator)
let serverTLS = try TLSMaterial(files: serverFiles)
let clientTLS = try TLSMaterial(files: clientFiles)
/// The echo's contexts: the same mutual TLS 1.3 as the suite's, with nothing after the handshake.
func echoContext(_ files: TLSFiles, server: Bool) throws -> NIOSSLContext {
    let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
    let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))
    let trust = NIOSSLTrustRoots.certificates(try NIOSSLCertificate.fromPEMFile(files.trustedCAs))
    var configuration: TLSConfiguration
    if server {
        configuration = .makeServerConfigurationWithMTLS(certificateChain: chain, privateKey: key, trustRoots: trust)
    } else {
        configuration = .makeClientConfiguration()
        configuration.certificateChain = chain
        configuration.privateKey = key
        configuration.trustRoots = trust
    }
    configuration.minimumTLSVersion = .tlsv13
    return try NIOSSLContext(configuration: configuration)
}

let echoServer = try await startEchoServer()
let runtimeServer = try await startRuntimeServer()
let echoPort = echoServer.localAddress!.port!
let runtimePort = runtimeServer.localAddress!.port!
let echoTLSServer = try await startEchoServer(tls: try echoContext(serverFiles, server: true))
let echoTLSPort = echoTLSServer.localAddress!.port!
let echoClientContext = try echoContext(clientFiles, server: false)
let runtimeTLSServer = try await startRuntimeServer(tls: serverTLS)
let runtimeTLSPort = runtimeTLSServer.localAddress!.port!
let grpcServer = GRPCServer(
    transport: HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
    services: [GRPCEchoService()])
let grpcServing = Task { try await grpcServer.serve() }
guard let grpcPort = try await grpcServer.listeningAddress?.ipv4?.port else { fatalError("the gRPC server did not start") }
let grpcTrust = TLSConfig.TrustRootsSource.certificates([.file(path: serverFiles.trustedCAs, format: .pem)])
let grpcTLSServer = GRPCServer(
    transport: HTTP2ServerTransport.Posix(
        address: .ipv4(host: "127.0.0.1", port: 0),
        transportSecurity: .mTLS(
            certificateChain: [.file(path: serverFiles.certificate, format: .pem)], privateKey: .file(path: serverFiles.key, format: .pem)
        ) { $0.trustRoots = grpcTrust }),
    services: [GRPCEchoService()])
let grpcTLSServing = Task { try await grpcTLSServer.serve() }
guard let grpcTLSPort = try await grpcTLSServer.listeningAddress?.ipv4?.port else { fatalError("the gRPC TLS server did not start") }
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
    let echoesTLS = try await (0..<connections).asyncMap { _ in try await connectEcho(port: echoTLSPort, tls: echoClientContext) }
    let clientsTLS = (0..<connections).map { _ in
        RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: runtimeTLSPort, retry: .none, tls: clientTLS),
            signer: RequestSigner(agency: .orchestrator), group: group)
    }
    let grpcTLSClients = try (0..<connections).map { _ in
        GRPCClient(
            transport: try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: grpcTLSPort),
                transportSecurity: .mTLS(
                    certificateChain: [.file(path: clientFiles.certificate, format: .pem)], privateKey: .file(path: clientFiles.key, format: .pem)
                ) { $0.trustRoots = grpcTrust }))
    }
    let grpcRunning = (grpcClients + grpcTLSClients).map { client in Task { try await client.runConnections() } }
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
        ("echo-tls", "bare NIO echo over mTLS", { @Sendable in try await echoesTLS[$0 % connections].call(payload) }),
        (
            "runtime-tls", "suite runtime over mTLS",
            { @Sendable in _ = try await clientsTLS[$0 % connections].call("hsb.bench.v1.Bench/Echo", payload: payload) }
        ),
        ("grpc-tls", "grpc-swift-2 over mTLS", { @Sendable in try await grpcCall(grpcTLSClients[$0 % connections], echoMessage) }),
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
    if contenders.count == 8 {
        summary.append(
            "- \(connections) x \(inFlight) over mTLS: runtime/echo requests/s \(ratio(results[6].rate / results[5].rate)) (target at least 0.70x), runtime/grpc-swift-2 requests/s \(ratio(results[6].rate / results[7].rate)) (target at least 10x), runtime over mTLS/runtime with HMAC in plaintext \(ratio(results[6].rate / results[1].rate)), CPU µs a request over mTLS/plaintext \(ratio(results[6].cpuMicrosPerOperation / results[1].cpuMicrosPerOperation))"
        )
        summary.append(
            "- \(connections) x \(inFlight): runtime/echo requests/s \(ratio(results[1].rate / echoRate)) (target 0.80x), runtime/echo p99 \(ratio(results[1].micros(99) / echoP99)) (target at most 1.25x), runtime/grpc-swift-2 requests/s \(ratio(results[1].rate / results[2].rate)), typed/raw runtime requests/s \(ratio(results[3].rate / results[1].rate)), typed/decoded-by-hand requests/s \(ratio(results[3].rate / results[4].rate)) (target 1.00x: the typed layer itself)"
        )
    }
    for echo in echoes + echoesTLS { try? await echo.channel.close().get() }
    for client in clients + clientsTLS { await client.close() }
    for client in grpcClients + grpcTLSClients { client.beginGracefulShutdown() }
    for running in grpcRunning { _ = try? await running.value }
}
print("")
for line in summary { print(line) }
try await echoServer.close().get()
try await echoTLSServer.close().get()
await runtimeServer.drain()
await runtimeTLSServer.drain()
grpcServer.beginGracefulShutdown()
grpcTLSServer.beginGracefulShutdown()
_ = try? await grpcServing.value
_ = try? await grpcTLSServing.value
try? FileManager.default.removeItem(atPath: pkiFolder)

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for value in self { out.append(try await transform(value)) }
        return out
    }
}
