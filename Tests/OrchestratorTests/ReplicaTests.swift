import Foundation
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import NIOPosix
import Synchronization
import Testing

@testable import OrchestratorService

/// A service executable of this build, started as its own process.
final class ServiceProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(_ executable: String, port: Int, arguments: [String]) throws {
        self.port = port
        let binary = packageRoot.appendingPathComponent(".build/debug/\(executable)").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw RPCError(.failedPrecondition, "build the executables first (scripts/test.sh runs swift build)")
        }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "\(port)", "--ops-port", "0", "--log-format", "json"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    func kill9() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        signal(SIGCONT)
        signal(SIGTERM)
        process.waitUntilExit()
    }
}

@Suite("The orchestrator as replicas on one PostgreSQL", .timeLimit(.minutes(3)))
struct ReplicaTests {
    @Test(
        "Two orchestrators and two intakes on one PostgreSQL: kill -9 of one orchestrator mid-stream; every case screened once, nothing lost or doubled; the survivor takes over its claimed steps after the lease"
    )
    func killOneReplica() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-replicas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let credentials = folder.appendingPathComponent("credentials").path
        let lines = [Agency.orchestrator, .socialCare].map { "\($0.name) \(TestServiceHost.testSecrets[$0]!.hex)" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: credentials, atomically: true, encoding: .utf8)
        let intakeURL = try TestServiceHost.freshPostgresURL()
        let orchestratorURL = try TestServiceHost.freshPostgresURL()
        func intake(_ name: String) throws -> ServiceProcess {
            try ServiceProcess(
                "intake", port: try freePort(),
                arguments: [
                    "--data-dir", folder.appendingPathComponent(name).path, "--database-url", intakeURL, "--credentials-file", credentials,
                    "--local-authority", "Camden",
                ])
        }
        func orchestrator(_ name: String, intakePort: Int) throws -> ServiceProcess {
            try ServiceProcess(
                "orchestrator", port: try freePort(),
                arguments: [
                    "--data-dir", folder.appendingPathComponent(name).path, "--database-url", orchestratorURL, "--credentials-file", credentials,
                    "--agency-endpoint", "intake=127.0.0.1:\(intakePort)", "--outbox-lease", "11",
                ])
        }
        let intakes = [try intake("intake-1"), try intake("intake-2")]
        for service in intakes { try await waitForService(port: service.port) }
        let first = try orchestrator("orchestrator-1", intakePort: intakes[0].port)
        let second = try orchestrator("orchestrator-2", intakePort: intakes[1].port)
        for service in [first, second] { try await waitForService(port: service.port) }
        defer { for service in intakes + [first, second] { service.stop() } }
        func client(_ service: ServiceProcess) -> RPCClient {
            RPCClient(
                configuration: RPCClientConfiguration(host: "127.0.0.1", port: service.port, connectTimeout: .seconds(1), retry: .none),
                signer: RequestSigner(agency: .socialCare, secret: TestServiceHost.testSecrets[.socialCare]!, user: "mash.screener"),
                group: MultiThreadedEventLoopGroup.singleton)
        }
        let clients = [client(first), client(second)]
        // The first orchestrator's intake takes connections and never answers: its sends hang, so it
        // holds claimed steps when it is killed.
        intakes[0].signal(SIGSTOP)
        let total = 40
        let answered = Counter()
        let failedOver = Counter()
        let firstKilled = Counter()
        // Referrals stream in, 8 at a time, alternating between the replicas; a call the first
        // replica never answers (it was killed) goes to the second with the same idempotency key.
        let caseIDs = try await withThrowingTaskGroup(of: String.self) { group in
            var ids: [String] = []
            for index in 0..<total {
                if index >= 8, let id = try await group.next() { ids.append(id) }
                group.addTask {
                    let request = OrchestratorV1.SubmitReferralRequest(referral: referral(child: "r-\(index)"))
                    let options = CallOptions(timeout: .seconds(30), idempotencyKey: "replica-\(index)")
                    let target = index % 2 == 0 && firstKilled.value.load(ordering: .relaxed) == 0 ? 0 : 1
                    do {
                        let view = try await clients[target].call(OrchestratorV1.Orchestrator.Method.submitReferral, request, options: options)
                        answered.value.add(1, ordering: .relaxed)
                        return view.caseId
                    } catch  where target == 0 {
                        failedOver.value.add(1, ordering: .relaxed)
                        let view = try await clients[1].call(OrchestratorV1.Orchestrator.Method.submitReferral, request, options: options)
                        answered.value.add(1, ordering: .relaxed)
                        return view.caseId
                    }
                }
                if index == 7 {
                    // The second replica has answered its own; the first holds its four, claimed and hanging.
                    while answered.value.load(ordering: .relaxed) < 4 { try await Task.sleep(for: .milliseconds(5)) }
                    try await Task.sleep(for: .milliseconds(300))
                    firstKilled.value.store(1, ordering: .relaxed)
                    first.kill9()
                }
            }
            for try await id in group { ids.append(id) }
            return ids
        }
        #expect(Set(caseIDs).count == total)
        #expect(failedOver.value.load(ordering: .relaxed) == 4)
        // Every case is screened, the first replica's after its claims lapsed (11 s), by the second.
        let survivor = clients[1]
        var screened = 0
        for _ in 0..<300 {
            screened = 0
            for id in Set(caseIDs) {
                let view = try await survivor.call(
                    OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: id), options: CallOptions(purpose: "test"))
                if view.status == "screened" { screened += 1 }
            }
            if screened == total { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(screened == total)
        // One case per child, one step per case, delivered; the hung ones by the survivor.
        let orchestratorStore = try PostgresDatabase(url: orchestratorURL)
        let (perChild, steps) = try orchestratorStore.readTransaction { session throws(StorageError) in
            (
                try session.query("SELECT child_subject_id, COUNT(*) FROM cases WHERE child_subject_id LIKE 'r-%' GROUP BY child_subject_id", []),
                try session.query("SELECT status, attempted_by, attempts, claimed_by FROM outbox WHERE agency = 'intake'", [])
            )
        }
        #expect(perChild.count == total && perChild.allSatisfy { $0[1] == "1" })
        #expect(steps.count == total && steps.allSatisfy { $0[0] == "delivered" && $0[3] == nil })
        let replicas = Set(steps.compactMap { $0[1] })
        // The killed replica recorded no attempt: the survivor recorded every one, the taken-over steps included.
        #expect(replicas.count == 1, "attempts recorded by \(replicas)")
        // Intake (both replicas share one store): exactly one referral per child.
        let intakeStore = try PostgresDatabase(url: intakeURL)
        let referrals = try intakeStore.readTransaction { session throws(StorageError) in
            try session.query("SELECT subject_id, COUNT(*) FROM referrals GROUP BY subject_id", [])
        }
        #expect(referrals.count == total && referrals.allSatisfy { $0[1] == "1" })
        for client in clients { await client.close() }
    }

