import ArgumentParser
import HSBServiceKit

@main
struct OrchestratorService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.orchestrator.name,
        abstract: ServiceDescriptor.orchestrator.summary,
        discussion: "Ready when its store is writable and every agency service answers its health check.")

    @OptionGroup var options: ServiceOptions

    @Option(
        name: .customLong("agency-endpoint"),
        help:
            "An agency service to route to, as name=host:port; repeat for each. Env: HSB_AGENCY_ENDPOINTS (comma-separated). Default: the four agency services on 127.0.0.1 at their default ports."
    )
    var agencyEndpoints: [String] = []

    func run() async throws {
        var texts = agencyEndpoints
        if texts.isEmpty, let env = environment("HSB_AGENCY_ENDPOINTS") {
            texts = env.split(separator: ",").map(String.init)
        }
        let endpoints =
            texts.isEmpty
            ? ServiceDescriptor.agencyServices.map { ServiceEndpoint(name: $0.name, host: "127.0.0.1", port: $0.defaultPort) }
            : try texts.map { try ServiceEndpoint(parsing: $0) }
        try await ServiceMain.run(
            .orchestrator, options: options,
            extraProbes: { group in
                [AgencyReachability(endpoints: endpoints, group: group)]
            })
    }
}
