public import ArgumentParser
public import HSBSafeguarding

/// The procedure profile and the working-day calendar a service decides with.
public enum ProcedureSettings {
    /// From a profile name or file and an optional bank-holiday override file; errors name the file, line and reason.
    public static func resolve(profile: String?, profileFile: String?, bankHolidaysFile: String?) throws -> (ProcedureProfile, WorkingDayCalendar) {
        let chosen: ProcedureProfile
        if let profileFile {
            guard let text = readFile(profileFile) else { throw ConfigurationError("cannot read profile file \(profileFile)") }
            chosen = try ProcedureProfile.parse(text, source: profileFile)
        } else if let profile {
            guard let named = ProcedureProfile.named(profile) else {
                throw ConfigurationError("no profile '\(profile)'; known: \(ProcedureProfile.builtIn.map(\.name).joined(separator: ", "))")
            }
            chosen = named
        } else {
            chosen = .camden
        }
        var holidays = EnglandAndWalesHolidays()
        if let bankHolidaysFile {
            guard let text = readFile(bankHolidaysFile) else { throw ConfigurationError("cannot read bank holidays file \(bankHolidaysFile)") }
            holidays = EnglandAndWalesHolidays(overrides: try EnglandAndWalesHolidays.parseOverrides(text, source: bankHolidaysFile))
        }
        return (chosen, WorkingDayCalendar(holidays: holidays))
    }
}

/// The procedure options the deciding services share.
public struct ProcedureOptions: ParsableArguments {
    @Option(help: "The procedure profile: camden, islington, gateshead, llr or calderdale. Env: HSB_PROFILE. Default: camden.")
    public var profile: String?

    @Option(name: .customLong("profile-file"), help: "A partnership's own profile file (see README). Env: HSB_PROFILE_FILE. Overrides --profile.")
    public var profileFile: String?

    @Option(
        name: .customLong("bank-holidays-file"),
        help: "Bank holiday changes beyond the built-in table ('add|remove YYYY-MM-DD name' lines). Env: HSB_BANK_HOLIDAYS_FILE.")
    public var bankHolidaysFile: String?

    public init() {}

    public func resolve() throws -> (ProcedureProfile, WorkingDayCalendar) {
        try ProcedureSettings.resolve(
            profile: profile ?? environment("HSB_PROFILE"), profileFile: profileFile ?? environment("HSB_PROFILE_FILE"),
            bankHolidaysFile: bankHolidaysFile ?? environment("HSB_BANK_HOLIDAYS_FILE"))
    }
}
