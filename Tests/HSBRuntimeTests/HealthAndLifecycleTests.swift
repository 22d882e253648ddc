import Foundation
import HSBRuntime
import HSBServiceKit
import HSBWire
import Synchronization
import Testing

@Suite("Health, readiness, ops HTTP, limits and graceful shutdown", .timeLimit(.minutes(2)))
struct HealthAndLifecycleTests {
    @Test func healthOverTheWireFollowsGRPCHealthMeaning() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client(as: nil)
        for name in ["", "hsb.intake.v1.Intake", "hsb.health.v1.Health", "test.v1.Echo"] {
            let reply = try await client.call(HealthService.check, HealthCheckRequest(service: name))
            #expect(reply.status == .serving, "service '\(name)'")
        }
        do {
            _ = try await client.call(HealthService.check, HealthCheckRequest(service: "hsb.nope.v1.Nope"))
            Issue.record("an unknown service name was answered")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.hasPrefix("service hsb.nope.v1.Nope is not hosted here"))
        }
        await client.close()
        await server.stop()
    }

    @Test func opsHTTPServesLivenessReadinessAndMetrics() async throws {
        let server = try await TestHost.start(handlers: [echo])
        let client = server.client()
        _ = try await client.call("test.v1.Echo/Echo", payload: [1])
        let live = try await http(port: server.opsPort, path: "/healthz")
        #expect(live.status == 200 && live.body == "ok\n")
        let ready = try await http(port: server.opsPort, path: "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.hasPrefix("{\"ready\":true,\"checks\":[{\"name\":\"store\",\"ok\":true"))
        let metrics = try await http(port: server.opsPort, path: "/metrics")
        #expect(metrics.status == 200)
        for line in [
            "hsb_intake_requests_total{method=\"test.v1.Echo/Echo\",code=\"OK\"} 1",
            "hsb_intake_request_duration_seconds_count{method=\"test.v1.Echo/Echo\"} 1",
            "hsb_intake_requests_in_flight 0",
            "hsb_intake_open_connections 1",
            "hsb_intake_frames_refused_total{reason=\"too_large\"} 0",
            // What the alert rules read (deploy/monitoring/alerts.yml).
            "hsb_intake_ready 1.0",
            "# TYPE hsb_intake_store_commit_seconds_sum counter",
            "# TYPE hsb_intake_store_commit_seconds_count counter",
            "hsb_intake_tls_handshakes_refused_total{reason=\"unknown_ca\"} 0",
        ] {
            #expect(metrics.body.contains(line), "metrics lack \(line)")
        }
        #expect(try await http(port: server.opsPort, path: "/nope").status == 404)
        #expect(try await http("POST", port: server.opsPort, path: "/healthz").status == 405)
        await client.close()
        await server.stop()
    }

    @Test("Readiness goes false when the store is removed, within an interval; /readyz names no path, the log has the cause")
    func readinessGoesFalseWhenTheStoreIsRemoved() async throws {
        let server = try await TestHost.start(readinessInterval: .seconds(1))
        let client = server.client(as: nil)
        #expect(try await client.call(HealthService.check, HealthCheckRequest()).status == .serving)
        try FileManager.default.removeItem(atPath: "\(server.dataDir)/intake.sqlite3")
        let before = server.host.readiness.computations
        #expect(await eventually(10) { server.host.readiness.computations > before + 1 })
        let ready = try await http(port: server.opsPort, path: "/readyz")
        #expect(ready.status == 503)
        #expect(ready.body.contains("{\"name\":\"store\",\"ok\":false,\"detail\":\"not writable (see the service's log)\"}"), "\(ready.body)")
        #expect(!ready.body.contains(server.dataDir) && !ready.body.contains("sqlite3"), "no path on the ops port: \(ready.body)")
        let cause = await server.host.readiness.check().first?.cause
        #expect(cause == "store file \(server.dataDir)/intake.sqlite3 is missing")
        #expect(try await client.call(HealthService.check, HealthCheckRequest()).status == .notServing)
        #expect(try await http(port: server.opsPort, path: "/healthz").status == 200, "liveness stays true: the process is alive")
        await client.close()
        await server.stop()
    }

    @Test("Readiness is computed in the background: forty probes cost no write of their own, and each says how old its answer is")
    func readinessIsComputedInTheBackground() async throws {
        let server = try await TestHost.start(readinessInterval: .seconds(60))
        let client = server.client(as: nil)
        for _ in 0..<20 {
            #expect(try await http(port: server.opsPort, path: "/readyz").body.contains("\"age_ms\":"))
            #expect(try await client.call(HealthService.check, HealthCheckRequest()).status == .serving)
        }
        #expect(server.host.readiness.computations == 1)
        await client.close()
        await server.stop()
    }

    @Test("A readiness probe that hangs is reported: past three intervals the last answer is stale and not ready")
    func staleReadinessIsNotReady() async throws {
        let calls = Atomic<Int>(0)
        struct Hanging: ReadinessProbe {
            let calls: @Sendable () -> Int
            func check() async -> [ReadinessCheck] {
                // The first answer comes; every later one never does (until cancelled).
                if calls() > 1 { try? await Task.sleep(for: .seconds(3600)) }
                return [ReadinessCheck(name: "store", ok: true, detail: "open and writable")]
            }
        }
        let readiness = BackgroundReadiness(
            Hanging(calls: { calls.wrappingAdd(1, ordering: .relaxed).newValue }), interval: .milliseconds(50), logger: quietLogger)
        await readiness.start()
        #expect(await readiness.check().allOK)
        try await Task.sleep(for: .milliseconds(400))
        let stale = await readiness.check()
        #expect(!stale.allOK)
        #expect(stale.last?.detail.hasSuffix("the probe is stuck") == true, "\(stale)")
        readiness.stop()
    }

    @Test(
        "With a token, /metrics needs it (401 otherwise), /readyz shows its checks only with it (the verdict alone to a probe), /healthz stays open; a token file others can read is refused"
    )
    func opsTokenGuardsReadinessAndMetrics() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-ops-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let token = String(repeating: "k", count: 40)
        let file = "\(folder)/ops-token"
        #expect(FileManager.default.createFile(atPath: file, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o644]))
        #expect(throws: ConfigurationError.self) { try OpsAccess.token(file: file) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let server = try await TestHost.start(opsTokenFile: file)
        #expect(try await http(port: server.opsPort, path: "/healthz").status == 200)
        #expect(try await http(port: server.opsPort, path: "/metrics").status == 401)
        #expect(try await http(port: server.opsPort, path: "/metrics", headers: ["Authorization: Bearer \(token)x"]).status == 401)
        #expect(try await http(port: server.opsPort, path: "/metrics", headers: ["Authorization: Bearer \(token)"]).status == 200)
        // A probe without the token gets the verdict only; the scraper with it, each check.
        let bare = try await http(port: server.opsPort, path: "/readyz")
        #expect(bare.status == 200 && bare.body == "{\"ready\":true}\n")
        let wrong = try await http(port: server.opsPort, path: "/readyz", headers: ["Authorization: Bearer \(token)x"])
        #expect(wrong.body == "{\"ready\":true}\n")
        let full = try await http(port: server.opsPort, path: "/readyz", headers: ["Authorization: Bearer \(token)"])
        #expect(full.status == 200 && full.body.contains("\"checks\":[{\"name\":\"store\""))
        await server.stop()
    }

    @Test func gracefulShutdownDrainsInFlightWorkAndRefusesNewConnections() async throws {
        let started = Atomic<Bool>(false)
        let slow = MethodHandler(method: "test.v1.Slow/Wait", policy: .anyAuthenticated) { _, payload in
            started.store(true, ordering: .sequentiallyConsistent)
            try await Task.sleep(for: .milliseconds(400))
            return payload
        }
        let server = try await TestHost.start(handlers: [slow])
        let client = server.client()
        async let reply = client.call("test.v1.Slow/Wait", payload: [4, 2])
        #expect(await eventually { started.load(ordering: .sequentiallyConsistent) })
        let port = server.rpcPort
        await server.host.rpc.drain()
        #expect(try await reply == [4, 2], "the in-flight request finished during the drain")
        #expect(server.host.rpc.isDraining)
        await #expect(throws: RPCError.self, "the listener is closed after a drain") { try await RawConnection.open(port: port) }
        await client.close()
        await server.stop()
    }

    @Test func connectionsBeyondTheLimitAreRefusedWithAReason() async throws {
        let server = try await TestHost.start(maxConnections: 1)
        let first = try await RawConnection.open(port: server.rpcPort)
        try first.send(RequestEnvelope(requestID: 1, method: HealthService.check.fullName))
        #expect(try await first.response()?.status == .ok)
        // Past the limit a connection is admitted for health checks only: probes keep working
        // while the server is full, and any other request is told why it is refused.
        let second = try await RawConnection.open(port: server.rpcPort)
        try second.send(RequestEnvelope(requestID: 1, method: HealthService.check.fullName))
        #expect(try await second.response()?.status == .ok)
        try second.send(RequestEnvelope(requestID: 2, method: "test.v1.Echo/Echo"))
        let refusal = try #require(try await second.response())
        #expect(refusal.status == .resourceExhausted)
        #expect(refusal.message == "the server is at its limit of 1 connections; only health checks are answered; retry later")
        await server.stop()
    }

    @Test func anIdleConnectionIsClosed() async throws {
        let server = try await TestHost.start(idleTimeoutSeconds: 1)
        let raw = try await RawConnection.open(port: server.rpcPort, receiveTimeoutSeconds: 10)
        // The read waits up to 10 s; an idle timeout that did not work would leave the peer open.
        #expect(await raw.closedByPeer())
        await server.stop()
    }

    @Test func aPeerTricklingAFrameIsDisconnected() async throws {
        let server = try await TestHost.start(idleTimeoutSeconds: 60, frameTimeoutSeconds: 1)
        let raw = try await RawConnection.open(port: server.rpcPort, receiveTimeoutSeconds: 10)
        // A frame of 100 bytes begun, then one byte every 300 ms: never idle, never finished.
        raw.send(UInt32(100).bytes)
        let trickle = Task {
            for _ in 0..<30 {
                try await Task.sleep(for: .milliseconds(300))
                raw.send([0x41])
            }
        }
        // The trickle would keep the connection open for 9 s, within the 10 s read; the frame timeout closes it first.
        #expect(await raw.closedByPeer())
        trickle.cancel()
        #expect(server.host.metrics.framesRefusedCount(reason: "too_slow") == 1)
        await server.stop()
    }

    @Test func wholeFramesKeepAConnectionWithinTheFrameTimeout() async throws {
        let server = try await TestHost.start(frameTimeoutSeconds: 1)
        let raw = try await RawConnection.open(port: server.rpcPort)
        for id in 1...4 {
            try raw.send(RequestEnvelope(requestID: UInt64(id), method: HealthService.check.fullName))
            #expect(try await raw.response()?.status == .ok)
            try await Task.sleep(for: .milliseconds(400))
        }
        #expect(server.host.metrics.framesRefusedCount(reason: "too_slow") == 0)
        await server.stop()
    }

    @Test func theServiceExecutableExitsZeroOnSIGTERM() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binary = root.appendingPathComponent(".build/debug/intake").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the executables first (scripts/test.sh runs swift build)")
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-exe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0", "--ops-port", "0", "--data-dir", dataDir, "--log-format", "json", "--local-authority", "Camden"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var log = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while !log.contains("\"msg\":\"listening\""), ContinuousClock.now < deadline {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        #expect(log.contains("\"msg\":\"listening\""), "the service did not start: \(log)")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        log += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("\"msg\":\"draining\""))
        #expect(log.contains("\"msg\":\"stopped\""))
    }

    @Test(
        "A service and hsbctl run as an unprivileged user, as the image and the systemd unit run them: each connection's socket options are ones such a user may set"
    )
    func servicesAndClientRunUnprivileged() async throws {
        // TCP_NODELAY set at the socket level is SO_DEBUG, which only a privileged user may set:
        // as root it passed silently (and Nagle stayed on); as the image's user every connection failed.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bin = root.appendingPathComponent(".build/debug")
        for name in ["intake", "hsbctl"] {
            try #require(FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(name).path), "build the executables first")
        }
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-unprivileged-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        // Run as root (CI), the test drops to nobody for both processes; run as anyone else, it is unprivileged already.
        var prefix: [String] = []
        if getuid() == 0 {
            #expect(chown(dataDir, 65534, 65534) == 0)
            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        }
        func process(_ name: String, _ arguments: [String]) -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: prefix.first ?? bin.appendingPathComponent(name).path)
            process.arguments = Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [bin.appendingPathComponent(name).path]) + arguments
            return process
        }
        let service = process(
            "intake", ["--port", "0", "--ops-port", "0", "--data-dir", dataDir, "--log-format", "json", "--local-authority", "Camden"])
        let errors = Pipe()
        service.standardError = errors
        service.standardOutput = FileHandle.nullDevice
        try service.run()
        defer {
            kill(service.processIdentifier, SIGTERM)
            service.waitUntilExit()
        }
        var log = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while !log.contains("\"msg\":\"listening\""), ContinuousClock.now < deadline {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        // "address":"[IPv4]127.0.0.1/127.0.0.1:PORT"
        let listening = try #require(log.split(separator: "\n").first { $0.contains("\"msg\":\"listening\"") }, "the service did not start: \(log)")
        let address = try #require(listening.firstMatch(of: /127\.0\.0\.1:([0-9]+)"/), "no port in \(listening)")
        let client = process("hsbctl", ["health", "--endpoint", "intake=127.0.0.1:\(address.1)"])
        let out = Pipe()
        client.standardOutput = out
        client.standardError = out
        try client.run()
        let answer = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        client.waitUntilExit()
        #expect(
            client.terminationStatus == 0 && answer.contains("SERVING") && !answer.contains("NOT SERVING"),
            "hsbctl health as an unprivileged user: \(answer)")
    }
}
