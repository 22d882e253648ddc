public import HSBWire

/// One readiness check's outcome, as `/readyz` reports it.
public struct ReadinessCheck: Sendable, Hashable {
    public var name: String
    public var ok: Bool
    public var detail: String

    public init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
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
