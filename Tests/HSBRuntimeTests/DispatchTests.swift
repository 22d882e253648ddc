import Foundation
import HSBRuntime
import HSBServiceTesting
import HSBWire
import NIOPosix
import Synchronization
import Testing

let echo = MethodHandler(method: "test.v1.Echo/Echo", policy: .agencies([.orchestrator])) { _, payload in payload }
let decide = MethodHandler.unary("test.v1.Echo/Decide", policy: .anyAuthenticated) { (_: RequestContext, decision: Decision) in decision }

@Suite("Requests over loopback: dispatch, bad input, deadlines, concurrency", .timeLimit(.minutes(2)))
struct DispatchTests {
    @Test func aKnownMethodAnswersAndAnUnknownOneIsUnimplemented() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client()
        #expect(try await client.call("test.v1.Echo/Echo", payload: [1, 2, 3]) == [1, 2, 3])
        await #expect(throws: RPCError(.unimplemented, "method test.v1.Echo/Nope is not served here")) {
            try await client.call("test.v1.Echo/Nope", payload: [])
        }
        await client.close()
        await server.stop()
    }

    @Test func anUndecodablePayloadIsInvalidArgumentNamingTheField() async throws {
        let server = try await TestHost.start(handlers: [decide])
        let client = server.client()
        // Decision.outcome (field 1) holding invalid UTF-8.
        await #expect(throws: RPCError(.invalidArgument, "request payload: hsb.common.v1.Decision.outcome is not valid UTF-8")) {
            try await client.call("test.v1.Echo/Decide", payload: [0x0A, 0x01, 0xFF])
        }
        await #expect(throws: RPCError(.invalidArgument, "request payload: missing required field: hsb.common.v1.Decision.outcome")) {
            try await client.call("test.v1.Echo/Decide", payload: [])
        }
        let decision = Decision(outcome: "early help", citations: [RuleCitation(ruleID: "SCR-05", source: "CAM 7")])
        #expect(try await client.call(MethodDescriptor<Decision, Decision>(service: "test.v1.Echo", method: "Decide"), decision) == decision)
        await client.close()
        await server.stop()
    }

    @Test func anUndecodableEnvelopeIsAnsweredAndTheConnectionStaysUsable() async throws {
        let server = try await TestHost.start()
        let raw = try await RawConnection.open(port: server.rpcPort)
        raw.sendFrame([0x12, 0x7F, 0x41])
        let reply = try #require(try await raw.response())
        #expect(reply.requestID == 0)
        #expect(reply.status == .invalidArgument)
        #expect(reply.message == "request envelope: 3 bytes are not a valid hsb.rpc.v1.Request (protobuf decoding failed)")
        try raw.send(RequestEnvelope(requestID: 5, method: HealthService.check.fullName, payload: try HealthCheckRequest().encoded()))
        let health = try #require(try await raw.response())
        #expect(health.requestID == 5 && health.status == .ok)
        #expect(server.host.metrics.framesRefusedCount(reason: "undecodable") == 1)
        await server.stop()
    }

    @Test func anOversizedLengthIsRefusedAndTheConnectionClosed() async throws {
        let server = try await TestHost.start(maxFrameBytes: 64 * 1024)
        let raw = try await RawConnection.open(port: server.rpcPort)
        raw.send(UInt32(0x7FFF_FFFF).bytes)
        let reply = try #require(try await raw.response())
        #expect(reply.status == .resourceExhausted)
        #expect(reply.message == "frame of 2147483647 bytes exceeds the maximum frame size of 65536 bytes; the connection is closed")
        #expect(await raw.closedByPeer())
        #expect(server.host.metrics.framesRefusedCount(reason: "too_large") == 1)
        await server.stop()
    }

    @Test func aTruncatedFrameIsCountedAndChangesNothing() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let raw = try await RawConnection.open(port: server.rpcPort)
        raw.send(UInt32(100).bytes + [1, 2, 3])
        raw.finishWriting()
        #expect(await raw.closedByPeer())
        #expect(await eventually { server.host.metrics.framesRefusedCount(reason: "truncated") == 1 })
        #expect(server.host.metrics.requestCount(method: "test.v1.Echo/Echo", status: .ok) == 0)
        await server.stop()
    }

    @Test func theServerEnforcesTheDeadlineAndAbandonsTheWork() async throws {
        let cancelled = Atomic<Bool>(false)
        let slow = MethodHandler(method: "test.v1.Slow/Wait", policy: .anyAuthenticated) { _, _ in
            do {
                try await Task.sleep(for: .seconds(10))
            } catch {
                cancelled.store(true, ordering: .sequentiallyConsistent)
                throw error
            }
            return []
        }
        let server = try await TestHost.start(handlers: [slow])
        let raw = try await RawConnection.open(port: server.rpcPort)
        try raw.send(signed(RequestEnvelope(requestID: 9, method: "test.v1.Slow/Wait", timeoutMillis: 100)))
        let reply = try #require(try await raw.response())
        #expect(reply.requestID == 9)
        #expect(reply.status == .deadlineExceeded)
        #expect(reply.message == "deadline of 100 ms exceeded; the work was abandoned")
        #expect(await eventually { cancelled.load(ordering: .sequentiallyConsistent) })
        #expect(await eventually { server.host.metrics.requestsInFlight == 0 })
        await server.stop()
    }

    @Test func theClientEnforcesItsDeadlineAgainstASilentServer() async throws {
        // A listener that accepts and never answers.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: port, retry: .none), signer: nil,
            group: MultiThreadedEventLoopGroup.singleton)
        // Without the client's deadline this call would wait for ever; the suite's time limit bounds it.
        await #expect(throws: RPCError(.deadlineExceeded, "no reply to test.v1.Echo/Echo before the deadline")) {
            try await client.call("test.v1.Echo/Echo", payload: [1], timeout: .milliseconds(200))
        }
        await client.close()
    }

    @Test(
        "A connection on which nothing came back before a call's deadline is not reused: the next call connects afresh (a cut link fails fast instead of swallowing every retry)"
    )
    func aSilentConnectionIsClosedAtTheDeadline() async throws {
        // A listener that never accepts: the kernel completes each connection and nothing is read or answered.
        let silent = try BoundPort()
        try silent.listenSilently()
        defer { silent.close() }
        let client = RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: silent.port, retry: .none), signer: nil,
            group: MultiThreadedEventLoopGroup.singleton)
        for _ in 0..<2 {
            await #expect(throws: RPCError(.deadlineExceeded, "no reply to test.v1.Echo/Echo before the deadline")) {
                try await client.call("test.v1.Echo/Echo", payload: [1], timeout: .milliseconds(150))
            }
        }
        // Each call had a connection of its own: both are waiting in the listener's queue.
        _ = fcntl(silent.descriptor, F_SETFL, fcntl(silent.descriptor, F_GETFL) | O_NONBLOCK)
        var connections = 0
        while case let accepted = accept(silent.descriptor, nil, nil), accepted >= 0 {
            connections += 1
            close(accepted)
        }
        #expect(connections == 2, "the second call reused the connection that had answered nothing")
        await client.close()
    }

    @Test func aThousandRequestsInFlightOnOneConnectionCompleteOutOfOrder() async throws {
        let arrivals = Mutex<[UInt32]>([])
        let completions = Mutex<[UInt32]>([])
        let work = MethodHandler(method: "test.v1.Work/Do", policy: .anyAuthenticated) { _, payload in
            let index = UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
            arrivals.withLock { $0.append(index) }
            // Earlier requests take longer, so later ones overtake them.
            try await Task.sleep(for: .milliseconds(Int(20 - index % 20)))
            completions.withLock { $0.append(index) }
            return payload + payload
        }
        let server = try await TestHost.start(handlers: [work])
        let client = server.client()
        let count: UInt32 = 1000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let payload = index.bytes
                    let reply = try await client.call("test.v1.Work/Do", payload: payload, timeout: .seconds(60))
                    #expect(reply == payload + payload, "request \(index) got another request's reply")
                }
            }
            try await group.waitForAll()
        }
        #expect(completions.withLock { $0.count } == Int(count))
        #expect(completions.withLock { $0 } != arrivals.withLock { $0 }, "replies should come back in completion order, not arrival order")
        #expect(server.host.metrics.openConnections == 1, "every call should share one connection")
        #expect(server.host.metrics.requestCount(method: "test.v1.Work/Do", status: .ok) == UInt64(count))
        await client.close()
        await server.stop()
    }

    @Test func aDuplicateRequestIDInFlightIsRefused() async throws {
        let gate = MethodHandler(method: "test.v1.Slow/Wait", policy: .anyAuthenticated) { _, _ in
            try await Task.sleep(for: .milliseconds(300))
            return [1]
        }
        let server = try await TestHost.start(handlers: [gate])
        let raw = try await RawConnection.open(port: server.rpcPort)
        try raw.send(signed(RequestEnvelope(requestID: 3, method: "test.v1.Slow/Wait")))
        try raw.send(signed(RequestEnvelope(requestID: 3, method: "test.v1.Slow/Wait", idempotencyKey: "other")))
        let first = try #require(try await raw.response())
        #expect(first.requestID == 3 && first.status == .invalidArgument)
        #expect(first.message == "request_id 3 is already in flight on this connection")
        let second = try #require(try await raw.response())
        #expect(second.requestID == 3 && second.status == .ok)
        await server.stop()
    }
}

