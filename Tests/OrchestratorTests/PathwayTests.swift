import Foundation
import HSBPathway
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBWire
import IntakeService
import Testing

@testable import OrchestratorService

@Suite("The pathway through the orchestrator, end to end", .timeLimit(.minutes(2)))
struct PathwayEndToEndTests {
    @Test("GEN-01 GEN-02 STR-03: the child harmed gets a case of their own, with their threshold and work, linked both ways; need to know holds")
    func personHarmedHasAPathway() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let social = orchestrator.server.client(.socialCare)
        let opened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let link = try #require(opened.linked.first)
        #expect(opened.role == "child-displaying-hsb")
        #expect(link.subjectId == "harmed-1" && link.role == "person-harmed" && link.threshold == "child protection")
        #expect(opened.screening?.harmedChildren.map(\.subjectId) == ["harmed-1"])
        // The harmed child's work is on their case, not on the other child's.
        #expect(!opened.deadlines.contains { $0.taskId.hasSuffix("/harmed-1") })
        let harmed = try await social.call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: link.caseId),
            options: CallOptions(purpose: "allocation"))
        #expect(harmed.role == "person-harmed" && harmed.childSubjectId == "harmed-1")
        #expect(harmed.linked.map(\.caseId) == [opened.caseId])
        #expect(harmed.deadlines.contains { $0.taskId == "GEN-01/own-assessment/harmed-1" })
        #expect(harmed.deadlines.contains { $0.taskId == "STR-03/separate-strategy-meeting/harmed-1" })
        #expect(harmed.chronology.contains { $0.ruleIds == ["GEN-01", "GEN-02"] && $0.what.contains(opened.caseId) })
        // A school sees neither child's link to the other.
        let school = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: opened.caseId), options: CallOptions(purpose: "pupil"))
        #expect(school.linked.isEmpty && school.withheld.contains("the linked case of the other child"))
        #expect(school.steps.isEmpty && !opened.steps.isEmpty, "a school is not shown the steps sent to intake")
        // A second referral about the same children joins both open cases; no third case.
        _ = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        #expect(try orchestrator.cases(ofChild: "harmed-1").count == 1)
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("SCR-10: a returned referral keeps no personal data in the orchestrator: not on the case, not in the step, not in the index")
    func returnedReferralKeepsNothing() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        var incomplete = referral()
        incomplete.behaviours = [IntakeV1.Behaviour(catalogueId: "brook/13-17/amber/3")]
        incomplete.significantHarmSuspected = false
        incomplete.incidentDetails = ""
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: incomplete))
        #expect(view.status == "returned-incomplete" && view.screening == nil)
        #expect(view.chronology.last?.what == "Returned to the referrer: the referral lacks details of the incident")
        let stored = try #require(try orchestrator.cases(ofChild: "child-1").first)
        #expect(stored.referrals.isEmpty && stored.identity.isEmpty)
        let steps = try orchestrator.steps(ofCase: view.caseId)
        #expect(!steps.isEmpty && steps.allSatisfy { $0.payload.isEmpty })
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("STR-06: recording one plan's review never closes another's; each review is scheduled from the plan's own dates")
    func reviewsKeepTheirOwnSchedules() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let social = orchestrator.server.client(.socialCare)
        let opened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let referralID = try #require(opened.screening?.referralId)
        func event(_ request: IntakeV1.RecordCaseEventRequest) async throws -> OrchestratorV1.CaseView {
            try await social.call(
                OrchestratorV1.Orchestrator.Method.recordEvent,
                OrchestratorV1.RecordEventRequest(
                    caseId: opened.caseId, method: IntakeV1.Intake.Method.recordCaseEvent.fullName, payload: try request.encoded()),
                options: CallOptions(purpose: "case event"))
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London")!
        func civil(_ date: Date) -> CalendarDate {
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return CalendarDate(year: Int32(parts.year!), month: Int32(parts.month!), day: Int32(parts.day!))
        }
        // The plan was agreed at the HSB meeting three months ago; its first review is held today.
        let today = civil(Date())
        let agreedOn = civil(calendar.date(byAdding: .month, value: -3, to: Date())!)
        let heldOn = agreedOn
        _ = try await event(IntakeV1.RecordCaseEventRequest(referralId: referralID, kind: .conferenceOutcome, concernsRemain: true))
        let afterMeeting = try await event(
            IntakeV1.RecordCaseEventRequest(
                referralId: referralID, kind: .hsbMeeting, chronology: true,
                assessmentTimetable: CalendarDate(year: heldOn.year + 1, month: 1, day: 15),
                riskPlanForChild: true, riskPlanForChildrenAtRisk: true, rolesAllocated: true, leadSocialWorker: "J. Okoro", heldOn: heldOn))
        func open(_ prefix: String, in view: OrchestratorV1.CaseView) -> [OrchestratorV1.DeadlineEntry] {
            view.deadlines.filter { $0.taskId.hasPrefix(prefix) && $0.status != "done" }
        }
        #expect(open("STR-06/cin-review/", in: afterMeeting).count == 1)
        #expect(open("STR-06/risk-plan-review/", in: afterMeeting).count == 1)
        let firstRiskReview = try #require(open("STR-06/risk-plan-review/", in: afterMeeting).first)
        let afterReview = try await event(
            IntakeV1.RecordCaseEventRequest(
                referralId: referralID, kind: .reviewHeld, reviewedPlan: "risk-management-plan", heldOn: today, planAgreedOn: agreedOn))
        // The child in need review is untouched (it used to be closed by any review).
        #expect(open("STR-06/cin-review/", in: afterReview).count == 1)
        // The risk plan's review held: that one is done, and the next on its schedule is open.
        let risk = open("STR-06/risk-plan-review/", in: afterReview)
        #expect(risk.count == 1 && risk[0].dueUnixMs > firstRiskReview.dueUnixMs, "the 6-month review follows the 3-month one")
        #expect(
            afterReview.deadlines.contains { $0.taskId == firstRiskReview.taskId && $0.dueUnixMs == firstRiskReview.dueUnixMs && $0.status == "done" }
        )
        let sixMonths = calendar.date(byAdding: .month, value: 3, to: Date())!
        #expect(abs(Double(risk[0].dueUnixMs) / 1000 - sixMonths.timeIntervalSince1970) < 5 * 86_400, "6 months after the plan was agreed")
        await orchestrator.server.stop()
        await intake.stop()
    }
}
