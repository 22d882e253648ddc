import Foundation
public import HSBWire

/// The agency methods a case event may be recorded through, and how to read their replies.
public enum EventMethods {
    /// Tasks an event completes when the agency accepts it (task id prefixes): a strategy meeting
    /// held completes the strategy meeting and discussion tasks; a conviction the prompt to refer;
    /// a MAPPA screening the MP-04 consideration it was asked for.
    public static let completedByMethod: [String: [String]] = [
        "hsb.intake.v1.Intake/RecordStrategyMeeting": [
            "SCR-08/strategy-meeting", "SCR-09/strategy-meeting", "SCR-09/immediate-protection", "SCR-07/strategy-discussion",
            "SCR-07/risk-discussion", "GEN-03/strategy-discussion",
        ],
        "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome": ["YJ-02/prompt-referral"],
        "hsb.mappa.v1.Mappa/Screen": ["MP-04/", "MP-02/"],
        "hsb.mappa.v1.Mappa/RecordLevel": ["MP-03/plan-review/"],
    ]

    /// Tasks a case event completes, by the kind intake recorded (and, for a review, by the plan
    /// reviewed: a risk-plan review never closes the child in need plan's, nor the reverse).
    public static let completedByCaseEvent: [String: [String]] = [
        "writtenFollowUpReceived": ["SCR-11/written-follow-up"],
        "workersAllocated": ["GEN-02/separate-workers"],
        "hsbMeeting": ["STR-05/hsb-meeting"],
        "reviewHeld/risk-management-plan": ["STR-06/risk-plan-review/"],
        "reviewHeld/child-in-need-plan": ["STR-06/cin-review/"],
        "panel": ["STR-08/panel/", "STR-08/agree-return-to-panel/", "STR-08/return-to-panel/"],
    ]

    /// The task id prefixes the delivered step completes: by its method, or for a case event by
    /// the kind in the reply and the plan named in the request the step carried.
    public static func completes(method: String, reply: [UInt8], request: [UInt8]) -> [String] {
        if method == "hsb.intake.v1.Intake/RecordCaseEvent" {
            guard let record = try? IntakeV1.CaseEventRecord(decoding: reply) else { return [] }
            if record.kind == "reviewHeld", let sent = try? IntakeV1.RecordCaseEventRequest(decoding: request) {
                return completedByCaseEvent["reviewHeld/\(sent.reviewedPlan)"] ?? []
            }
            return completedByCaseEvent[record.kind] ?? []
        }
        return completedByMethod[method] ?? []
    }

    public struct Entry: Sendable {
        public let service: String
        /// The request message the owning service takes: a payload that does not decode as it is
        /// refused before anything is written.
        public let request: any WireMessage.Type
        public let lawfulBasis: String
        /// The decision in the reply (its tasks become the case's deadlines) and a line for the chronology.
        public let read: @Sendable ([UInt8]) -> (Decision?, String)?
    }

    static let childrenAct = "Children Act 2004 (safeguarding)"
    static let crimeAndDisorder = "Crime and Disorder Act 1998 s115; Children Act 2004 (safeguarding)"

    static func plan(_ reply: [UInt8]) -> (Decision?, String)? {
        (try? YouthjusticeV1.PlanResult(decoding: reply)).map { ($0.decision, "\($0.event): \($0.decision?.outcome ?? "")") }
    }

    public static let table: [String: Entry] = [
        "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision": Entry(
            service: "youth-justice", request: YouthjusticeV1.RecordPoliceDecisionRequest.self, lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome": Entry(
            service: "youth-justice", request: YouthjusticeV1.RecordCourtOutcomeRequest.self, lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/ReferToPanel": Entry(
            service: "youth-justice", request: YouthjusticeV1.ReferToPanelRequest.self, lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/PlanRelease": Entry(
            service: "youth-justice", request: YouthjusticeV1.PlanReleaseRequest.self, lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.youthjustice.v1.YouthJustice/RecordAdmission": Entry(
            service: "youth-justice", request: YouthjusticeV1.RecordAdmissionRequest.self, lawfulBasis: crimeAndDisorder, read: plan),
        "hsb.intake.v1.Intake/RecordStrategyMeeting": Entry(
            service: "intake", request: IntakeV1.RecordStrategyMeetingRequest.self, lawfulBasis: childrenAct,
            read: { reply in (try? IntakeV1.MeetingRecord(decoding: reply)).map { ($0.decision, "strategy meeting: \($0.decision?.outcome ?? "")") } }
        ),
        "hsb.intake.v1.Intake/RecordCaseEvent": Entry(
            service: "intake", request: IntakeV1.RecordCaseEventRequest.self, lawfulBasis: childrenAct,
            read: { reply in (try? IntakeV1.CaseEventRecord(decoding: reply)).map { ($0.decision, "case event: \($0.kind)") } }),
        "hsb.mappa.v1.Mappa/Screen": Entry(
            service: "mappa", request: MappaV1.ScreenRequest.self, lawfulBasis: crimeAndDisorder,
            read: { reply in
                (try? MappaV1.ScreenResult(decoding: reply)).map { result in
                    (
                        Decision(outcome: "MAPPA screening", citations: result.citations),
                        "MAPPA screening: \(result.category == 0 ? "no category" : "category \(result.category)")\(result.outstanding.isEmpty ? "" : "; owed: \(result.outstanding.joined(separator: "; "))")"
                    )
                }
            }),
        "hsb.mappa.v1.Mappa/RecordLevel": Entry(
            service: "mappa", request: MappaV1.RecordLevelRequest.self, lawfulBasis: crimeAndDisorder,
            read: { reply in
                (try? MappaV1.LevelRecord(decoding: reply)).map { record in
                    let review = record.nextReview.map { "\($0.year)-\($0.month)-\($0.day)" } ?? "not set"
                    return (record.decision, "MAPPA level \(record.level); the risk management plan's next review by \(review)")
                }
            }),
        "hsb.camhs.v1.Camhs/Refer": Entry(
            service: "camhs", request: CamhsV1.ReferRequest.self, lawfulBasis: "Children Act 2004 (safeguarding); medical purposes",
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
