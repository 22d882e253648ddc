import ArgumentParser
import HSBSafeguarding
import HSBServiceKit
import IntakeService

@main
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.intake.name,
        abstract: ServiceDescriptor.intake.summary,
        discussion: "Methods: hsb.intake.v1.Intake/SubmitReferral, /GetReferral, /Consult.")

    @OptionGroup var options: ServiceOptions

    @Option(help: "The procedure profile: camden, islington, gateshead, llr or calderdale. Env: HSB_PROFILE. Default: camden.")
    var profile: String?

    @Option(name: .customLong("profile-file"), help: "A partnership's own profile file (see README). Env: HSB_PROFILE_FILE. Overrides --profile.")
    var profileFile: String?

    @Option(name: .customLong("local-authority"), help: "This partnership's local authority, e.g. Camden. Env: HSB_LOCAL_AUTHORITY. Required.")
    var localAuthority: String?

    @Option(
        name: .customLong("bank-holidays-file"),
        help: "Bank holiday changes beyond the built-in table ('add|remove YYYY-MM-DD name' lines). Env: HSB_BANK_HOLIDAYS_FILE.")
    var bankHolidaysFile: String?

    func run() async throws {
        let configuration = try IntakeOptions.resolve(
            profile: profile ?? environment("HSB_PROFILE"), profileFile: profileFile ?? environment("HSB_PROFILE_FILE"),
            localAuthority: localAuthority ?? environment("HSB_LOCAL_AUTHORITY"),
            bankHolidaysFile: bankHolidaysFile ?? environment("HSB_BANK_HOLIDAYS_FILE"))
        try await ServiceMain.run(.intake, options: options, handlers: { IntakeService.handlers($0, configuration) })
    }
}
