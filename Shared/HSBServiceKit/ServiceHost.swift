public import HSBRuntime
public import HSBStorage
public import HSBWire
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ready when the service's store is reachable (its SQLite file still there) and takes a committed write.
public struct StoreReadiness: ReadinessProbe {
    let database: any SQLDatabase
    let clock: any WallClock
    let threadPool: NIOThreadPool

    public init(database: any SQLDatabase, clock: any WallClock = SystemWallClock(), threadPool: NIOThreadPool = .singleton) {
        self.database = database
        self.clock = clock
        self.threadPool = threadPool
    }

    /// Probes on the thread pool: a committed write waits for the disk, which must never stall an event loop.
    public func check() async -> [ReadinessCheck] {
        let database = self.database
        let now = clock.nowUnixMillis()
        // What /readyz serves names no path or host; the database's own words go to the log.
        do {
            let result = try await threadPool.runIfActive { database.probeWritable(nowUnixMillis: now) }
            return [
                result.ok
                    ? ReadinessCheck(name: "store", ok: true, detail: "open and writable")
                    : ReadinessCheck(name: "store", ok: false, detail: "not writable (see the service's log)", cause: result.detail)
            ]
        } catch {
            return [ReadinessCheck(name: "store", ok: false, detail: "could not be probed", cause: "\(error)")]
        }
    }
}

/// Every check of several probes.
public struct CombinedReadiness: ReadinessProbe {
    let probes: [any ReadinessProbe]

    public init(_ probes: [any ReadinessProbe]) { self.probes = probes }

    public func check() async -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = []
        for probe in probes { checks += await probe.check() }
        return checks
    }
}

/// What a service's method handlers work with.
public struct ServiceResources: Sendable {
    public let store: RecordStore
    public let clock: any WallClock
    public let logger: Logger
    /// The service's metrics, for gauges of its own (e.g. overdue deadlines).
    public let metrics: ServerMetrics
    let threadPool: NIOThreadPool
    /// The store's group commit: every write of every handler goes through it (`write`).
    public let committer: GroupCommitter
    /// The service's TLS material (its trusted CAs check agencies' act signatures); nil on plaintext.
    public let tls: TLSMaterial?

    /// Runs blocking work (the store) on the thread pool, never on an event loop.
    public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(body)
    }
}

/// One running service: its store, its RPC server with health, and its ops HTTP port.
public final class ServiceHost: Sendable {
    public let descriptor: ServiceDescriptor
    public let options: ResolvedServiceOptions
    public let store: RecordStore
    public let metrics: ServerMetrics
    public let rpc: RPCServer
    public let ops: OpsServer
    /// The RPC port's TLS material (reloaded on SIGHUP); nil when it serves plaintext.
    public let tls: TLSMaterial?
    /// Readiness as last computed in the background (`/readyz`, `Health/Check`).
    public let readiness: BackgroundReadiness
    let logger: Logger

