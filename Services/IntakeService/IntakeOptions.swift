import HSBSafeguarding
import HSBServiceKit

/// Reads intake's own settings, naming what is wrong.
public enum IntakeOptions {
    public static func resolve(
        profile: String?, profileFile: String?, localAuthority: String?, bankHolidaysFile: String?
    ) throws
        -> IntakeConfiguration
    {
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
        guard let localAuthority, !localAuthority.isEmpty else {
            throw ConfigurationError("--local-authority (or HSB_LOCAL_AUTHORITY) is required: the partnership's own local authority")
        }
        var holidays = EnglandAndWalesHolidays()
        if let bankHolidaysFile {
            guard let text = readFile(bankHolidaysFile) else { throw ConfigurationError("cannot read bank holidays file \(bankHolidaysFile)") }
            holidays = EnglandAndWalesHolidays(overrides: try EnglandAndWalesHolidays.parseOverrides(text, source: bankHolidaysFile))
        }
        return IntakeConfiguration(profile: chosen, localAuthority: localAuthority, calendar: WorkingDayCalendar(holidays: holidays))
    }
}
