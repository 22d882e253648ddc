import ArgumentParser
import Foundation
import HSBContract
import HSBPractice
import HSBRuntime
import HSBWire

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
            switch CaseText.state(step) {
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

    func fileError(_ message: String) -> any Error {
        FileHandle.standardError.write(Data("hsbctl: \(message)\n".utf8))
        return ExitCode(64)
    }
}
