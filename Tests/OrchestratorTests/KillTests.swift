import Foundation
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import NIOPosix
import OrchestratorService
import Synchronization
import Testing

/// A real intake process, started from the built executable.
final class IntakeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(port: Int, dataDir: String, credentials: String) throws {
        self.port = port
        let binary = packageRoot.appendingPathComponent(".build/debug/intake").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw RPCError(.failedPrecondition, "build the executables first (scripts/test.sh runs swift build)")
        }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", "\(port)", "--ops-port", "0", "--data-dir", dataDir, "--credentials-file", credentials, "--local-authority", "Camden",
            "--log-format", "json",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until something answers Health/Check on `port`.
func waitForService(port: Int) async throws {
    let client = RPCClient(
        configuration: RPCClientConfiguration(host: "127.0.0.1", port: port, retry: .none), signer: nil, group: MultiThreadedEventLoopGroup.singleton)
    defer { Task { await client.close() } }
    for _ in 0..<200 {
        if (try? await client.call(HealthV1.Health.Method.check, HealthCheckRequest(), options: CallOptions(timeout: .seconds(1))))?.status
            == .serving
        {
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw RPCError(.unavailable, "the service on port \(port) did not become ready")
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// The intake process of the moment (replaced when it is restarted).
final class RunningIntake: @unchecked Sendable {
    var process: IntakeProcess
    init(_ process: IntakeProcess) { self.process = process }
}

@Suite("Killing an agency service mid-stream", .timeLimit(.minutes(3)))
struct KillTests {
    @Test("kill -9 of intake while referrals stream in: nothing is lost and nothing is doubled")
    func killNine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let credentials = folder.appendingPathComponent("credentials").path
        try "orchestrator \(TestServiceHost.testSecrets[.orchestrator]!.hex)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        let intakeData = folder.appendingPathComponent("intake").path
        let port = try freePort()
        let running = RunningIntake(try IntakeProcess(port: port, dataDir: intakeData, credentials: credentials))
        try await waitForService(port: port)

        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: port)
        let client = orchestrator.server.client(.socialCare)
        let total = 40
        let answered = Counter()
        // Referrals stream in, 8 at a time; intake is killed while some are in flight, and restarted.
        let caseIDs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<total {
                group.addTask {
                    let view = try await client.call(
                        OrchestratorV1.Orchestrator.Method.submitReferral,
                        OrchestratorV1.SubmitReferralRequest(referral: referral(child: "k-\(index)")),
                        options: CallOptions(idempotencyKey: "kill-\(index)"))
                    answered.value.add(1, ordering: .relaxed)
                    return view.caseId
                }
                if index == 8 {
                    while answered.value.load(ordering: .relaxed) < 4 { try await Task.sleep(for: .milliseconds(2)) }
                    running.process.kill9()
                }
                if index == 24 {
                    // At most 9 referrals were launched before the kill: wait until some launched after it were answered (while intake was down).
                    while answered.value.load(ordering: .relaxed) < 14 { try await Task.sleep(for: .milliseconds(2)) }
                    running.process = try IntakeProcess(port: port, dataDir: intakeData, credentials: credentials)
                }
            }
            var ids: [String] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        #expect(Set(caseIDs).count == total)
        try await waitForService(port: port)
        // Deliver everything still pending.
        for _ in 0..<100 {
            await orchestrator.deliverer.deliverDue()
            await orchestrator.deliverer.count()
            if orchestrator.server.host.metrics.prometheusText().contains("hsb_orchestrator_outbox_pending 0.0") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        var retried = 0
        for id in caseIDs {
            let view = try await client.call(
                OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: id), options: CallOptions(purpose: "test"))
            #expect(view.status == "screened", "\(id): \(view.steps.map(\.lastError))")
            if (view.steps.first?.attempts ?? 0) > 1 { retried += 1 }
        }
        #expect(retried > 0, "the kill should have delayed some referrals")
        running.process.stop()
        // Intake's own store: exactly one referral per child.
        let store = try RecordStore(database: try SQLiteDatabase(path: intakeData + "/intake.sqlite3"))
        for index in 0..<total {
            let referrals = try store.read(now: 0) { tx throws(RecordStoreError) in
                try tx.list(
                    try tx.catalogue().first { $0.kind == "referral" } ?? RecordTable(kind: "referral", table: "referrals", columns: []),
                    subjectID: "k-\(index)")
            }
            #expect(referrals.count == 1, "child k-\(index) has \(referrals.count) referrals")
        }
        await orchestrator.server.stop()
    }
}
