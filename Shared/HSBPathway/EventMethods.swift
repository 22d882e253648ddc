import Foundation
public import HSBWire

/// The agency methods a case event may be recorded through, and how to read their replies.
public enum EventMethods {
    /// The kinds of task an event completes when the agency accepts it: a strategy meeting held
    /// completes the strategy meeting and discussion tasks; a conviction the prompt to refer; a
    /// MAPPA screening the consideration and the steps MP-02 puts before it; a MAPPA level the
    /// plan review it answers.
    public static let completedByMethod: [String: [TaskKind]] = [
        IntakeV1.Intake.Method.recordStrategyMeeting.fullName: [
            TaskKind("SCR-08", "strategy-meeting"), TaskKind("SCR-09", "strategy-meeting"), TaskKind("SCR-09", "immediate-protection"),
            TaskKind("SCR-07", "strategy-discussion"), TaskKind("SCR-07", "risk-discussion"), TaskKind("GEN-03", "strategy-discussion"),
            TaskKind("STR-03", "separate-strategy-meeting"),
        ],
        YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName: [TaskKind("YJ-02", "prompt-referral")],
        MappaV1.Mappa.Method.screen.fullName: [TaskKind("MP-04"), TaskKind("MP-02")],
        MappaV1.Mappa.Method.recordLevel.fullName: [TaskKind("MP-03", "plan-review")],
    ]

    /// The kinds of task a case event completes, by its kind.
    public static let completedByCaseEvent: [IntakeV1.CaseEventKind: [TaskKind]] = [
        .writtenFollowUpReceived: [TaskKind("SCR-11", "written-follow-up")],
        .workersAllocated: [TaskKind("GEN-02", "separate-workers")],
        .hsbMeeting: [TaskKind("STR-05", "hsb-meeting")],
        .panel: [TaskKind("STR-08", "panel"), TaskKind("STR-08", "agree-return-to-panel"), TaskKind("STR-08", "return-to-panel")],
    ]

    /// A review completes only its own plan's review: a risk-plan review never closes the child in
    /// need plan's, nor the reverse (STR-06).
    public static let completedByReview: [String: [TaskKind]] = [
        "risk-management-plan": [TaskKind("STR-06", "risk-plan-review")],
        "child-in-need-plan": [TaskKind("STR-06", "cin-review")],
    ]

    /// The kinds of task the delivered step completes: by its method, or for a case event by the
    /// kind (and reviewed plan) of the request the step carried, once the agency accepted it.
    public static func completes(method: String, reply: [UInt8], request: [UInt8]) -> [TaskKind] {
        if method == IntakeV1.Intake.Method.recordCaseEvent.fullName {
            guard (try? IntakeV1.CaseEventRecord(decoding: reply)) != nil, let sent = try? IntakeV1.RecordCaseEventRequest(decoding: request)
            else { return [] }
            if sent.kind == .reviewHeld { return completedByReview[sent.reviewedPlan] ?? [] }
            return completedByCaseEvent[sent.kind] ?? []
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
        YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName: Entry(
            service: "youth-justice", request: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.erased.request, lawfulBasis: crimeAndDisorder,
            read: plan),
        YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName: Entry(
            service: "youth-justice", request: YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.erased.request, lawfulBasis: crimeAndDisorder,
            read: plan),
        YouthjusticeV1.YouthJustice.Method.referToPanel.fullName: Entry(
            service: "youth-justice", request: YouthjusticeV1.YouthJustice.Method.referToPanel.erased.request, lawfulBasis: crimeAndDisorder,
            read: plan),
        YouthjusticeV1.YouthJustice.Method.planRelease.fullName: Entry(
            service: "youth-justice", request: YouthjusticeV1.YouthJustice.Method.planRelease.erased.request, lawfulBasis: crimeAndDisorder,
            read: plan),
        YouthjusticeV1.YouthJustice.Method.recordAdmission.fullName: Entry(
            service: "youth-justice", request: YouthjusticeV1.YouthJustice.Method.recordAdmission.erased.request, lawfulBasis: crimeAndDisorder,
            read: plan),
        IntakeV1.Intake.Method.recordStrategyMeeting.fullName: Entry(
            service: "intake", request: IntakeV1.Intake.Method.recordStrategyMeeting.erased.request, lawfulBasis: childrenAct,
            read: { reply in (try? IntakeV1.MeetingRecord(decoding: reply)).map { ($0.decision, "strategy meeting: \($0.decision?.outcome ?? "")") } }
        ),
        IntakeV1.Intake.Method.recordCaseEvent.fullName: Entry(
            service: "intake", request: IntakeV1.Intake.Method.recordCaseEvent.erased.request, lawfulBasis: childrenAct,
            read: { reply in (try? IntakeV1.CaseEventRecord(decoding: reply)).map { ($0.decision, "case event: \($0.kind)") } }),
        MappaV1.Mappa.Method.screen.fullName: Entry(
            service: "mappa", request: MappaV1.Mappa.Method.screen.erased.request, lawfulBasis: crimeAndDisorder,
            read: { reply in
                (try? MappaV1.ScreenResult(decoding: reply)).map { result in
                    (
                        Decision(outcome: "MAPPA screening", citations: result.citations),
                        "MAPPA screening: \(result.category == 0 ? "no category" : "category \(result.category)")\(result.outstanding.isEmpty ? "" : "; owed: \(result.outstanding.joined(separator: "; "))")"
                    )
                }
            }),
        MappaV1.Mappa.Method.recordLevel.fullName: Entry(
            service: "mappa", request: MappaV1.Mappa.Method.recordLevel.erased.request, lawfulBasis: crimeAndDisorder,
            read: { reply in
                (try? MappaV1.LevelRecord(decoding: reply)).map { record in
                    let review = record.nextReview.map { "\($0.year)-\($0.month)-\($0.day)" } ?? "not set"
                    return (record.decision, "MAPPA level \(record.level); the risk management plan's next review by \(review)")
                }
            }),
        CamhsV1.Camhs.Method.refer.fullName: Entry(
            service: "camhs", request: CamhsV1.Camhs.Method.refer.erased.request, lawfulBasis: "Children Act 2004 (safeguarding); medical purposes",
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
