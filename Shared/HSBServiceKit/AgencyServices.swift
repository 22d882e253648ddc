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
        name: "intake", agency: .socialCare, wireService: IntakeV1.Intake.name,
        defaultPort: 7101, defaultOpsPort: 7201,
        callers: [.orchestrator, .socialCare, .police, .education, .health, .youthJustice, .camhs],
        summary: "Children's social care contact service and MASH: referrals and screening.")
    public static let youthJustice = ServiceDescriptor(
        name: "youth-justice", agency: .youthJustice, wireService: YouthjusticeV1.YouthJustice.name,
        defaultPort: 7102, defaultOpsPort: 7202,
        callers: [.orchestrator, .youthJustice, .police, .socialCare],
        summary: "Youth justice: police decisions, AIM assessments, court and custody release planning.")
    public static let camhs = ServiceDescriptor(
        name: "camhs", agency: .camhs, wireService: CamhsV1.Camhs.name,
        defaultPort: 7103, defaultOpsPort: 7203,
        callers: [.orchestrator, .camhs, .socialCare, .youthJustice, .health, .education],
        summary: "CAMHS: referrals, consultations and the AIM duplication prompt.")
    public static let mappa = ServiceDescriptor(
        name: "mappa", agency: .mappa, wireService: MappaV1.Mappa.name,
        defaultPort: 7104, defaultOpsPort: 7204,
        callers: [.orchestrator, .mappa, .youthJustice],
        summary: "MAPPA coordinator: screening, levels, plans and need-to-know disclosure.")
    public static let orchestrator = ServiceDescriptor(
        name: "orchestrator", agency: .orchestrator, wireService: OrchestratorV1.Orchestrator.name,
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
        YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName: [.police, .youthJustice],
        YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName: [.youthJustice, .police, .socialCare],
        YouthjusticeV1.YouthJustice.Method.referToPanel.fullName: [.youthJustice, .police, .socialCare],
        YouthjusticeV1.YouthJustice.Method.planRelease.fullName: [.youthJustice, .police, .socialCare],
        YouthjusticeV1.YouthJustice.Method.recordAdmission.fullName: [.youthJustice, .police, .socialCare],
        // Social care chairs the strategy meeting and records the case's events (STR-01).
        IntakeV1.Intake.Method.recordStrategyMeeting.fullName: [.socialCare],
        IntakeV1.Intake.Method.recordCaseEvent.fullName: [.socialCare],
        // Youth justice screens first for an under-18 (MP-02); MAPPA screens its own.
        MappaV1.Mappa.Method.screen.fullName: [.mappa, .youthJustice],
        // MAPPA sets the level and the plan's reviews (MP-03).
        MappaV1.Mappa.Method.recordLevel.fullName: [.mappa],
        CamhsV1.Camhs.Method.refer.fullName: [.camhs, .socialCare, .youthJustice, .health, .education],
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

/// Who may call each method of a service: the relayable acts by ``RelayedActs``, the methods named
/// in `overrides` by their own policy, every other method by the service's callers.
public struct MethodPolicies: Sendable {
    public let callers: Set<Agency>
    public let overrides: [String: AccessPolicy]

    public init(callers: Set<Agency>, overrides: [String: AccessPolicy] = [:]) {
        self.callers = callers
        self.overrides = overrides
    }

    public func policy(for method: String) -> AccessPolicy {
        if let policy = overrides[method] { return policy }
        if RelayedActs.actors[method] != nil { return RelayedActs.policy(method) }
        return .agencies(callers)
    }
}
