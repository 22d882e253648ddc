import ArgumentParser
import HSBRuntime
import HSBServiceKit
import NIOPosix
import OrchestratorService
import Synchronization

@main
struct OrchestratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.orchestrator.name,
        abstract: ServiceDescriptor.orchestrator.summary,
        discussion: """
            Ready when its store is writable and every agency service answers its health check. With TLS (--tls-certificate, \
            --tls-key, --tls-ca) it calls the agency services over mutual TLS with the same certificate, which must name the \
            orchestrator; without TLS (loopback development) it signs its calls with its own secret: HSB_SIGNING_SECRET, or the \
            'orchestrator' line of the credentials file.
            """)

    @OptionGroup var options: ServiceOptions

    @Option(
        name: .customLong("agency-endpoint"),
        help:
            "An agency service to route to, as name=host:port; repeat for each. Env: HSB_AGENCY_ENDPOINTS (comma-separated). Default: the four agency services on 127.0.0.1 at their default ports."
    )
    var agencyEndpoints: [String] = []

    @Option(
        name: .customLong("dead-after"),
        help:
            "Failures after a step reached its service (no answer came) before it goes to the dead letters, 1-1000. Env: HSB_DEAD_AFTER. Default: 5."
    )
    var deadAfter: String?

    @Option(
        name: .customLong("outbox-lease"),
        help:
            "Seconds a replica holds a step it is sending (or the gauges) before another replica may take it over, 11-3600. Env: HSB_OUTBOX_LEASE. Default: 30."
    )
    var outboxLease: String?

    @Option(
        name: .customLong("step-wait"),
        help:
            "Seconds a practitioner's call waits for the steps it wrote to land (say, intake's screening) before it answers with them still being sent, 0-60. Env: HSB_STEP_WAIT. Default: 2."
    )
    var stepWait: String?

    func run() async throws {
        var texts = agencyEndpoints
        if texts.isEmpty, let env = environment("HSB_AGENCY_ENDPOINTS") {
            texts = env.split(separator: ",").map(String.init)
        }
        let endpoints =
            texts.isEmpty
            ? ServiceDescriptor.agencyServices.map { ServiceEndpoint(name: $0.name, host: "127.0.0.1", port: $0.defaultPort) }
            : try texts.map { try ServiceEndpoint(parsing: $0) }
        let deadAfterText = deadAfter ?? environment("HSB_DEAD_AFTER")
        let failuresBeforeDead = try deadAfterText.map { try Deliverer.deadAfter(parsing: $0) } ?? Deliverer.defaultDeadAfter
        let leaseText = outboxLease ?? environment("HSB_OUTBOX_LEASE")
        let leaseSeconds = try leaseText.map { try Deliverer.lease(parsing: $0) } ?? 30
        let stepWaitText = stepWait ?? environment("HSB_STEP_WAIT")
        let promptWait = try stepWaitText.map { try Deliverer.stepWait(parsing: $0) } ?? Deliverer.promptDeliveryWait
        let resolved = try options.resolve(for: .orchestrator)
        let tls = try TransportOptions.material(resolved.tls)
        let signer: RequestSigner
        if let tls {
            guard tls.agency == .orchestrator else {
                throw ConfigurationError(
                    "TLS: the orchestrator's certificate names \(tls.agency.name); it must name orchestrator (hsbctl pki issue orchestrator)")
            }
            signer = RequestSigner(agency: .orchestrator)
        } else {
            let secrets = try CredentialsLoader.load(file: resolved.credentialsFile)
            let signingSecret: AgencySecret
            if let text = environment("HSB_SIGNING_SECRET") {
                guard let secret = AgencySecret(hex: text) else { throw ConfigurationError("HSB_SIGNING_SECRET must be at least 64 hex digits") }
                signingSecret = secret
            } else if let secret = secrets[.orchestrator] {
                signingSecret = secret
            } else {
                throw ConfigurationError(
                    "the orchestrator needs its own signing secret: set HSB_SIGNING_SECRET or an 'orchestrator' line in the credentials file")
            }
            signer = RequestSigner(agency: .orchestrator, secret: signingSecret)
        }
        var clients: [String: RPCClient] = [:]
        for endpoint in endpoints {
            // Each agency service must present its own agency's certificate.
            let agency = ServiceDescriptor.all.first { $0.name == endpoint.name }?.agency
            clients[endpoint.name] = RPCClient(
                configuration: RPCClientConfiguration(host: endpoint.host, port: endpoint.port, retry: .none, tls: tls, expectedAgency: agency),
                signer: signer, group: MultiThreadedEventLoopGroup.singleton)
        }
        let box = Mutex<Deliverer?>(nil)
        let agencyClients = clients
        try await ServiceMain.run(
            .orchestrator, options: options,
            handlers: { resources in
                let deliverer = Deliverer(
                    resources: resources, clients: agencyClients, maxFailuresAfterSend: failuresBeforeDead,
                    idempotencyWindowDays: resolved.idempotencyWindowDays, leaseSeconds: leaseSeconds, promptWait: promptWait)
                box.withLock { $0 = deliverer }
                return OrchestratorService.handlers(resources, deliverer: deliverer)
            },
            extraProbes: { group in [AgencyReachability(endpoints: endpoints, group: group, tls: tls)] }, migrations: CaseTables.migrations,
            retentionTargets: CaseTables.retentionTargets, tls: tls, background: { box.withLock { $0 }.map { [$0] } ?? [] })
    }
}
