import HSBContract
public import HSBWire

/// An event a practitioner records on a case, and the agency method it reaches through the
/// orchestrator: `hsbctl event` and the workspace's forms record the same events.
public struct EventKind: Sendable {
    public let method: String
    public let summary: String
    /// Reads the event's JSON as the method's request; the error names the field.
    public let read: @Sendable (JSONValue) throws(WireError) -> [UInt8]
    /// The request names the intake referral; the client fills it from the case when left out.
    public let takesReferralID: Bool

    public init<M: WireMessage, Reply: WireMessage>(_ method: MethodDescriptor<M, Reply>, _ summary: String, takesReferralID: Bool = false) {
        self.method = method.fullName
        self.summary = summary
        self.takesReferralID = takesReferralID
        self.read = { (json) throws(WireError) in try ProtoJSON.decode(M.self, from: json).encoded() }
    }

    /// Every event a case may record (docs/EVENT_JSON.md): the orchestrator relays each one.
    public static let all: [String: EventKind] = [
        "strategy-meeting": EventKind(
            IntakeV1.Intake.Method.recordStrategyMeeting,
            "an HSB strategy meeting held and what it decided (STR-01 to STR-04)", takesReferralID: true),
        "case-event": EventKind(
            IntakeV1.Intake.Method.recordCaseEvent,
            "written follow-up, workers allocated, conference outcome, HSB meeting, review, closure, disagreement, panel", takesReferralID: true),
        "police-decision": EventKind(
            YouthjusticeV1.YouthJustice.Method.recordPoliceDecision,
            "a police decision (YJ-02, YJ-14)"),
        "court-outcome": EventKind(
            YouthjusticeV1.YouthJustice.Method.recordCourtOutcome,
            "a plea or finding (YJ-08, YJ-09, MP-04)"),
        "panel-referral": EventKind(
            YouthjusticeV1.YouthJustice.Method.referToPanel,
            "a referral to the High Risk and Vulnerability Panel"),
        "release": EventKind(
            YouthjusticeV1.YouthJustice.Method.planRelease,
            "a release from custody or a move into the area"),
        "admission": EventKind(
            YouthjusticeV1.YouthJustice.Method.recordAdmission, "an admission to custody or bail"),
        "mappa-screening": EventKind(
            MappaV1.Mappa.Method.screen, "a MAPPA screening after youth justice's own (MP-01, MP-02, MP-04)"),
        "mappa-level": EventKind(
            MappaV1.Mappa.Method.recordLevel,
            "the level of management MAPPA set and the risk management plan's next review (MP-03)"),
        "camhs-referral": EventKind(CamhsV1.Camhs.Method.refer, "a referral to CAMHS (MH-01, MH-02)"),
    ]
}
