import CamhsService
import Foundation
import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBStorage
import HSBWire
import IntakeService
import Logging
import MappaService
import NIOPosix
import OrchestratorService
import Synchronization
import YouthJusticeService

/// Sends hostile frames to real services of every kind, in this process over loopback, and checks
/// that each frame is answered or its connection closed by the service, that nothing hangs, and
/// that every service still serves afterwards. A trap anywhere ends this process: the run fails.
///
///     hsb-fuzz [FRAMES] [SEED]     (scripts/fuzz.sh builds it in release mode and runs it)
@main
struct Fuzz {
    /// A service under test: its host, and each method it serves with the request it takes.
    struct Target {
        let name: String
        let host: ServiceHost
        let methods: [(String, any WireMessage.Type)]
        var port: Int { host.rpc.localAddress!.port! }
    }

    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        let frames = arguments.first.flatMap { Int($0) } ?? 100_000
        let seed = arguments.dropFirst().first.flatMap { UInt64($0) } ?? 1
        let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-fuzz-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let secrets = Dictionary(uniqueKeysWithValues: Agency.allCases.filter { $0 != .unspecified }.map { ($0, AgencySecret.random()) })
        let group = MultiThreadedEventLoopGroup.singleton

        func start(
            _ descriptor: ServiceDescriptor, migrations: [Migration] = [], _ handlers: @escaping @Sendable (ServiceResources) -> [MethodHandler]
        ) async throws -> ServiceHost {
            let options = ResolvedServiceOptions(dataDir: "\(root)/\(descriptor.name)", frameTimeoutSeconds: 5)
            let host = try ServiceHost(
                descriptor: descriptor, options: options, handlers: handlers, migrations: migrations, secrets: secrets, group: group, logger: logger)
            try await host.start()
            return host
        }
        let intakeConfiguration = IntakeConfiguration(localAuthority: "Camden")
        let intake = try await start(.intake, migrations: IntakeService.migrations) { IntakeService.handlers($0, intakeConfiguration) }
        let youthJustice = try await start(.youthJustice, migrations: YouthJusticeService.migrations) {
            YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar())
        }
        let camhs = try await start(.camhs, migrations: CamhsService.migrations) { CamhsService.handlers($0) }
        let mappa = try await start(.mappa, migrations: MappaService.migrations) { MappaService.handlers($0) }
        let signer = RequestSigner(agency: .orchestrator, secret: secrets[.orchestrator]!)
        var clients: [String: RPCClient] = [:]
        for (name, host) in [("intake", intake), ("youth-justice", youthJustice), ("camhs", camhs), ("mappa", mappa)] {
            clients[name] = RPCClient(
                configuration: RPCClientConfiguration(host: "127.0.0.1", port: host.rpc.localAddress!.port!, retry: .none), signer: signer,
                group: group)
        }
        let agencyClients = clients
        let box = Mutex<Deliverer?>(nil)
        let orchestrator = try await start(.orchestrator, migrations: CaseTables.migrations) { resources in
            let deliverer = Deliverer(resources: resources, clients: agencyClients, baseBackoffMillis: 50, maxBackoffMillis: 1000)
            box.withLock { $0 = deliverer }
            return OrchestratorService.handlers(resources, deliverer: deliverer)
        }
        let deliverer = box.withLock { $0 }!
        let delivering = Task {
            while !Task.isCancelled {
                await deliverer.deliverDue()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }

        let targets = [
            Target(name: "intake", host: intake, methods: IntakeV1.Intake.Method.all.map { ($0.fullName, $0.request) }),
            Target(name: "youth-justice", host: youthJustice, methods: YouthjusticeV1.YouthJustice.Method.all.map { ($0.fullName, $0.request) }),
            Target(name: "camhs", host: camhs, methods: CamhsV1.Camhs.Method.all.map { ($0.fullName, $0.request) }),
            Target(name: "mappa", host: mappa, methods: MappaV1.Mappa.Method.all.map { ($0.fullName, $0.request) }),
            Target(name: "orchestrator", host: orchestrator, methods: OrchestratorV1.Orchestrator.Method.all.map { ($0.fullName, $0.request) }),
        ].map { target in
            // Every service also answers health checks, and a method it does not serve.
            Target(
                name: target.name, host: target.host,
                methods: target.methods + [
                    (HealthService.check.fullName, HealthCheckRequest.self), ("hsb.nothing.v1.None/Nothing", HealthCheckRequest.self),
                ])
        }

        let started = ContinuousClock.now
        let outcome = try await Thread.offloaded {
            try Sender.run(
                targets: targets.map { ($0.name, $0.port, $0.methods, $0.name == "orchestrator" ? Agency.socialCare : .orchestrator) },
                frames: frames,
                seed: seed, secrets: secrets)
        }
        let elapsed = ContinuousClock.now - started
        // Afterwards every service still answers a health check and a signed request.
        var healthy = true
        for target in targets {
            let client = RPCClient(
                configuration: RPCClientConfiguration(host: "127.0.0.1", port: target.port, retry: .none),
                signer: RequestSigner(agency: .socialCare, secret: secrets[.socialCare]!), group: group)
            do {
                let reply = try await client.call(HealthService.check, HealthCheckRequest(service: ""), options: CallOptions(timeout: .seconds(10)))
                if reply.status != .serving { healthy = false }
            } catch {
                healthy = false
                print("\(target.name) does not answer after the run: \(error)")
            }
            await client.close()
        }
        delivering.cancel()
        for target in targets { await target.host.shutdown() }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("frames: \(outcome.frames), seed: \(seed), in \(String(format: "%.1f", seconds)) s (\(Int(Double(outcome.frames) / seconds))/s)")
        print("answered: \(outcome.answered), connection closed by the service: \(outcome.closed), hangs: \(outcome.hangs)")
        print("replies by status: \(outcome.statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        print("peak RSS: \(usage.ru_maxrss / 1024) MiB; services healthy afterwards: \(healthy)")
        print("crashes: 0 (a crash would have ended this process)")
        if outcome.hangs > 0 || !healthy { exit(1) }
    }
}

extension Thread {
    /// Runs blocking work on a thread of its own, outside Swift's cooperative pool.
    static func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
