import ArgumentParser
import HSBServiceKit
import MappaService

@main
struct MAPPACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.mappa.name,
        abstract: ServiceDescriptor.mappa.summary)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceMain.run(.mappa, options: options, handlers: { MappaService.handlers($0) }, migrations: MappaService.migrations)
    }
}
