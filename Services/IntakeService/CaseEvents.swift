import Foundation
import HSBContract
public import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBStorage
public import HSBWire

extension IntakeService {
    /// Case events recorded against a referral (police decisions, plans, closures: SCR-13 on).
    static let caseEvents = ReplyTable<IntakeV1.CaseEventRecord>(
        kind: "case-event", table: "case_events", subjectMeans: "the referral's id", columns: [(.init("event", .text), { .text($0.kind) })])

    static func civil(_ date: CalendarDate?, _ field: String) throws(RPCError) -> CivilDate? {
        guard let date else { return nil }
        guard let civil = CivilDate(year: Int(date.year), month: Int(date.month), day: Int(date.day)) else {
            throw RPCError(.invalidArgument, "\(field) is not a date")
        }
        return civil
    }

    /// The rules' event for a wire request; INVALID_ARGUMENT naming what is missing.
    static func event(_ request: IntakeV1.RecordCaseEventRequest) throws(RPCError) -> CaseEvent {
        switch request.kind {
        case .unspecified:
            throw RPCError(.invalidArgument, "kind is unspecified")
        case .unrecognized(let value):
            throw RPCError.unrecognized("kind", value)
        case .writtenFollowUpReceived:
            return .writtenFollowUpReceived
        case .workersAllocated:
            var workers: [String: String] = [:]
            for allocation in request.workers { workers[allocation.subjectId] = allocation.socialWorker }
            return .workersAllocated(workers)
        case .conferenceOutcome:
            return .conferenceOutcome(
                childProtectionPlan: request.childProtectionPlan, concernsRemain: request.concernsRemain, heldOn: try civil(request.heldOn, "held_on")
            )
        case .hsbMeeting:
            return .hsbMeeting(
                HSBMeeting(
                    chronologyOfPresentingBehaviour: request.chronology,
                    assessmentTimetable: try civil(request.assessmentTimetable, "assessment_timetable"),
                    riskPlanForChild: request.riskPlanForChild, riskPlanForChildrenAtRisk: request.riskPlanForChildrenAtRisk,
                    rolesAllocated: request.rolesAllocated, leadSocialWorker: request.leadSocialWorker, heldOn: try civil(request.heldOn, "held_on")))
        case .reviewHeld:
            guard let plan = ReviewedPlan(rawValue: request.reviewedPlan) else {
                throw RPCError(.invalidArgument, "reviewed_plan must be risk-management-plan or child-in-need-plan")
            }
            return .reviewHeld(
                plan: plan, heldOn: try civil(request.heldOn, "held_on"), planAgreedOn: try civil(request.planAgreedOn, "plan_agreed_on"))
        case .closure:
            return .closure(
                Closure(
                    levelOfRisk: request.levelOfRisk, outcomesAchieved: request.outcomesAchieved, carersCapacity: request.carersCapacity,
                    ongoingSupport: request.ongoingSupport, agreedBy: request.agreedBy,
                    longTermMonitoringConsidered: request.longTermMonitoringConsidered))
        case .disagreement:
            return .disagreement(between: request.disagreementBetween, about: request.disagreementAbout)
        case .panel:
            guard let date = try civil(request.panelDate, "panel_date") else {
                throw RPCError(.invalidArgument, "panel_date is required for a panel listing")
            }
            return .panel(
                PanelListing(
                    assessmentFoundHSB: request.assessmentFoundHsb, meetingDate: date, minutesCirculatedTo: request.minutesCirculatedTo,
                    returnOn: try civil(request.panelReviewDate, "panel_review_date")))
        }
    }

    public func recordCaseEvent(_ request: IntakeV1.RecordCaseEventRequest, context: CallerContext) async throws -> IntakeV1.CaseEventRecord {
        let event = try Self.event(request)
        let caller = context.caller
        let now = resources.clock.nowUnixMillis()
        let kindName = String(describing: request.kind)
        let rules = events
        return try await resources.idempotentWrite(context, now: now) { tx throws(RecordStoreError) in
            guard let referralRecord = try tx.get(Self.referrals, id: request.referralId) else {
                throw .notFound(kind: Self.referrals.kind, id: request.referralId)
            }
            let child = referralRecord.subjectID
            let harmed = Self.subjectsOf(referralRecord).subtracting([child]).sorted()
            let plan: WorkPlan
            do throws(ScreeningInputError) {
                plan = try rules.record(event, childSubjectID: child, personsHarmed: harmed, at: Instant(unixMillis: now))
            } catch {
                throw .refused(.invalidArgument, error.problems.joined(separator: "; "))
            }
            let id = ServiceResources.newID("event")
            let record = IntakeV1.CaseEventRecord(
                recordId: id, referralId: request.referralId, kind: kindName,
                decision: DecisionWire.decision(plan, outcome: kindName, subjects: [child] + harmed), version: 1)
            try tx.insert(
                Self.caseEvents.table, id: id, subjectID: request.referralId,
                values: try Self.caseEvents.values(record, recordedBy: caller.agency.name))
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Self.caseEvents.table.kind, recordID: id,
                purpose: context.purpose.isEmpty ? kindName : context.purpose, requestID: String(context.requestID))
            return record
        }
    }
}
