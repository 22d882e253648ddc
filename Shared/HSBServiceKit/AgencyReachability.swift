public import HSBRuntime
import HSBWire
public import NIOCore

/// A named service endpoint, parsed from `name=host:port`.
public struct ServiceEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }

    /// Parses `name=host:port`; throws naming what is wrong.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"), let port = Int(parts[1][parts[1].index(after: colon)...]),
            (1...65535).contains(port), !parts[0].isEmpty
        else {
            throw ConfigurationError("endpoint '\(text)' must look like name=host:port, e.g. intake=127.0.0.1:7101")
        }
        self.init(name: String(parts[0]), host: String(parts[1][..<colon]), port: port)
    }

    public var description: String { "\(name)=\(host):\(port)" }

    /// The suite's default local endpoints.
    public static var localDefaults: [ServiceEndpoint] {
        ServiceDescriptor.all.map { ServiceEndpoint(name: $0.name, host: "127.0.0.1", port: $0.defaultPort) }
    }
}

/// Asks one endpoint's `Health/Check`; SERVING is ok, anything else (or no answer) is not.
public func checkHealth(
    of endpoint: ServiceEndpoint, group: any EventLoopGroup, timeout: Duration = .seconds(2), tls: TLSMaterial? = nil
) async -> ReadinessCheck {
    let client = RPCClient(
        configuration: RPCClientConfiguration(
            host: endpoint.host, port: endpoint.port, connectTimeout: .seconds(2), retry: .none, tls: tls,
            expectedAgency: ServiceDescriptor.all.first { $0.name == endpoint.name }?.agency),
        signer: nil, group: group)
    defer { Task { await client.close() } }
    do throws(RPCError) {
        let reply = try await client.call(HealthService.check, HealthCheckRequest(), options: CallOptions(timeout: timeout))
        let ok = reply.status == .serving
        let status = ok ? "SERVING" : "NOT_SERVING"
        return ReadinessCheck(name: endpoint.name, ok: ok, detail: status, cause: "\(endpoint.host):\(endpoint.port) \(status)")
    } catch {
        // The address and the error are the cause (the log's, and hsbctl's), never /readyz's.
        return ReadinessCheck(
            name: endpoint.name, ok: false, detail: "unreachable (\(error.code))", cause: "\(endpoint.host):\(endpoint.port) \(error)")
    }
}

/// The orchestrator's readiness: which agency services answer their health check.
public struct AgencyReachability: ReadinessProbe {
    public let endpoints: [ServiceEndpoint]
    let group: any EventLoopGroup
    let tls: TLSMaterial?

    public init(endpoints: [ServiceEndpoint], group: any EventLoopGroup, tls: TLSMaterial? = nil) {
        self.endpoints = endpoints
        self.group = group
        self.tls = tls
    }

    public func check() async -> [ReadinessCheck] {
        await withTaskGroup(of: (Int, ReadinessCheck).self) { tasks in
            for (index, endpoint) in endpoints.enumerated() {
                tasks.addTask { (index, await checkHealth(of: endpoint, group: group, tls: tls)) }
            }
            var results: [(Int, ReadinessCheck)] = []
            for await result in tasks { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
