import ArgumentParser
import HSBServiceKit
import YouthJusticeService

@main
struct YouthJusticeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ServiceDescriptor.youthJustice.name,
        abstract: ServiceDescriptor.youthJustice.summary,
        discussion:
            "Methods: hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision, /RecordCourtOutcome, /ReferToPanel, /PlanRelease, /RecordAdmission, /GetPlans."
    )

    @OptionGroup var options: ServiceOptions
    @OptionGroup var procedure: ProcedureOptions

    func run() async throws {
        let (profile, calendar) = try procedure.resolve()
        try await ServiceMain.run(
            .youthJustice, options: options, handlers: { YouthJusticeService.handlers($0, profile: profile, calendar: calendar) },
            migrations: YouthJusticeService.migrations)
    }
}
