import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBServiceTesting
import HSBWire
import Testing
import YouthJusticeService

func startYouthJustice(_ store: TestStore, profile: ProcedureProfile = .camden) async throws -> TestServiceHost {
    try await TestServiceHost.start(.youthJustice, store: store, migrations: YouthJusticeService.migrations) {
        YouthJusticeService.handlers($0, profile: profile, calendar: WorkingDayCalendar())
    }
}

func youngPerson(age: Int, subject: String = "yp-1") -> YouthjusticeV1.YoungPerson {
    YouthjusticeV1.YoungPerson(
        subjectId: subject, dateOfBirth: CalendarDate(year: 2026 - Int32(age), month: 1, day: 1),
        behaviourDate: CalendarDate(year: 2026, month: 6, day: 1))
}

@Suite("Youth justice over loopback, on SQLite and PostgreSQL")
struct YouthJusticeServiceTests {
    @Test(
        "YJ-02 YJ-04 INF-06: a charge opens the criminal justice route, youth justice leads AIM, and the plan is stored",
        arguments: TestStore.allCases)
    func charge(_ store: TestStore) async throws {
        let server = try await startYouthJustice(store)
        let police = server.client(.police)
        let result = try await police.call(
            YouthjusticeV1.YouthJustice.Method.recordPoliceDecision,
            YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: youngPerson(age: 15), decision: .charge),
            options: CallOptions(idempotencyKey: "charge-1"))
        #expect(result.decision?.routes == ["criminal-justice"])
        #expect(result.aimLead == "youth-justice" && result.aimCoWorker == "social-care")
        #expect(result.decision?.citations.map(\.ruleID).starts(with: ["YJ-02", "INF-06"]) == true)
        #expect(result.decision?.notices.contains { $0.agency == .youthJustice && $0.ruleID == "YJ-02" } == true)
        let again = try await police.call(
            YouthjusticeV1.YouthJustice.Method.recordPoliceDecision,
            YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: youngPerson(age: 15), decision: .charge),
            options: CallOptions(idempotencyKey: "charge-1"))
        #expect(again == result)
        #expect(try server.records("youth-justice-plan", subjectID: "yp-1").count == 1)
        let plans = try await server.client(.socialCare).call(
            YouthjusticeV1.YouthJustice.Method.getPlans, YouthjusticeV1.GetPlansRequest(subjectId: "yp-1"),
            options: CallOptions(purpose: "strategy meeting"))
        #expect(plans.plans == [result])
        #expect(try server.accessLog("youth-justice-plan", recordID: result.recordId).map(\.action) == [.write, .read])
        await server.stop()
    }

    @Test(
        "YJ-14 GEN-03: no further action with concerns remaining goes to the concern route; under 10 the police cannot charge",
        arguments: TestStore.allCases)
    func concernsAndAges(_ store: TestStore) async throws {
        let server = try await startYouthJustice(store)
        let police = server.client(.police)
        let concern = try await police.call(
            YouthjusticeV1.YouthJustice.Method.recordPoliceDecision,
            YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: youngPerson(age: 13), decision: .noFurtherAction, concernsRemain: true))
        // Camden's own seed: the youth service leads an AIM assessment on the concern route (CAM 9.2).
        #expect(concern.decision?.routes == ["concern"] && concern.aimLead == "youth-justice" && concern.aimCoWorker == "social-care")
        await #expect(throws: RPCError(.invalidArgument, "a child aged 9 is below the age of criminal responsibility: the police cannot charge")) {
            try await police.call(
                YouthjusticeV1.YouthJustice.Method.recordPoliceDecision,
                YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: youngPerson(age: 9), decision: .charge))
        }
        await #expect(
            throws: RPCError(.invalidArgument, "request payload: missing required field: hsb.youthjustice.v1.RecordPoliceDecisionRequest.decision")
        ) {
            try await police.call(
                YouthjusticeV1.YouthJustice.Method.recordPoliceDecision, YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: youngPerson(age: 14))
            )
        }
        #expect(try server.records("youth-justice-plan", subjectID: "yp-1").count == 1, "only the valid decision was stored")
        await server.stop()
    }

    @Test("YJ-08 YJ-10 YJ-11: court, panel and release plans with their deadlines", arguments: TestStore.allCases)
    func courtPanelRelease(_ store: TestStore) async throws {
        let server = try await startYouthJustice(store)
        let yj = server.client(.youthJustice)
        let court = try await yj.call(
            YouthjusticeV1.YouthJustice.Method.recordCourtOutcome,
            YouthjusticeV1.RecordCourtOutcomeRequest(youngPerson: youngPerson(age: 16), plea: .guilty, referralOrder: true))
        #expect(court.decision?.tasks.contains { $0.taskID == "YJ-08/referral-order-contract/yp-1" } == true)
        #expect(court.decision?.tasks.contains { $0.taskID == "MP-04/mappa-on-conviction/yp-1" } == true)
        await #expect(throws: RPCError.self) {
            try await yj.call(
                YouthjusticeV1.YouthJustice.Method.referToPanel, YouthjusticeV1.ReferToPanelRequest(youngPerson: youngPerson(age: 16)))
        }
        let panel = try await yj.call(
            YouthjusticeV1.YouthJustice.Method.referToPanel,
            YouthjusticeV1.ReferToPanelRequest(youngPerson: youngPerson(age: 16), riskOfSeriousHarm: true))
        #expect(panel.decision?.citations.map(\.ruleID) == ["YJ-10"])
        let release = try await yj.call(
            YouthjusticeV1.YouthJustice.Method.planRelease,
            YouthjusticeV1.PlanReleaseRequest(
                youngPerson: youngPerson(age: 16), date: CalendarDate(year: 2027, month: 3, day: 12), concernsAboutOthers: true))
        let meeting = release.decision?.tasks.first { $0.taskID == "YJ-11/pre-release-meeting/yp-1" }
        #expect(meeting?.deadline?.kind == .workingDaysBefore && meeting?.deadline?.description == "10 working days before, by 2027-02-26")
        // INF-04: a school or health caller cannot read youth justice detail.
        for agency in [Agency.education, .health] {
            await #expect(throws: RPCError(.permissionDenied, "agency \(agency.name) may not call hsb.youthjustice.v1.YouthJustice/GetPlans")) {
                try await server.client(agency).call(
                    YouthjusticeV1.YouthJustice.Method.getPlans, YouthjusticeV1.GetPlansRequest(subjectId: "yp-1"), options: CallOptions(purpose: "x")
                )
            }
        }
        #expect(try server.records("youth-justice-plan", subjectID: "yp-1").count == 3)
        await server.stop()
    }

    @Test("YJ-13: the panel admission exists only where the profile has an HSB panel", arguments: TestStore.allCases)
    func admission(_ store: TestStore) async throws {
        let camden = try await startYouthJustice(store)
        await #expect(throws: RPCError(.invalidArgument, "the camden profile has no HSB panel, so there is no panel admission route (YJ-13)")) {
            try await camden.client(.youthJustice).call(
                YouthjusticeV1.YouthJustice.Method.recordAdmission, YouthjusticeV1.RecordAdmissionRequest(youngPerson: youngPerson(age: 15)))
        }
        await camden.stop()
        let calderdale = try await startYouthJustice(store, profile: .calderdale)
        let plan = try await calderdale.client(.youthJustice).call(
            YouthjusticeV1.YouthJustice.Method.recordAdmission, YouthjusticeV1.RecordAdmissionRequest(youngPerson: youngPerson(age: 15), bailDays: 14)
        )
        #expect(plan.decision?.rationale.contains("bailed for 14 days") == true)
        await calderdale.stop()
    }
}

