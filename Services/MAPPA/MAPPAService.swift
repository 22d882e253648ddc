import ArgumentParser
import HSBServiceKit

@main
struct MAPPAService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.mappa.name,
        abstract: ServiceDescriptor.mappa.summary,
        discussion: "Serves health and ops now; its domain methods arrive with the agency services.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceMain.run(.mappa, options: options)
    }
}
