import Foundation
import HSBWire

/// The agency methods a case event may be recorded through, and how to read their replies.
enum EventMethods {
    /// Tasks an event completes when the agency accepts it: a strategy meeting held completes the
    /// strategy meeting and discussion tasks; case events complete the tasks they answer.
    static func completes(method: String, reply: [UInt8]) -> [String] {
        switch method {
        case "hsb.intake.v1.Intake/RecordStrategyMeeting":
            return [
                "SCR-08/strategy-meeting", "SCR-09/strategy-meeting", "SCR-09/immediate-protection", "SCR-07/strategy-discussion",
                "SCR-07/risk-discussion", "GEN-03/strategy-discussion",
            ]
        case "hsb.intake.v1.Intake/RecordCaseEvent":
            guard let record = try? IntakeV1.CaseEventRecord(decoding: reply) else { return [] }
            switch record.kind {
            case "writtenFollowUpReceived": return ["SCR-11/written-follow-up"]
            case "workersAllocated": return ["GEN-02/separate-workers"]
            case "hsbMeeting": return ["STR-05/hsb-meeting"]
            case "reviewHeld": return ["STR-06/"]
            default: return []
            }
        case "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome":
            return ["YJ-02/prompt-referral"]
        case "hsb.mappa.v1.Mappa/Screen":
            // MP-04: a screening recorded at MAPPA is the consideration the task asked for.
            return ["MP-04/"]
        default:
            return []
        }
    }

    struct Entry: Sendable {
        let service: String
        let lawfulBasis: String
        /// The decision in the reply (its tasks become the case's deadlines) and a line for the chronology.
        let read: @Sendable ([UInt8]) -> (Decision?, String)?
    }

    static let childrenAct = "Children Act 2004 (safeguarding)"
    static let crimeAndDisorder = "Crime and Disorder Act 1998 s115; Children Act 2004 (safeguarding)"

    static func plan(_ reply: [UInt8]) -> (Decision?, String)? {
        (try? YouthjusticeV1.PlanResult(decoding: reply)).map { ($0.decision, "\($0.event): \($0.decision?.outcome ?? "")") }
    }

    static let table: [String: Entry] = [
        "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision": Entry(service: "youth-justice", lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome": Entry(service: "youth-justice", lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/ReferToPanel": Entry(service: "youth-justice", lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/PlanRelease": Entry(service: "youth-justice", lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/RecordAdmission": Entry(service: "youth-justice", lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.intake.v1.Intake/RecordStrategyMeeting": Entry(
            service: "intake", lawfulBasis: childrenAct,
            read: { reply in (try? IntakeV1.MeetingRecord(decoding: reply)).map { ($0.decision, "strategy meeting: \($0.decision?.outcome ?? "")") } }
        ),
        "hsb.intake.v1.Intake/RecordCaseEvent": Entry(
            service: "intake", lawfulBasis: childrenAct,
            read: { reply in (try? IntakeV1.CaseEventRecord(decoding: reply)).map { ($0.decision, "case event: \($0.kind)") } }),
        "hsb.mappa.v1.Mappa/Screen": Entry(
            service: "mappa", lawfulBasis: crimeAndDisorder,
            read: { reply in
                (try? MappaV1.ScreenResult(decoding: reply)).map { result in
                    (
                        Decision(outcome: "MAPPA screening", citations: result.citations),
                        "MAPPA screening: \(result.category == 0 ? "no category" : "category \(result.category)")\(result.outstanding.isEmpty ? "" : "; owed: \(result.outstanding.joined(separator: "; "))")"
                    )
                }
            }),
        "hsb.camhs.v1.Camhs/Refer": Entry(
            service: "camhs", lawfulBasis: "Children Act 2004 (safeguarding); medical purposes",
            read: { reply in
                (try? CamhsV1.ReferralOutcome(decoding: reply)).map { outcome in
                    (
                        Decision(outcome: outcome.outcome, citations: outcome.citation.map { [$0] } ?? []),
                        "CAMHS referral: \(outcome.outcome) (\(outcome.reason))"
                    )
                }
            }),
    ]
}
