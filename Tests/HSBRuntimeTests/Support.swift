import Foundation
import HSBRuntime
import HSBServiceKit
import HSBWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Secrets made by the tests themselves: one per calling agency under test.
enum TestSecrets {
    static let orchestrator = AgencySecret.random()
    static let education = AgencySecret.random()
    static let all: [Agency: AgencySecret] = [.orchestrator: orchestrator, .education: education]
}

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A clock a test can set.
final class TestClock: WallClock {
    let offset = Atomic<Int64>(0)
    func nowUnixMillis() -> Int64 { SystemWallClock().nowUnixMillis() + offset.load(ordering: .relaxed) }
}

/// A real service host on port 0 with a fresh data folder, removed when the test ends.
struct TestHost {
    let host: ServiceHost
    let dataDir: String

    var rpcPort: Int { host.rpc.localAddress!.port! }
    var opsPort: Int { host.ops.localAddress!.port! }

    static func start(
        handlers: [MethodHandler] = [], maxConnections: Int = 64, idleTimeoutSeconds: Int = 300, frameTimeoutSeconds: Int = 30,
        drainTimeoutSeconds: Int = 5,
        maxFrameBytes: Int = Framing.defaultMaxFrameSize, maxConnectionsPerPeer: Int = 256, maxBufferedBytes: Int = 128 * 1024 * 1024,
        dataDir reuse: String? = nil, clock: any WallClock = SystemWallClock(), port: Int = 0, tls: TLSMaterial? = nil,
        opsTokenFile: String? = nil, opsTLS: (certificate: String, key: String)? = nil, readinessInterval: Duration = .seconds(30)
    ) async throws -> TestHost {
        let dataDir = reuse ?? FileManager.default.temporaryDirectory.appendingPathComponent("hsb-test-\(UUID().uuidString)").path
        var options = ResolvedServiceOptions(
            port: port, dataDir: dataDir, maxFrameBytes: maxFrameBytes, maxConnections: maxConnections, maxConnectionsPerPeer: maxConnectionsPerPeer,
            maxBufferedBytes: maxBufferedBytes, idleTimeoutSeconds: idleTimeoutSeconds, frameTimeoutSeconds: frameTimeoutSeconds,
            drainTimeoutSeconds: drainTimeoutSeconds)
        options.opsTokenFile = opsTokenFile
        options.opsTLSCertificate = opsTLS?.certificate
        options.opsTLSKey = opsTLS?.key
        let host = try ServiceHost(
            descriptor: .intake, options: options, handlers: { _ in handlers }, secrets: tls == nil ? TestSecrets.all : [:], tls: tls, clock: clock,
            readinessInterval: readinessInterval,
            group: MultiThreadedEventLoopGroup.singleton, logger: quietLogger)
        try await host.start()
        return TestHost(host: host, dataDir: dataDir)
    }

    func client(
        as agency: Agency? = .orchestrator, secret: AgencySecret? = nil, clock: any WallClock = SystemWallClock(), retry: RetryPolicy = .none
    ) -> RPCClient {
        let signer = agency.map { agency in
            RequestSigner(agency: agency, secret: secret ?? TestSecrets.all[agency] ?? AgencySecret.random(), user: "tester", clock: clock)
        }
        return RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: rpcPort, retry: retry),
            signer: signer, group: MultiThreadedEventLoopGroup.singleton)
    }

    func stop() async {
        await host.shutdown()
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    /// Stops the service and keeps its data folder, to start it again on it.
    func stopKeepingData() async {
        await host.shutdown()
    }
}

/// Runs blocking work on a thread outside Swift's cooperative pool, which has only as many
/// threads as cores: a test blocking there would starve the server it is testing.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}

/// A blocking TCP connection for sending exact bytes and reading exactly what comes back.
/// Tests call its `async` forms, which block a thread of their own.
final class RawConnection: @unchecked Sendable {
    static func open(port: Int, receiveTimeoutSeconds: Int = 5) async throws -> RawConnection {
        try await offload { try RawConnection(port: port, receiveTimeoutSeconds: receiveTimeoutSeconds) }
    }

    func response() async throws -> ResponseEnvelope? {
        try await offload { try self.readResponse() }
    }

    func closedByPeer() async -> Bool {
        (try? await offload { self.peerClosed() }) ?? false
    }

    let fd: Int32

    init(port: Int, receiveTimeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // On failure the socket is closed by deinit (which runs for a class whose init throws once
        // every stored property is set); closing it here as well would close whatever reused the number.
        guard rc == 0 else { throw RPCError(.unavailable, "connect failed: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    func sendFrame(_ body: [UInt8]) {
        let count = UInt32(body.count)
        send([UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + body)
    }

    func send(_ request: RequestEnvelope) throws {
        sendFrame(try request.encoded())
    }

    func finishWriting() { shutdown(fd, Int32(SHUT_WR)) }

    /// Exactly `count` bytes, or nil when the peer closes (or the read times out) first.
    func read(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }

    func readResponse() throws -> ResponseEnvelope? {
        guard let header = read(4) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard let body = read(length) else { return nil }
        return try ResponseEnvelope(decoding: body)
    }

    /// True when the peer closes the connection before the receive timeout. A close that races
    /// bytes still arriving is a reset (ECONNRESET), which counts as closed; a timeout does not.
    func peerClosed() -> Bool {
        var byte: UInt8 = 0
        let received = recv(fd, &byte, 1, 0)
        return received == 0 || (received < 0 && errno == ECONNRESET)
    }

    /// Everything until the peer closes.
    func readToEnd() -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out += chunk[0..<n]
        }
    }
}

/// A minimal HTTP/1.1 GET (or another method) against the ops port.
func http(_ method: String = "GET", port: Int, path: String, headers: [String] = []) async throws -> (status: Int, body: String) {
    try await offload { try blockingHTTP(method, port: port, path: path, headers: headers) }
}

private func blockingHTTP(_ method: String, port: Int, path: String, headers: [String]) throws -> (status: Int, body: String) {
    let connection = try RawConnection(port: port)
    let extra = headers.map { $0 + "\r\n" }.joined()
    connection.send(Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)Connection: close\r\n\r\n".utf8))
    let text = String(decoding: connection.readToEnd(), as: UTF8.self)
    let statusLine = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
    let parts = statusLine.split(separator: " ")
    let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}

/// Signs `request` as `agency` with `secret` at the current time.
func signed(_ request: RequestEnvelope, as agency: Agency = .orchestrator, secret: AgencySecret = TestSecrets.orchestrator) -> RequestEnvelope {
    var copy = request
    RequestSigner(agency: agency, secret: secret).sign(&copy)
    return copy
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

extension UInt32 {
    var bytes: [UInt8] { [UInt8(self >> 24), UInt8((self >> 16) & 0xff), UInt8((self >> 8) & 0xff), UInt8(self & 0xff)] }
}
