import ArgumentParser
import HSBServiceKit

@main
struct CAMHSService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.camhs.name,
        abstract: ServiceDescriptor.camhs.summary,
        discussion: "Serves health and ops now; its domain methods arrive with the agency services.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceMain.run(.camhs, options: options)
    }
}
