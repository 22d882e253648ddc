import ArgumentParser
import Foundation
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

    init<M: WireMessage>(_ method: String, _ type: M.Type, _ summary: String, takesReferralID: Bool = false) {
        self.method = method
        self.summary = summary
        self.takesReferralID = takesReferralID
        self.read = { (json) throws(WireError) in try ProtoJSON.decode(M.self, from: json).encoded() }
    }

    /// Every event `hsbctl event` records (docs/EVENT_JSON.md): the orchestrator relays each one.
    static let all: [String: EventKind] = [
        "strategy-meeting": EventKind(
            "hsb.intake.v1.Intake/RecordStrategyMeeting", IntakeV1.RecordStrategyMeetingRequest.self,
            "an HSB strategy meeting held and what it decided (STR-01 to STR-04)", takesReferralID: true),
        "case-event": EventKind(
            "hsb.intake.v1.Intake/RecordCaseEvent", IntakeV1.RecordCaseEventRequest.self,
            "written follow-up, workers allocated, conference outcome, HSB meeting, review, closure, disagreement, panel", takesReferralID: true),
        "police-decision": EventKind(
            "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision", YouthjusticeV1.RecordPoliceDecisionRequest.self,
            "a police decision (YJ-02, YJ-14)"),
        "court-outcome": EventKind(
            "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome", YouthjusticeV1.RecordCourtOutcomeRequest.self,
            "a plea or finding (YJ-08, YJ-09, MP-04)"),
        "panel-referral": EventKind(
            "hsb.youthjustice.v1.YouthJustice/ReferToPanel", YouthjusticeV1.ReferToPanelRequest.self,
            "a referral to the High Risk and Vulnerability Panel"),
        "release": EventKind(
            "hsb.youthjustice.v1.YouthJustice/PlanRelease", YouthjusticeV1.PlanReleaseRequest.self,
            "a release from custody or a move into the area"),
        "admission": EventKind(
            "hsb.youthjustice.v1.YouthJustice/RecordAdmission", YouthjusticeV1.RecordAdmissionRequest.self, "an admission to custody or bail"),
        "mappa-screening": EventKind(
            "hsb.mappa.v1.Mappa/Screen", MappaV1.ScreenRequest.self, "a MAPPA screening after youth justice's own (MP-01, MP-02, MP-04)"),
        "mappa-level": EventKind(
            "hsb.mappa.v1.Mappa/RecordLevel", MappaV1.RecordLevelRequest.self,
            "the level of management MAPPA set and the risk management plan's next review (MP-03)"),
        "camhs-referral": EventKind("hsb.camhs.v1.Camhs/Refer", CamhsV1.ReferRequest.self, "a referral to CAMHS (MH-01, MH-02)"),
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
                try await client.call(
                    "hsb.orchestrator.v1.Orchestrator/GetCase", OrchestratorV1.GetCaseRequest(caseId: caseID), as: OrchestratorV1.CaseView.self,
                    purpose: purpose)
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
            try await client.call(
                "hsb.orchestrator.v1.Orchestrator/RecordEvent",
                OrchestratorV1.RecordEventRequest(caseId: caseID, method: kind.method, payload: payload),
                as: OrchestratorV1.CaseView.self, purpose: purpose)
        }
        print(CasePrinter.render(view, json: json))
        // The orchestrator tries the agency at once; its refusal is on the case, and is this command's outcome too.
        if let step = view.steps.first(where: { $0.stepId == view.stepId }) {
            switch step.status {
            case "refused":
                FileHandle.standardError.write(Data("hsbctl: \(step.service) refused the \(name): \(step.lastError)\n".utf8))
                throw ExitCode(1)
            case "pending":
                FileHandle.standardError.write(
                    Data("hsbctl: recorded; \(step.service) has not received it yet and it will be retried (\(step.lastError))\n".utf8))
            default:
                break
            }
        }
    }

    func fileError(_ message: String) -> any Error {
        FileHandle.standardError.write(Data("hsbctl: \(message)\n".utf8))
        return ExitCode(64)
    }
}