    /// Opens the store (running migrations) and assembles the servers; nothing listens yet.
    public init(
        descriptor: ServiceDescriptor, options: ResolvedServiceOptions,
        handlers makeHandlers: @Sendable (ServiceResources) -> [MethodHandler] = { _ in [] },
        extraProbes: [any ReadinessProbe] = [], migrations: [Migration] = [],
        secrets: [Agency: AgencySecret], tls: TLSMaterial? = nil, clock: any WallClock = SystemWallClock(),
        readinessInterval: Duration = .seconds(5), group: any EventLoopGroup, logger: Logger
    ) throws {
        self.tls = tls
        self.descriptor = descriptor
        self.options = options
        self.logger = logger
        let database: any SQLDatabase
        // The data folder holds the SQLite store and the replay journal: only the service's own
        // user may read it (0700), whatever the umask.
        try Self.makeDirectory(options.dataDir)
        if let url = options.databaseURL {
            database = try PostgresDatabase(url: url)
        } else {
            let path = "\(options.dataDir)/\(descriptor.name).sqlite3"
            database = try SQLiteDatabase(path: path)
            for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        }
        let journal: ReplayJournal
        do {
            journal = try ReplayJournal(
                folder: options.dataDir, service: descriptor.name, windowSeconds: Int64(options.replayWindowSeconds),
                nowUnixMillis: clock.nowUnixMillis())
        } catch {
            throw ConfigurationError("\(error)")
        }
        let store = try RecordStore(database: database, migrations: migrations)
        self.store = store
        let metrics = ServerMetrics(prefix: "hsb_" + descriptor.name.replacingHyphens())
        let committer = GroupCommitter(store: store, threadPool: NIOThreadPool.singleton)
        metrics.addGauges {
            let counts = committer.counts
            return [
                .init(
                    name: "store_commits_total", help: "Transactions committed by the group commit.", value: Double(counts.commits), type: .counter),
                .init(
                    name: "store_writes_total", help: "Writes committed; writes per commit is how many shared a flush.", value: Double(counts.writes),
                    type: .counter),
                .init(name: "store_largest_batch", help: "The most writes one commit has held.", value: Double(counts.largestBatch)),
                .init(
                    name: "store_commit_seconds_sum", help: "Time spent in group commits (with _count: the mean commit latency).",
                    value: committer.latency.sum, type: .counter),
                .init(name: "store_commit_seconds_count", help: "Group commits timed.", value: Double(committer.latency.count), type: .counter),
                .init(name: "store_commit_seconds_max", help: "The longest group commit since the last scrape.", value: committer.takeMaxLatency()),
            ]
        }
        let resources = ServiceResources(
            store: store, clock: clock, logger: logger, metrics: metrics, threadPool: NIOThreadPool.singleton, committer: committer, tls: tls)
        let handlers = makeHandlers(resources)
        self.metrics = metrics
        // Computed in the background (never a durable write per probe), served from the last result.
        let probe = BackgroundReadiness(
            CombinedReadiness([StoreReadiness(database: database, clock: clock)] + extraProbes), interval: readinessInterval, logger: logger)
        self.readiness = probe
        metrics.addGauges {
            [
                .init(
                    name: "ready", help: "1 when the last readiness check passed and is fresh (what /readyz says), else 0.",
                    value: probe.isReady ? 1 : 0)
            ]
        }
        var registry = MethodRegistry(handlers)
        let drainSignal = DrainSignal()
        registry.register(
            HealthService.handler(services: registry.services.union([descriptor.wireService]), probe: probe, isDraining: { drainSignal.isDraining }))
        let dispatcher = Dispatcher(
            registry: registry,
            authenticator: Authenticator(
                secrets: secrets, window: .seconds(options.replayWindowSeconds), clock: clock, journal: journal, actTrust: tls),
            metrics: metrics, logger: logger)
        let configuration = RPCServerConfiguration(
            host: options.host, port: options.port, maxFrameSize: options.maxFrameBytes, maxConnections: options.maxConnections,
            idleTimeout: .seconds(Int64(options.idleTimeoutSeconds)), frameTimeout: .seconds(Int64(options.frameTimeoutSeconds)),
            drainTimeout: .seconds(Int64(options.drainTimeoutSeconds)), maxConnectionsPerPeer: options.maxConnectionsPerPeer,
            maxBufferedBytes: options.maxBufferedBytes)
        let rpc = RPCServer(configuration: configuration, dispatcher: dispatcher, group: group, logger: logger, drainSignal: drainSignal, tls: tls)
        self.rpc = rpc
        let opsToken = try options.opsTokenFile.map { try OpsAccess.token(file: $0) }
        let opsTLS = try OpsAccess.tls(certificate: options.opsTLSCertificate, key: options.opsTLSKey)
        self.ops = OpsServer(
            host: options.opsHost, port: options.opsPort, metrics: metrics, probe: probe, group: group, logger: logger, token: opsToken, tls: opsTLS)
    }

    /// Starts both listeners; returns once they accept connections.
    public func start() async throws {
        await readiness.start()
        try await rpc.start()
        try await ops.start()
    }

