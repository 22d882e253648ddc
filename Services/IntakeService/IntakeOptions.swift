import HSBSafeguarding
public import HSBServiceKit

/// Reads intake's own settings, naming what is wrong.
public enum IntakeOptions {
    public static func resolve(procedure: ProcedureOptions, localAuthority: String?) throws -> IntakeConfiguration {
        let (profile, calendar) = try procedure.resolve()
        guard let localAuthority, !localAuthority.isEmpty else {
            throw ConfigurationError("--local-authority (or HSB_LOCAL_AUTHORITY) is required: the partnership's own local authority")
        }
        return IntakeConfiguration(profile: profile, localAuthority: localAuthority, calendar: calendar)
    }
}
