import HSBRuntime
import HSBServiceKit
import HSBWire
import NIOPosix
import Synchronization
import Testing

@testable import HSBRuntime

@Suite("Authentication and access: each failure is named")
struct AuthenticationTests {
    @Test func anUnsignedRequestIsUnauthenticated() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client(as: nil)
        await #expect(throws: RPCError(.unauthenticated, "request test.v1.Echo/Echo carries no credential; sign it with your agency's secret")) {
            try await client.call("test.v1.Echo/Echo", payload: [1])
        }
        await client.close()
        await server.stop()
    }

    @Test func anAgencyWithoutARegisteredSecretIsUnauthenticated() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client(as: .police)
        await #expect(throws: RPCError(.unauthenticated, "agency police has no credential registered with this service")) {
            try await client.call("test.v1.Echo/Echo", payload: [1])
        }
        await client.close()
        await server.stop()
    }

    @Test func aWrongSecretIsUnauthenticated() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client(as: .orchestrator, secret: AgencySecret.random())
        await #expect(throws: RPCError(.unauthenticated, "signature does not match for agency orchestrator; check the shared secret")) {
            try await client.call("test.v1.Echo/Echo", payload: [1])
        }
        await client.close()
        await server.stop()
    }

    @Test func aTamperedPayloadIsUnauthenticated() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let raw = try await RawConnection.open(port: server.rpcPort)
        var request = signed(RequestEnvelope(requestID: 1, method: "test.v1.Echo/Echo", payload: [1, 2, 3]))
        request.payload = [1, 2, 4]
        try raw.send(request)
        let reply = try #require(try await raw.response())
        #expect(reply.status == .unauthenticated)
        #expect(reply.message == "signature does not match for agency orchestrator; check the shared secret")
        await server.stop()
    }

    @Test func aSignatureOutsideTheTimeWindowIsUnauthenticated() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let clock = TestClock()
        clock.offset.store(-1000 * 1000, ordering: .relaxed)
        let client = server.client(as: .orchestrator, clock: clock)
        do {
            _ = try await client.call("test.v1.Echo/Echo", payload: [1])
            Issue.record("a request signed 1000 s ago was accepted")
        } catch {
            #expect(error.code == .unauthenticated)
            #expect(error.message.hasPrefix("request signed -10"))
            #expect(error.message.hasSuffix("s from this service's clock; the window is 300s (check the caller's clock)"))
        }
        await client.close()
        await server.stop()
    }

    @Test func aReplayedRequestIsUnauthenticated() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let raw = try await RawConnection.open(port: server.rpcPort)
        let request = signed(RequestEnvelope(requestID: 1, method: "test.v1.Echo/Echo", payload: [7]))
        try raw.send(request)
        let first = try #require(try await raw.response())
        #expect(first.status == .ok && first.payload == [7])
        try raw.send(request)
        let second = try #require(try await raw.response())
        #expect(second.status == .unauthenticated)
        #expect(second.message == "request replayed: this signature was already used")
        await server.stop()
    }

    @Test func anAgencyThatMayNotCallTheMethodIsPermissionDenied() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client(as: .education)
        await #expect(throws: RPCError(.permissionDenied, "agency education may not call test.v1.Echo/Echo")) {
            try await client.call("test.v1.Echo/Echo", payload: [1])
        }
        await client.close()
        await server.stop()
    }

    @Test func aCredentialsFileErrorNamesTheLineAndTheReason() throws {
        let good = AgencySecret.random().hex
        let parsed = try CredentialsLoader.parse("# callers\norchestrator \(good)\n\nyouth-justice=\(good) # trailing comment\n", source: "creds")
        #expect(parsed[.orchestrator]?.hex == good && parsed[.youthJustice]?.hex == good)
        #expect(throws: ConfigurationError.self) { try CredentialsLoader.parse("orchestrator abc\n", source: "creds") }
        do {
            _ = try CredentialsLoader.parse("orchestrator \(good)\nprobation \(good)\n", source: "creds")
            Issue.record("an unknown agency was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.hasPrefix("creds line 2: unknown agency 'probation'"))
        }
        do {
            _ = try CredentialsLoader.parse("camhs \(good)\ncamhs \(good)\n", source: "creds")
            Issue.record("a duplicate agency was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description == "creds line 2: camhs is listed twice")
        }
    }
}

@Suite("Client retries")
struct RetryTests {
    @Test func unavailableIsRetriedWithTheSameIdempotencyKey() async throws {
        let keys = Mutex<[String]>([])
        let flaky = MethodHandler(method: "test.v1.Flaky/Do", policy: .anyAuthenticated) { context, _ in
            let attempt = keys.withLock {
                $0.append(context.idempotencyKey); return $0.count
            }
            if attempt < 3 { throw RPCError(.unavailable, "store busy") }
            return [UInt8(attempt)]
        }
        let server = try await TestHost.start(handlers: [flaky])
        let client = server.client(retry: RetryPolicy(maxAttempts: 5, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20)))
        #expect(try await client.call("test.v1.Flaky/Do", payload: [], idempotencyKey: "referral-123") == [3])
        #expect(keys.withLock { $0 } == ["referral-123", "referral-123", "referral-123"])
        await client.close()
        await server.stop()
    }

    @Test func otherFailuresAreNotRetried() async throws {
        let calls = Atomic<Int>(0)
        let refusing = MethodHandler(method: "test.v1.Refuse/Do", policy: .anyAuthenticated) { _, _ in
            calls.add(1, ordering: .relaxed)
            throw RPCError(.failedPrecondition, "record changed since you read it")
        }
        let server = try await TestHost.start(handlers: [refusing])
        let client = server.client(retry: RetryPolicy(maxAttempts: 5, initialBackoff: .milliseconds(5)))
        await #expect(throws: RPCError(.failedPrecondition, "record changed since you read it")) {
            try await client.call("test.v1.Refuse/Do", payload: [])
        }
        #expect(calls.load(ordering: .relaxed) == 1)
        await client.close()
        await server.stop()
    }

    @Test func anUnreachableServiceIsUnavailableAfterTheRetries() async throws {
        // A port bound but not listening refuses connections, and no other test's server can take it meanwhile.
        let reserved = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(reserved) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(reserved, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(reserved, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = RPCClient(
            configuration: RPCClientConfiguration(
                host: "127.0.0.1", port: port, retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(5))),
            signer: nil, group: MultiThreadedEventLoopGroup.singleton)
        do {
            _ = try await client.call(HealthService.check.fullName, payload: [])
            Issue.record("a call to a port with no server succeeded")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.hasPrefix("cannot connect to 127.0.0.1:\(port)"))
        }
        await client.close()
    }

    @Test func backoffGrowsToItsCeiling() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(50), maxBackoff: .seconds(1), multiplier: 2)
        #expect(policy.backoffCeiling(afterAttempt: 1) == .milliseconds(50))
        #expect(policy.backoffCeiling(afterAttempt: 2) == .milliseconds(100))
        #expect(policy.backoffCeiling(afterAttempt: 4) == .milliseconds(400))
        #expect(policy.backoffCeiling(afterAttempt: 6) == .seconds(1))
        #expect(policy.backoffCeiling(afterAttempt: 9) == .seconds(1))
        // The outbox counts its pauses with the same type, in milliseconds, and never overflows.
        #expect(policy.backoff.milliseconds(afterAttempt: 3) == 200)
        #expect(Backoff(initial: .milliseconds(500), maximum: .seconds(60)).milliseconds(afterAttempt: 10_000) == 60_000)
    }
}

