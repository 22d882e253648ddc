import ArgumentParser
import HSBServiceKit

@main
struct YouthJusticeService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.youthJustice.name,
        abstract: ServiceDescriptor.youthJustice.summary,
        discussion: "Serves health and ops now; its domain methods arrive with the agency services.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceMain.run(.youthJustice, options: options)
    }
}
