import Foundation
public import HSBRuntime
public import HSBServiceKit
public import HSBStorage
public import HSBWire
import Logging
import NIOPosix
import Synchronization

/// A clock a test moves by hand (milliseconds since the epoch), starting at the system's time.
public final class SettableClock: WallClock, @unchecked Sendable {
    private let now = Mutex<Int64>(SystemWallClock().nowUnixMillis())
    public init() {}
    public func nowUnixMillis() -> Int64 { now.withLock { $0 } }
    public func advance(by duration: Duration) { now.withLock { $0 += duration.components.seconds * 1000 } }
}

/// The store a test service runs on.
public enum TestStore: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgresql
    public var description: String { rawValue }
}

/// A real service on port 0 for tests: SQLite in a fresh folder, or PostgreSQL (from
/// `HSB_TEST_POSTGRES_URL`, which `scripts/with-postgres.sh` sets) in a fresh schema.
public struct TestServiceHost: Sendable {
    public let host: ServiceHost
    public let dataDir: String
    /// The PostgreSQL URL (with its own schema) the service runs on, to start a second replica on it.
    public let databaseURL: String?
    public let secrets: [Agency: AgencySecret]
    /// The service's clock, which its test clients sign with too.
    public let clock: any WallClock

    /// A secret for every agency, made by the tests.
    public static let testSecrets: [Agency: AgencySecret] = Dictionary(
        uniqueKeysWithValues: Agency.allCases.filter { $0 != .unspecified }.map { ($0, AgencySecret.random()) })

    /// - Parameters:
    ///   - dataDir: reuse a data folder (SQLite), to restart a service on its own records.
    ///   - port: a fixed RPC port, to bring a stopped service back where its callers expect it.
    public static func start(
        _ descriptor: ServiceDescriptor, store: TestStore, dataDir reuse: String? = nil, port: Int = 0, clock: any WallClock = SystemWallClock(),
        databaseURL reuseURL: String? = nil, migrations: [Migration] = [], tls: TLSMaterial? = nil,
        handlers: @escaping @Sendable (ServiceResources) -> [MethodHandler]
    ) async throws -> TestServiceHost {
        let dataDir = reuse ?? FileManager.default.temporaryDirectory.appendingPathComponent("hsb-\(descriptor.name)-\(UUID().uuidString)").path
        var databaseURL = reuseURL
        if store == .postgresql, databaseURL == nil { databaseURL = try freshPostgresURL() }
        let host = try ServiceHost(
            descriptor: descriptor, options: ResolvedServiceOptions(port: port, dataDir: dataDir, databaseURL: databaseURL), handlers: handlers,
            migrations: migrations, secrets: tls == nil ? testSecrets : [:], tls: tls, clock: clock,
            // A durable write per probe every few seconds from every test service slows the whole run;
            // the tests that watch readiness change ask for it (the first result comes at start).
            readinessInterval: .seconds(30), group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await host.start()
        return TestServiceHost(host: host, dataDir: dataDir, databaseURL: databaseURL, secrets: testSecrets, clock: clock)
    }

    /// A URL of the test PostgreSQL server with a new, empty schema of its own as its search path.
    public static func freshPostgresURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["HSB_TEST_POSTGRES_URL"] else {
            throw StorageError(operation: "test setup", message: "HSB_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh")
        }
        let schema = "s_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresDatabase(url: url).transaction { session throws(StorageError) in try session.execute("CREATE SCHEMA \(schema)") }
        return url + (url.contains("?") ? "&" : "?") + "options=-c%20search_path%3D\(schema)"
    }

    /// A client signing as `agency` (user `<agency>.worker`).
    public func client(_ agency: Agency, retry: RetryPolicy = .none) -> RPCClient {
        RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: host.rpc.localAddress!.port!, retry: retry),
            signer: RequestSigner(agency: agency, secret: secrets[agency]!, user: "\(agency.name).worker", clock: clock),
            group: MultiThreadedEventLoopGroup.singleton)
    }

    /// Records of `kind` about `subjectID`, read directly from the store: from the table the
    /// store's catalogue names for the kind (the generic table's when none does).
    public func records(_ kind: String, subjectID: String) throws -> [TableRow] {
        try host.store.read(now: 0) { tx throws(RecordStoreError) in
            guard let table = try tx.catalogue().first(where: { $0.kind == kind }) else {
                return try tx.list(kind: kind, subjectID: subjectID).map {
                    TableRow(
                        id: $0.id, subjectID: $0.subjectID, version: $0.version, created: $0.createdAtUnixMillis, updated: $0.updatedAtUnixMillis)
                }
            }
            return try tx.list(table, subjectID: subjectID)
        }
    }

    public func accessLog(_ kind: String, recordID: String) throws -> [AccessEntry] {
        try host.store.read(now: 0) { tx throws(RecordStoreError) in try tx.accessLog(kind: kind, recordID: recordID) }
    }

    /// The RPC port it listens on.
    public var port: Int { host.rpc.localAddress!.port! }

    /// Stops the service and removes its data folder.
    public func stop() async {
        await host.shutdown()
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    /// Stops the service and keeps its records, to start it again.
    public func stopKeepingData() async {
        await host.shutdown()
    }
}
