// Unary calls over loopback with a 200-byte payload: a bare SwiftNIO length-prefixed echo (the
// limit) beside the suite's runtime (envelopes, HMAC authentication, method registry, metrics),
// alternating A B A B in the same run, at 1 connection x 1 in flight, 1 x 32 and 8 x 32.
// Usage: RPCBench [seconds-per-round] [rounds]
import HSBRuntime
import HSBWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

let secondsPerRound = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 3 : 3
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 3 : 3
/// `runtime` runs only the suite's runtime (for profiling); anything else runs both contenders.
let only = CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "both"
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
func startRuntimeServer() async throws -> RPCServer {
    let echo = MethodHandler(method: "hsb.bench.v1.Bench/Echo", policy: .agencies([.orchestrator])) { _, payload in payload }
    let dispatcher = Dispatcher(
        registry: MethodRegistry([echo]), authenticator: Authenticator(secrets: [.orchestrator: secret]),
        metrics: ServerMetrics(prefix: "bench"), logger: quiet)
    let server = RPCServer(configuration: RPCServerConfiguration(host: "127.0.0.1", port: 0), dispatcher: dispatcher, group: group, logger: quiet)
    try await server.start()
    return server
}

// MARK: load

struct Result {
    var requests: Int
    var seconds: Double
    var latencies: [UInt64]  // nanoseconds
    var rate: Double { Double(requests) / seconds }
    func percentile(_ p: Double) -> Double {
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        return Double(sorted[max(0, index)]) / 1000
    }
}

/// Runs `inFlight` loops per connection, each making calls back to back, for `seconds`.
func load(connections: Int, inFlight: Int, seconds: Double, call: @escaping @Sendable (Int) async throws -> Void) async throws -> Result {
    let stop = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    let started = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { tasks in
        for connection in 0..<connections {
            for _ in 0..<inFlight {
                tasks.addTask {
                    var samples: [UInt64] = []
                    samples.reserveCapacity(100_000)
                    while ContinuousClock.now < stop {
                        let t0 = ContinuousClock.now
                        try await call(connection)
                        let elapsed = ContinuousClock.now - t0
                        samples.append(UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                    }
                    return samples
                }
            }
        }
        var all: [UInt64] = []
        for try await samples in tasks { all += samples }
        return all
    }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Result(requests: latencies.count, seconds: seconds, latencies: latencies)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

let echoServer = try await startEchoServer()
let runtimeServer = try await startRuntimeServer()
let echoPort = echoServer.localAddress!.port!
let runtimePort = runtimeServer.localAddress!.port!

print("| configuration | contender | requests/s (median of \(rounds)) | p50 µs | p99 µs | p99.9 µs | vs bare echo |")
print("|---|---|---:|---:|---:|---:|---:|")
for (connections, inFlight) in [(1, 1), (1, 32), (8, 32)] {
    let echoes = try await (0..<connections).asyncMap { _ in try await connectEcho(port: echoPort) }
    let clients = (0..<connections).map { _ in
        RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: runtimePort, retry: .none),
            signer: RequestSigner(agency: .orchestrator, secret: secret), group: group)
    }
    var echoResults: [Result] = []
    var runtimeResults: [Result] = []
    // Warm up both, then alternate A B A B.
    _ = try await load(connections: connections, inFlight: inFlight, seconds: 0.5) { try await echoes[$0].call(payload) }
    _ = try await load(connections: connections, inFlight: inFlight, seconds: 0.5) {
        _ = try await clients[$0].call("hsb.bench.v1.Bench/Echo", payload: payload)
    }
    for _ in 0..<rounds {
        if only != "runtime" {
            echoResults.append(
                try await load(connections: connections, inFlight: inFlight, seconds: secondsPerRound) { try await echoes[$0].call(payload) })
        }
        runtimeResults.append(
            try await load(connections: connections, inFlight: inFlight, seconds: secondsPerRound) {
                _ = try await clients[$0].call("hsb.bench.v1.Bench/Echo", payload: payload)
            })
    }
    let echoRate = echoResults.isEmpty ? 1 : median(echoResults.map(\.rate))
    let runtimeRate = median(runtimeResults.map(\.rate))
    let label = "\(connections) x \(inFlight)"
    for (name, results, rate) in [("bare NIO echo", echoResults, echoRate), ("suite runtime", runtimeResults, runtimeRate)] {
        let p50 = median(results.map { $0.percentile(0.50) })
        let p99 = median(results.map { $0.percentile(0.99) })
        let p999 = median(results.map { $0.percentile(0.999) })
        let ratio = rate / echoRate
        print("| \(label) | \(name) | \(Int(rate)) | \(Int(p50)) | \(Int(p99)) | \(Int(p999)) | \(String(format2: ratio)) |")
    }
    for echo in echoes { try? await echo.channel.close().get() }
    for client in clients { await client.close() }
}
try await echoServer.close().get()
await runtimeServer.drain()

extension String {
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        self = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)x"
    }
}

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for value in self { out.append(try await transform(value)) }
        return out
    }
}
