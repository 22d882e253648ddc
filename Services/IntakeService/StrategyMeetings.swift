import Foundation
import HSBContract
public import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBStorage
public import HSBWire

extension IntakeService {
    /// Strategy meetings held (STR-01 to STR-07), each about a referral.
    static let meetings = ReplyTable<IntakeV1.MeetingRecord>(
        kind: "strategy-meeting", table: "strategy_meetings", subjectMeans: "the referral's id",
        columns: [(.init("outcome", .text), { .text($0.decision?.outcome ?? "") })])

    static let outcomes: [IntakeV1.StrategyOutcome: StrategyOutcome] = [
        .noFurtherAction: .noFurtherAction, .diversionPlan: .diversionPlan, .section47Joint: .section47Joint,
        .section47Single: .section47Single, .immediateLegalAction: .immediateLegalAction, .followUpMeeting: .followUpMeeting,
    ]

    /// STR-01 to STR-04, STR-09, INF-07: records a strategy meeting about children of a stored
    /// referral, checked against the procedure, with the work it sets going.
    public func recordStrategyMeeting(_ request: IntakeV1.RecordStrategyMeetingRequest, context: CallerContext) async throws -> IntakeV1.MeetingRecord
    {
        let caller = context.caller
        let now = resources.clock.nowUnixMillis()
        guard request.outcome.isRecognized else { throw RPCError.unrecognized("outcome", request.outcome.rawValue) }
        guard let outcome = Self.outcomes[request.outcome] else { throw RPCError(.invalidArgument, "outcome is unspecified") }
        var followUp: CivilDate?
        if let date = request.followUpDate {
            guard let civil = CivilDate(year: Int(date.year), month: Int(date.month), day: Int(date.day)) else {
                throw RPCError(.invalidArgument, "follow_up_date is not a date")
            }
            followUp = civil
        }
        var aimLead: LeadAgency?
        if !request.aimLead.isEmpty {
            guard let lead = LeadAgency(rawValue: request.aimLead) else {
                throw RPCError(.invalidArgument, "aim_lead must be \(LeadAgency.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            aimLead = lead
        }
        // The meeting's deadlines count from the day it was held, as recorded; never a future day.
        var heldAt = Instant(unixMillis: now)
        if let heldOn = try Self.civil(request.heldOn, "held_on") {
            let today = LondonTime.date(of: heldAt)
            guard heldOn <= today else { throw RPCError(.invalidArgument, "held_on \(heldOn) is in the future; record a meeting that was held") }
            if heldOn < today { heldAt = LondonTime.endOfDay(heldOn) }
        }
        var meeting = StrategyMeeting(
            subjectIDs: request.subjectIds, heldAt: heldAt, chairRole: request.chairRole,
            invitees: request.invitees.map {
                Invitee(
                    role: $0.role, attended: $0.attended, writtenReport: $0.writtenReport,
                    pupilSubjectID: $0.pupilSubjectId.isEmpty ? nil : $0.pupilSubjectId)
            },
            outcome: outcome, significantHarm: request.significantHarm, safetyPlanAgreed: request.safetyPlanAgreed,
            aimAppropriate: request.aimAppropriate,
            mappaReferralConsidered: request.mappaReferralConsidered, exploitationReferralConsidered: request.exploitationReferralConsidered)
        meeting.followUpDate = followUp
        meeting.aimLead = aimLead
        meeting.aimTimescaleWeeks = request.aimTimescaleWeeks > 0 ? Int(request.aimTimescaleWeeks) : nil
        meeting.manyChildren = request.manyChildren
        // GEN-03: whether the child displaying HSB is under 10, from the referral's own record.
        let store = resources.store
        let referralID = request.referralId
        let stored = try await resources.blocking {
            try store.snapshot(now: now) { tx throws(RecordStoreError) in try tx.get(Self.referrals, id: referralID) }
        }
        if let stored, let child = Self.referral(of: stored)?.child, let birth = CivilDate(wire: child.dateOfBirth) {
            meeting.childUnderTen = AgeRules.belowCriminalResponsibility(age: birth.age(on: LondonTime.date(of: heldAt)))
        }
        let plan: WorkPlan
        plan = try meetings.record(meeting)
        let id = ServiceResources.newID("meeting")
        let result = IntakeV1.MeetingRecord(
            recordId: id, referralId: request.referralId,
            decision: DecisionWire.decision(plan, outcome: outcome.rawValue, subjects: request.subjectIds), version: 1)
        return try await resources.idempotentWrite(context, now: now) { tx throws(RecordStoreError) in
            guard let referral = try tx.get(Self.referrals, id: request.referralId) else {
                throw .notFound(kind: Self.referrals.kind, id: request.referralId)
            }
            let subjects = Self.subjectsOf(referral)
            if let stranger = request.subjectIds.first(where: { !subjects.contains($0) }) {
                throw .notFound(kind: "subject of \(request.referralId)", id: stranger)
            }
            try tx.insert(
                Self.meetings.table, id: id, subjectID: request.referralId, values: try Self.meetings.values(result, recordedBy: caller.agency.name))
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Self.meetings.table.kind, recordID: id,
                purpose: context.purpose.isEmpty ? "strategy meeting" : context.purpose, requestID: String(context.requestID))
            return result
        }
    }

    /// The subject ids a stored referral is about: the child and each person harmed.
    static func subjectsOf(_ record: TableRow) -> Set<String> {
        guard let referral = referral(of: record) else { return [record.subjectID] }
        return Set([referral.child?.subjectID].compactMap { $0 } + referral.personsHarmed.compactMap { $0.subject?.subjectID })
    }
}
