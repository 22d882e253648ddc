import ArgumentParser
import HSBServiceKit

@main
struct IntakeService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.intake.name,
        abstract: ServiceDescriptor.intake.summary,
        discussion: "Serves health and ops now; its domain methods arrive with the agency services.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceMain.run(.intake, options: options)
    }
}
