public import HSBWire
public import Logging
import Synchronization

/// One readiness check's outcome. `/readyz` serves `name`, `ok` and `detail`, which hold no path,
/// address or error text; `cause` (where the store is, which host did not answer, the database's
/// words) goes to the service's log only.
public struct ReadinessCheck: Sendable, Hashable {
    public var name: String
    public var ok: Bool
    public var detail: String
    public var cause: String?

    public init(name: String, ok: Bool, detail: String, cause: String? = nil) {
        self.name = name
        self.ok = ok
        self.detail = detail
        self.cause = cause
    }
}

/// Readiness computed in the background every `interval` and served from the last result, so a
/// probe (a load balancer's every second, a scraper's, a health check's) never costs a durable
/// write. Bounded staleness: a result served is at most `interval` plus one probe's duration
/// old; one older than three intervals (the probe itself stuck) is reported as not ready.
public final class BackgroundReadiness: ReadinessProbe, Sendable {
    private let probe: any ReadinessProbe
    public let interval: Duration
    private let logger: Logger
    private struct Last {
        var checks: [ReadinessCheck]
        var at: ContinuousClock.Instant
    }
    private let last = Mutex<Last?>(nil)
    private let loop = Mutex<Task<Void, Never>?>(nil)
    private let computed = Atomic<Int>(0)

    /// How many times readiness has been computed (however many times it was asked for).
    public var computations: Int { computed.load(ordering: .relaxed) }

    public init(_ probe: any ReadinessProbe, interval: Duration = .seconds(5), logger: Logger) {
        self.probe = probe
        self.interval = interval
        self.logger = logger
    }

    /// A result older than this is stale: not ready.
    public var maxAge: Duration { interval * 3 }

    /// Starts probing every `interval` until ``stop()``; the first result is ready when this returns.
    public func start() async {
        await refresh()
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await refresh()
            }
        }
        loop.withLock { $0 = task }
    }

    public func stop() { loop.withLock { $0?.cancel() } }

    /// Probes now; a check whose outcome changed is logged with its cause.
    public func refresh() async {
        let checks = await probe.check()
        computed.wrappingAdd(1, ordering: .relaxed)
        let previous = last.withLock { state in
            defer { state = Last(checks: checks, at: .now) }
            return state?.checks ?? []
        }
        for check in checks where previous.first(where: { $0.name == check.name })?.ok != check.ok {
            var metadata: Logger.Metadata = ["check": "\(check.name)", "detail": "\(check.detail)"]
            if let cause = check.cause { metadata["cause"] = "\(cause)" }
            if check.ok {
                logger.info("readiness check passes", metadata: metadata)
            } else {
                logger.warning("readiness check fails", metadata: metadata)
            }
        }
    }

    /// The last result and its age; not ready before the first, and when it is stale.
    public func check() async -> [ReadinessCheck] {
        guard let current = last.withLock({ $0 }) else {
            return [ReadinessCheck(name: "readiness", ok: false, detail: "not yet checked")]
        }
        let age = ContinuousClock.now - current.at
        guard age <= maxAge else {
            let seconds = age.components.seconds
            return current.checks + [
                ReadinessCheck(
                    name: "readiness", ok: false,
                    detail: "last computed \(seconds)s ago, past the \(maxAge.components.seconds)s limit: the probe is stuck")
            ]
        }
        return current.checks
    }

    /// Whether the last result passed and is fresh (false before the first): the `ready` gauge.
    public var isReady: Bool {
        guard let current = last.withLock({ $0 }) else { return false }
        return ContinuousClock.now - current.at <= maxAge && current.checks.allOK
    }

    /// Milliseconds since the last result (nil before the first).
    public var ageMillis: Int64? {
        last.withLock { $0 }.map { (ContinuousClock.now - $0.at).components }.map { $0.seconds * 1000 + $0.attoseconds / 1_000_000_000_000_000 }
    }
}

/// Something that can say whether the service can do its work now (its store open and writable;
/// for the orchestrator, which agency services answer).
public protocol ReadinessProbe: Sendable {
    func check() async -> [ReadinessCheck]
}

extension Array where Element == ReadinessCheck {
    public var allOK: Bool { allSatisfy(\.ok) }
}

/// `hsb.health.v1.Health/Check`, with the meaning of grpc.health.v1.
public enum HealthService {
    public static let serviceName = HealthV1.Health.name
    public static let check = HealthV1.Health.Method.check

    /// The handler. `services` are the names the server hosts (besides health itself); an unknown
    /// name is NOT_FOUND. Every name shares the server's status: SERVING when `probe` passes and the
    /// server is not draining, NOT_SERVING otherwise.
    public static func handler(services: Set<String>, probe: any ReadinessProbe, isDraining: @escaping @Sendable () -> Bool) -> MethodHandler {
        let known = services.union([serviceName])
        return .unary(check, policy: .anyone) { (_: RequestContext, request: HealthCheckRequest) -> HealthCheckResponse in
            guard request.service.isEmpty || known.contains(request.service) else {
                throw RPCError(.notFound, "service \(request.service) is not hosted here; known: \(known.sorted().joined(separator: ", "))")
            }
            if isDraining() { return HealthCheckResponse(status: .notServing) }
            let checks = await probe.check()
            return HealthCheckResponse(status: checks.allOK ? .serving : .notServing)
        }
    }
}