@Suite("HMAC-SHA256 against RFC 4231")
struct HMACTests {
    static func mac(key: [UInt8], _ parts: [[UInt8]]) -> String {
        HMACKey(keyBytes: key).mac(sizeHint: 64) { update in for part in parts { part.withUnsafeBytes { update($0) } } }.hexString
    }

    @Test(arguments: [
        // Test case 1: a 20-byte key.
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        // Test case 2: a key shorter than the hash.
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        // Test case 4: a 25-byte key and 50 bytes of data.
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        // Test case 6: a key longer than a block is hashed first.
        (
            [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
    ])
    func knownAnswers(key: [UInt8], data: [UInt8], expected: String) {
        #expect(Self.mac(key: key, [data]) == expected)
        // Fed in pieces (as a request's fields are), the MAC is the same; one key serves many messages.
        let pieces = stride(from: 0, to: data.count, by: 7).map { Array(data[$0..<min($0 + 7, data.count)]) }
        #expect(Self.mac(key: key, pieces) == expected)
        let shared = HMACKey(keyBytes: key)
        let first = shared.mac(sizeHint: 0) { update in data.withUnsafeBytes { update($0) } }.hexString
        let second = shared.mac(sizeHint: 0) { update in data.withUnsafeBytes { update($0) } }.hexString
        #expect(first == expected && second == expected)
    }
}

@Suite("Replay cache")
struct ReplayCacheTests {
    static func signature(_ first: UInt8) -> [UInt8] { [first] + [UInt8](repeating: 0, count: 31) }

    @Test func aSignatureIsAcceptedOnceAndForgottenAfterItsWindow() {
        var cache = ReplayCache()
        let window: Int64 = 300_000
        let start: Int64 = 1_800_000_000_000
        for index in 0..<10 {
            let fresh = cache.insert(Self.signature(UInt8(index)), signedAt: start, windowMillis: window, now: start)
            #expect(fresh)
        }
        let replayed = cache.insert(Self.signature(3), signedAt: start, windowMillis: window, now: start + 1000)
        #expect(!replayed, "a replay inside the window")
        #expect(cache.count == 10)
        // Once the window has passed, the old second is dropped whole.
        let later = start + window + 5000
        let fresh = cache.insert(Self.signature(42), signedAt: later, windowMillis: window, now: later)
        #expect(fresh)
        #expect(cache.count == 1)
    }
}