@Suite("AIM assessments over loopback: versions, lead duties, the report")
struct AIMAssessmentServiceTests {
    @Test("YJ-04 YJ-05: an AIM assessment moves on step by step; a stale version is refused and changes nothing", arguments: TestStore.allCases)
    func lifecycle(_ store: TestStore) async throws {
        let server = try await startYouthJustice(store)
        let social = server.client(.socialCare)
        let yj = server.client(.youthJustice)
        let started = try await social.call(
            YouthjusticeV1.YouthJustice.Method.startAIMAssessment,
            YouthjusticeV1.StartAIMAssessmentRequest(
                youngPerson: youngPerson(age: 14), route: "concern", leadAssessorTrained: true, timescaleWeeks: 8))
        // Under Camden the youth service leads on the concern route (CAM 9.2); social care co-works.
        #expect(started.lead == "youth-justice" && started.coWorker == "social-care" && started.stage == "planned" && started.version == 1)
        func update(
            _ client: RPCClient, _ version: Int64, _ action: YouthjusticeV1.AIMAction, consent: Bool = false, sections: [String] = []
        )
            async throws -> YouthjusticeV1.AIMRecord
        {
            try await client.call(
                YouthjusticeV1.YouthJustice.Method.updateAIMAssessment,
                YouthjusticeV1.UpdateAIMAssessmentRequest(
                    recordId: started.recordId, expectedVersion: version, action: action, consentGiven: consent, reportSections: sections))
        }
        await #expect(throws: RPCError(.failedPrecondition, "the lead agency (youth-justice) obtains consent; the co-worker does not (YJ-04)")) {
            try await update(social, 1, .recordConsent, consent: true)
        }
        let consented = try await update(yj, 1, .recordConsent, consent: true)
        #expect(consented.version == 2 && consented.consent == "given" && consented.stage == "underway")
        await #expect(
            throws: RPCError(
                .aborted,
                "aim-assessment \(started.recordId) changed since it was read (your version 1, now 2); read it again and reapply your change")
        ) {
            try await update(social, 1, .proceedWithoutEngagement)
        }
        await #expect(throws: RPCError.self) { try await update(social, 2, .completeReport, sections: ["details", "context"]) }
        let all = AIMRecordSections.all
        let complete = try await update(social, 2, .completeReport, sections: all)
        #expect(complete.version == 3 && complete.stage == "report-complete" && complete.reportSections == all)
        let shared = try await update(yj, 3, .shareReport)
        #expect(shared.stage == "report-shared" && shared.version == 4)
        let log = try server.accessLog("aim-assessment", recordID: started.recordId)
        #expect(log.map(\.agency) == ["social-care", "youth-justice", "social-care", "youth-justice"])
        await #expect(throws: RPCError(.permissionDenied, "agency police may not call hsb.youthjustice.v1.YouthJustice/StartAIMAssessment")) {
            try await server.client(.police).call(
                YouthjusticeV1.YouthJustice.Method.startAIMAssessment,
                YouthjusticeV1.StartAIMAssessmentRequest(
                    youngPerson: youngPerson(age: 14), route: "concern", leadAssessorTrained: true, timescaleWeeks: 8))
        }
        await server.stop()
    }

    @Test("YJ-04 YJ-05: an untrained lead or a child of 11 cannot start one", arguments: TestStore.allCases)
    func refusedStart(_ store: TestStore) async throws {
        let server = try await startYouthJustice(store)
        await #expect(
            throws: RPCError(
                .invalidArgument,
                "aged 11: an AIM assessment is for young people aged 12 to 17 (YJ-05); the lead assessor must be trained in AIM: only trained assessors lead (YJ-04)"
            )
        ) {
            try await server.client(.socialCare).call(
                YouthjusticeV1.YouthJustice.Method.startAIMAssessment,
                YouthjusticeV1.StartAIMAssessmentRequest(youngPerson: youngPerson(age: 11), route: "concern", timescaleWeeks: 8))
        }
        #expect(try server.records("aim-assessment", subjectID: "yp-1").isEmpty)
        await server.stop()
    }
}

enum AIMRecordSections {
    static let all = [
        "details", "context", "overview-of-the-aim3-model", "aim3-assessment", "intervention-and-safety-planning", "conclusion-and-recommendations",
        "author-and-date",
    ]
}