@Suite("Request metrics")
struct RequestMetricsTests {
    @Test("A latency on a bucket's bound counts in that bucket; past the last bound only in +Inf; statuses by code; unknown methods share one series")
    func histogramBucketsAndStatuses() {
        let metrics = ServerMetrics(prefix: "t")
        let echo = metrics.series(for: "test.v1.Echo/Echo")
        #expect(metrics.series(for: "test.v1.Echo/Echo") === echo, "one series per method")
        metrics.requestStarted()
        metrics.requestFinished(echo, status: .ok, seconds: 0.0005)
        metrics.requestStarted()
        metrics.requestFinished(echo, status: .ok, seconds: 0.003)
        metrics.requestStarted()
        metrics.requestFinished(echo, status: .invalidArgument, seconds: 20)
        metrics.requestStarted()
        metrics.requestFinished(metrics.unknownMethod, status: .unimplemented, seconds: 0.001)
        let lines = Set(metrics.prometheusText().split(separator: "\n").map(String.init))
        for expected in [
            #"t_request_duration_seconds_bucket{method="test.v1.Echo/Echo",le="0.0005"} 1"#,
            #"t_request_duration_seconds_bucket{method="test.v1.Echo/Echo",le="0.0025"} 1"#,
            #"t_request_duration_seconds_bucket{method="test.v1.Echo/Echo",le="0.005"} 2"#,
            #"t_request_duration_seconds_bucket{method="test.v1.Echo/Echo",le="10.0"} 2"#,
            #"t_request_duration_seconds_bucket{method="test.v1.Echo/Echo",le="+Inf"} 3"#,
            #"t_request_duration_seconds_count{method="test.v1.Echo/Echo"} 3"#,
            #"t_requests_total{method="test.v1.Echo/Echo",code="OK"} 2"#,
            #"t_requests_total{method="test.v1.Echo/Echo",code="INVALID_ARGUMENT"} 1"#,
            #"t_requests_total{method="unknown",code="UNIMPLEMENTED"} 1"#,
            "t_requests_in_flight 0",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        #expect(metrics.requestCount(method: "test.v1.Echo/Echo", status: .ok) == 2)
    }
}
