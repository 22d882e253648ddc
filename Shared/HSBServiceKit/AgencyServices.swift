public import HSBRuntime
public import HSBWire

/// What distinguishes one of the suite's executables: its name, the agency it runs for, the
/// wire service it hosts, its default ports, and which agencies may call it. Data, not branches.
public struct ServiceDescriptor: Sendable, Hashable {
    /// The executable and store name, e.g. `youth-justice`.
    public var name: String
    public var agency: Agency
    /// The protobuf service hosted, e.g. `hsb.youthjustice.v1.YouthJustice`.
    public var wireService: String
    public var defaultPort: Int
    public var defaultOpsPort: Int
    /// Agencies that may call this service's domain methods.
    public var callers: Set<Agency>
    /// One line on what the service is for, shown in `--help`.
    public var summary: String
}

extension ServiceDescriptor {
    public static let intake = ServiceDescriptor(
        name: "intake", agency: .socialCare, wireService: "hsb.intake.v1.Intake",
        defaultPort: 7101, defaultOpsPort: 7201,
        callers: [.orchestrator, .socialCare, .police, .education, .health, .youthJustice, .camhs],
        summary: "Children's social care contact service and MASH: referrals and screening.")
    public static let youthJustice = ServiceDescriptor(
        name: "youth-justice", agency: .youthJustice, wireService: "hsb.youthjustice.v1.YouthJustice",
        defaultPort: 7102, defaultOpsPort: 7202,
        callers: [.orchestrator, .youthJustice, .police, .socialCare],
        summary: "Youth justice: police decisions, AIM assessments, court and custody release planning.")
    public static let camhs = ServiceDescriptor(
        name: "camhs", agency: .camhs, wireService: "hsb.camhs.v1.Camhs",
        defaultPort: 7103, defaultOpsPort: 7203,
        callers: [.orchestrator, .camhs, .socialCare, .youthJustice, .health, .education],
        summary: "CAMHS: referrals, consultations and the AIM duplication prompt.")
    public static let mappa = ServiceDescriptor(
        name: "mappa", agency: .mappa, wireService: "hsb.mappa.v1.Mappa",
        defaultPort: 7104, defaultOpsPort: 7204,
        callers: [.orchestrator, .mappa, .youthJustice],
        summary: "MAPPA coordinator: screening, levels, plans and need-to-know disclosure.")
    public static let orchestrator = ServiceDescriptor(
        name: "orchestrator", agency: .orchestrator, wireService: "hsb.orchestrator.v1.Orchestrator",
        defaultPort: 7100, defaultOpsPort: 7200,
        callers: [.socialCare, .youthJustice, .camhs, .mappa, .police, .education, .health],
        summary: "The partnership's orchestrator: routes each case through its pathway and keeps every deadline.")

    /// The four agency services, in the order the suite starts them.
    public static let agencyServices: [ServiceDescriptor] = [.intake, .youthJustice, .camhs, .mappa]
    /// Every service of the suite.
    public static let all: [ServiceDescriptor] = agencyServices + [.orchestrator]
}

/// Who may do each act that the orchestrator can relay for an agency: one table, read by the
/// service that owns the act (its method's policy, for direct and relayed calls alike) and by
/// the orchestrator (which refuses up front what the owner would refuse). Data, not branches.
public enum RelayedActs {
    /// Each relayable method and the agencies that may do it themselves.
    public static let actors: [String: Set<Agency>] = [
        // Only the police, or youth justice, record a police decision (YJ-01, YJ-02).
        "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision": [.police, .youthJustice],
        "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome": [.youthJustice, .police, .socialCare],
        "hsb.youthjustice.v1.YouthJustice/ReferToPanel": [.youthJustice, .police, .socialCare],
        "hsb.youthjustice.v1.YouthJustice/PlanRelease": [.youthJustice, .police, .socialCare],
        "hsb.youthjustice.v1.YouthJustice/RecordAdmission": [.youthJustice, .police, .socialCare],
        // Social care chairs the strategy meeting and records the case's events (STR-01).
        "hsb.intake.v1.Intake/RecordStrategyMeeting": [.socialCare],
        "hsb.intake.v1.Intake/RecordCaseEvent": [.socialCare],
        // Youth justice screens first for an under-18 (MP-02); MAPPA screens its own.
        "hsb.mappa.v1.Mappa/Screen": [.mappa, .youthJustice],
        // MAPPA sets the level and the plan's reviews (MP-03).
        "hsb.mappa.v1.Mappa/RecordLevel": [.mappa],
        "hsb.camhs.v1.Camhs/Refer": [.camhs, .socialCare, .youthJustice, .health, .education],
    ]

    /// The policy of a relayable method at the service that owns it: its actors, and the
    /// orchestrator, which relays for them (and may act for itself, e.g. the CAMHS route it opens).
    public static func policy(_ method: String) -> AccessPolicy {
        .agencies((actors[method] ?? []).union([.orchestrator]))
    }

    /// Whether `agency` may do `method`, directly or through the orchestrator.
    public static func permits(_ agency: Agency, _ method: String) -> Bool {
        actors[method]?.contains(agency) ?? false
    }
}