    /// Drains the RPC server, then stops the ops port.
    public func shutdown() async {
        await rpc.drain()
        await ops.stop()
        readiness.stop()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully (RPC drains first, then the
    /// background services, ops last).
    public func runUntilSignalled(background: [any Service] = []) async throws {
        await readiness.start()
        defer { readiness.stop() }
        let reloader: [any Service] = tls.map { [TLSReloader(material: $0, logger: logger)] } ?? []
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: ops)] + (background + reloader).map { .init(service: $0) } + [.init(service: rpc)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    static func makeDirectory(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o700) != 0 && errno != EEXIST {
                throw ConfigurationError("cannot create data folder \(built): \(String(cString: strerror(errno)))")
            }
        }
        if chmod(path, 0o700) != 0 {
            throw ConfigurationError("cannot make data folder \(path) private (0700): \(String(cString: strerror(errno)))")
        }
    }
}

/// The shared start-up of every service executable.
public enum ServiceMain {
    /// Sets up logging as `options` ask; call once per process.
    public static func bootstrapLogging(_ options: ResolvedServiceOptions) {
        let level = Logger.Level(rawValue: options.logLevel) ?? .info
        if options.logFormat == "json" {
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        } else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    /// Runs `descriptor`'s service until signalled.
    public static func run(
        _ descriptor: ServiceDescriptor, options: ServiceOptions, handlers: @escaping @Sendable (ServiceResources) -> [MethodHandler] = { _ in [] },
        extraProbes: (any EventLoopGroup) -> [any ReadinessProbe] = { _ in [] }, migrations: [Migration] = [],
        retentionTargets: [RetentionTarget] = [], tls loadedTLS: TLSMaterial? = nil, background: () -> [any Service] = { [] }
    ) async throws {
        // Stores, journals and anything else the service creates are readable by its user alone.
        umask(0o077)
        // Connections are file descriptors: take the hard limit, so that the connection caps
        // (RPC and ops), not the process's soft limit, decide who is served.
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let resolved = try options.resolve(for: descriptor)
        bootstrapLogging(resolved)
        var logger = Logger(label: "hsb.\(descriptor.name)")
        logger[metadataKey: "service"] = "\(descriptor.name)"
        let tls = try loadedTLS ?? TransportOptions.material(resolved.tls)
        // On TLS the caller's agency comes from its certificate: the service holds no caller's
        // secret. The secrets are for plaintext links (loopback development) only.
        let secrets = tls == nil ? try CredentialsLoader.load(file: resolved.credentialsFile) : [:]
        if let tls {
            logger.info(
                "RPC port takes mutual TLS only", metadata: ["agency": "\(tls.agency.name)", "certificate_expires": "\(tls.notAfter)"])
            if resolved.credentialsFile != nil { logger.notice("--credentials-file is ignored with TLS: callers are known by their certificates") }
        } else {
            if !TransportOptions.isLoopback(resolved.host) {
                logger.warning(
                    "serving PLAINTEXT on \(resolved.host) (--insecure-plaintext): requests cross the network readable by anyone on the path")
            }
            if secrets.isEmpty { logger.warning("no caller secrets configured: only health checks will be answered") }
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let host = try ServiceHost(
            descriptor: descriptor, options: resolved, handlers: handlers, extraProbes: extraProbes(group), migrations: migrations,
            secrets: secrets, tls: tls, group: group, logger: logger)
        let pruner = IdempotencyPruner(store: host.store, windowDays: resolved.idempotencyWindowDays, logger: logger)
        var jobs: [any Service] = [pruner]
        if let file = resolved.retentionFile {
            let retention = RetentionJob(
                store: host.store, rules: try RetentionRules.load(file: file), agency: descriptor.agency.name, targets: retentionTargets,
                logger: logger)
            try retention.check()
            jobs.append(retention)
        }
        try await host.runUntilSignalled(background: jobs + background())
    }
}

/// Reads the TLS files again on SIGHUP: a renewed certificate, or a CA bundle with a new CA
/// added or an old one removed, takes effect for new connections without a restart. A file
/// that cannot be used is logged and the material in use stays.
struct TLSReloader: Service {
    let material: TLSMaterial
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                try material.reload()
                logger.notice("TLS material reloaded", metadata: ["certificate_expires": "\(material.notAfter)"])
            } catch {
                logger.error("TLS material NOT reloaded; the previous stays in use", metadata: ["error": "\(error)"])
            }
        }
    }
}