    @Test("The deadline gauges are counted by one replica at a time; another takes over when its lease lapses")
    func gaugesCountedOnce() async throws {
        let intake = try await startIntake(.postgresql)
        let url = try TestServiceHost.freshPostgresURL()
        let first = try await OrchestratorHost.start(.postgresql, intakePort: intake.port, databaseURL: url, replica: "replica-a")
        let second = try await OrchestratorHost.start(.postgresql, intakePort: intake.port, databaseURL: url, replica: "replica-b")
        _ = try await first.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        func shows(_ host: OrchestratorHost) -> Bool {
            host.server.host.metrics.prometheusText().contains("hsb_orchestrator_deadlines_overdue ")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        await first.deliverer.count(asOf: now)
        await second.deliverer.count(asOf: now + 1000)
        #expect(shows(first) && !shows(second))
        // The first stops counting (it died, say): once its lease has lapsed the second counts.
        await second.deliverer.count(asOf: now + 31_000)
        #expect(shows(second))
        await first.deliverer.count(asOf: now + 32_000)
        #expect(!shows(first))
        await first.server.stop()
        await second.server.stop()
        await intake.stop()
    }
}

@Suite("Retention in a running service, from its configuration", .timeLimit(.minutes(2)))
struct RetentionEndToEndTests {
    @Test(
        "The intake executable with --retention-file removes a referral past its period at start, with a delete line on its access log; a rule for a kind it does not keep stops it, named"
    )
    func retentionFromTheCommandLine() async throws {
        // A referral intake screened, its last change moved back three years.
        let intake = try await startIntake(.sqlite)
        let screened = try await intake.client(.orchestrator).call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral()), options: CallOptions(purpose: "referral"))
        await intake.stopKeepingData()
        let dataDir = intake.dataDir
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let store = "\(dataDir)/intake.sqlite3"
        let threeYears: Int64 = 3 * 366 * 86_400_000
        try SQLiteDatabase(path: store).transaction { session throws(StorageError) in
            try session.execute("UPDATE referrals SET updated_at_unix_ms = updated_at_unix_ms - ?", [.integer(threeYears)])
        }
        let credentials = "\(dataDir)/credentials"
        try "orchestrator \(TestServiceHost.testSecrets[.orchestrator]!.hex)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        let rules = "\(dataDir)/retention"
        try "# intake's schedule\nreferral 2\nstrategy-meeting 2\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let service = try ServiceProcess(
            "intake", port: try freePort(),
            arguments: ["--data-dir", dataDir, "--credentials-file", credentials, "--local-authority", "Camden", "--retention-file", rules])
        defer { service.stop() }
        try await waitForService(port: service.port)
        // The job runs at start: the referral goes, and the access log says so, with the rule.
        var remaining = -1
        for _ in 0..<100 {
            remaining = try SQLiteDatabase(path: store).readTransaction { session throws(StorageError) in
                Int(try session.query("SELECT COUNT(*) FROM referrals", []).first?[0] ?? "") ?? -1
            }
            if remaining == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(remaining == 0)
        let removal = try SQLiteDatabase(path: store).readTransaction { session throws(StorageError) in
            try session.query(
                "SELECT agency, user_name, purpose FROM hsb_access_log WHERE action = 'delete' AND record_id = ?", [.text(screened.referralId)])
        }
        #expect(removal.count == 1 && removal.first?[0] == "social-care" && removal.first?[1] == "retention")
        #expect((removal.first?[2] ?? nil)?.hasPrefix("retention: referral is kept 2 years after its last change") == true, "\(removal)")
        #expect(try RecordStore.verifyAccessLog(in: try SQLiteDatabase(path: store)).broken == nil)
        service.stop()

        // A rule for a kind intake does not keep: it does not start, and says which.
        try "case 7\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let refused = Process()
        refused.executableURL = packageRoot.appendingPathComponent(".build/debug/intake")
        refused.arguments = [
            "--port", "\(try freePort())", "--ops-port", "0", "--data-dir", dataDir, "--credentials-file", credentials, "--local-authority", "Camden",
            "--retention-file", rules,
        ]
        let errors = Pipe()
        refused.standardError = errors
        refused.standardOutput = FileHandle.nullDevice
        try refused.run()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        refused.waitUntilExit()
        #expect(refused.terminationStatus != 0)
        #expect(said.contains("the retention file names \"case\", which this service does not keep"), "\(said)")
    }
}
