import ArgumentParser
import HSBServiceKit
import IntakeService

@main
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.intake.name,
        abstract: ServiceDescriptor.intake.summary,
        discussion: "Methods: hsb.intake.v1.Intake/SubmitReferral, /GetReferral, /Consult.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var procedure: ProcedureOptions

    @Option(name: .customLong("local-authority"), help: "This partnership's local authority, e.g. Camden. Env: HSB_LOCAL_AUTHORITY. Required.")
    var localAuthority: String?

    func run() async throws {
        let configuration = try IntakeOptions.resolve(procedure: procedure, localAuthority: localAuthority ?? environment("HSB_LOCAL_AUTHORITY"))
        try await ServiceMain.run(
            .intake, options: options, handlers: { IntakeService.handlers($0, configuration) }, migrations: IntakeService.migrations)
    }
}
