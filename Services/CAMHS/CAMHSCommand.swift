import ArgumentParser
import CamhsService
import HSBServiceKit

@main
struct CAMHSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.camhs.name,
        abstract: ServiceDescriptor.camhs.summary)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceMain.run(.camhs, options: options, handlers: { CamhsService.handlers($0) }, migrations: CamhsService.migrations)
    }
}
