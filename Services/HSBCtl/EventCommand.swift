import ArgumentParser
import Foundation
import HSBContract
import HSBRuntime
import HSBWire

/// An event a practitioner records on a case, and the agency method it reaches through the orchestrator.
struct EventKind: Sendable {
    let method: String
    let summary: String
    /// Reads the event's JSON as the method's request.
    let read: @Sendable (JSONValue) throws(WireError) -> [UInt8]
    /// The request names the intake referral; hsbctl fills it from the case when the file leaves it out.
    let takesReferralID: Bool

    init<M: WireMessage, Reply: WireMessage>(_ method: MethodDescriptor<M, Reply>, _ summary: String, takesReferralID: Bool = false) {
        self.method = method.fullName
        self.summary = summary
        self.takesReferralID = takesReferralID
        self.read = { (json) throws(WireError) in try ProtoJSON.decode(M.self, from: json).encoded() }
    }

    /// Every event `hsbctl event` records (docs/EVENT_JSON.md): the orchestrator relays each one.
    static let all: [String: EventKind] = [
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

/// Records any case event from a JSON file through the orchestrator.
struct Event: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record an event on a case from a JSON file; the orchestrator relays it to the agency that owns it.",
        discussion: """
            The file names the event and carries the agency request's fields by their proto names (docs/EVENT_JSON.md):
              {"event": "court-outcome", "young_person": {"subject_id": "c-1", "date_of_birth": "2011-04-02"}, "plea": "guilty"}
            Events: \(EventKind.all.keys.sorted().joined(separator: ", ")).
            Exits 0 when recorded (an agency that is down receives it later), 1 when a service refused it, 64 when the file
            is wrong (the field is named).
            """)

    @Argument(help: "The case id.") var caseID: String
    @Argument(help: "The event file, or - for standard input.") var file: String
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data else { throw fileError("cannot read \(file)") }
        guard case .object(var members)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw fileError("\(file) is not a JSON object")
        }
        guard case .string(let name)? = members.removeValue(forKey: "event") else {
            throw fileError("\(file): event is required: one of \(EventKind.all.keys.sorted().joined(separator: ", "))")
        }
        guard let kind = EventKind.all[name] else {
            throw fileError("\(file): event \(ProtoJSON.quotedExcerpt(name)) is not one of \(EventKind.all.keys.sorted().joined(separator: ", "))")
        }
        let client = try caller.client()
        let purpose = caller.purposeText.isEmpty ? name : caller.purposeText
        if kind.takesReferralID, members["referral_id"] == nil {
            let view = try await runCall {
                try await client.getCase(OrchestratorV1.GetCaseRequest(caseId: caseID), options: CallOptions(purpose: purpose))
            }
            guard let referralID = view.screening?.referralId, !referralID.isEmpty else {
                throw fileError("\(file): referral_id is required: case \(caseID) has not been screened yet")
            }
            members["referral_id"] = .string(referralID)
        }
        let payload: [UInt8]
        do {
            payload = try kind.read(.object(members))
        } catch {
            throw fileError("\(file): \(error)")
        }
        let view = try await runCall {
            try await client.recordEvent(
                try caller.recordEvent(caseID: caseID, method: kind.method, payload: payload), options: CallOptions(purpose: purpose))
        }
        print(CasePrinter.render(view, json: json))
        // The orchestrator tries the agency at once; its refusal is on the case, and is this command's outcome too.
        if let step = view.steps.first(where: { $0.stepId == view.stepId }) {
            // `state`, or for an orchestrator of the previous release (which has none) its text.
            let state = step.state != .unspecified ? step.state : (Self.previousStates[step.status] ?? .unspecified)
            switch state {
            case .refused:
                FileHandle.standardError.write(Data("hsbctl: \(step.service) refused the \(name): \(step.lastError)\n".utf8))
                throw ExitCode(1)
            case .pending:
                FileHandle.standardError.write(
                    Data(
                        "hsbctl: recorded; \(step.service) has not received it yet and the orchestrator keeps trying\(step.lastError.isEmpty ? "" : " (\(step.lastError))")\n"
                            .utf8))
            default:
                break
            }
        }
    }

    static let previousStates: [String: OrchestratorV1.StepStatus] = ["refused": .refused, "pending": .pending, "dead": .dead]

    func fileError(_ message: String) -> any Error {
        FileHandle.standardError.write(Data("hsbctl: \(message)\n".utf8))
        return ExitCode(64)
    }
}
