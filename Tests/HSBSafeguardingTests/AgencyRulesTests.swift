import HSBSafeguarding
import Testing

@Suite("Youth justice, MAPPA and CAMHS rules")
struct AgencyRulesTests {
    let planning = YouthJusticePlanning()

    func court(_ plea: Plea, age: Int = 15, referralOrder: Bool = false, camhs: Bool = false) throws -> WorkPlan {
        var facts = CourtFacts(recordedAt: monday, childSubjectID: "child-1", age: age, plea: plea)
        facts.referralOrder = referralOrder
        facts.camhsAssessmentCoversIssues = camhs
        return try planning.court(facts)
    }

    @Test("YJ-08 MP-04 INF-06: a guilty plea asks for 6-8 weeks, AssetPlus, a disposal proposal and an AIM plan, and MAPPA is considered")
    func guilty() throws {
        let plan = try court(.guilty, referralOrder: true)
        let ids = plan.tasks.map(\.id)
        for key in ["pre-sentence-report", "assetplus", "disposal-proposal", "intervention-plan", "referral-order-contract"] {
            #expect(ids.contains("YJ-08/\(key)/child-1"), "\(key)")
        }
        #expect(plan.tasks.first { $0.id == "YJ-08/pre-sentence-report/child-1" }?.due?.date == date("2027-01-11"), "8 weeks from 16 November 2026")
        #expect(ids.contains("MP-04/mappa-on-conviction/child-1"))
        #expect(!(try court(.guilty)).tasks.contains { $0.id == "YJ-08/referral-order-contract/child-1" }, "only with a referral order")
        #expect(plan.notifications.contains { $0.recipient == .contactService && $0.ruleID == "INF-06" })
    }

    @Test("YJ-08: a not guilty plea gets safety-planning advice and no HSB assessment yet")
    func notGuilty() throws {
        let plan = try court(.notGuilty)
        #expect(plan.tasks.map(\.id) == ["YJ-08/safety-planning/child-1"])
        #expect(!plan.citations.contains { $0.ruleID == "MP-04" })
    }

    @Test("YJ-09: a CAMHS assessment covering the issues may be offered in place of AIM")
    func camhsInPlaceOfAIM() throws {
        #expect(try court(.foundGuilty, camhs: true).tasks.contains { $0.id == "YJ-09/offer-camhs-assessment/child-1" })
        #expect(!(try court(.foundGuilty)).tasks.contains { $0.ruleID == "YJ-09" })
        #expect(throws: ScreeningInputError.self) { try court(.guilty, age: 18) }
    }

    @Test("YJ-10: the High Risk and Vulnerability Panel takes risk of serious harm or high vulnerability, and only those")
    func panel() {
        #expect(planning.panelReferral(childSubjectID: "c", riskOfSeriousHarm: false, highlyVulnerable: false) == nil)
        let plan = planning.panelReferral(childSubjectID: "c", riskOfSeriousHarm: false, highlyVulnerable: true)
        #expect(plan?.tasks.map(\.id) == ["YJ-10/panel-referral/c"])
        #expect(plan?.rationale.first?.contains("sexual health worker") == true)
        #expect(YouthJusticePlanning.panelMembership.count == 8)
    }

    @Test("YJ-11 MP-04: release on 12 March 2027: resettlement panel 3 months before, pre-release meeting 10 working days before")
    func release() {
        let plan = planning.release(
            childSubjectID: "c", date: date("2027-03-12"), concernsAboutOthers: true, siblingsOrChildrenAtRisk: true, movingIntoArea: false,
            knownAt: monday)
        func due(_ id: String) -> CivilDate? { plan.tasks.first { $0.id == id }?.due?.date }
        #expect(due("YJ-11/resettlement-panel/c") == date("2026-12-11"))
        #expect(due("YJ-11/pre-release-meeting/c") == date("2027-02-26"))
        #expect(due("YJ-11/social-care-referral/c") != nil)
        #expect(due("MP-04/mappa-before-release/c") == date("2027-02-26"))
        #expect(plan.notifications.contains { $0.recipient == .socialCare })
        #expect(plan.tasks.first { $0.id == "YJ-11/pre-release-meeting/c" }?.description.contains("social care invited") == true)
    }

    @Test("YJ-12: moving into the area gets the same planning; a Sunday month-before date moves to the Friday")
    func movingIn() {
        // 3 months before Monday 7 June 2027 is Sunday 7 March: the Friday before.
        let plan = planning.release(
            childSubjectID: "c", date: date("2027-06-07"), concernsAboutOthers: false, siblingsOrChildrenAtRisk: false, movingIntoArea: true,
            knownAt: monday)
        #expect(plan.citations.map(\.ruleID).starts(with: ["YJ-12", "YJ-11"]))
        #expect(plan.tasks.first { $0.id == "YJ-11/resettlement-panel/c" }?.due?.date == date("2027-03-05"))
        #expect(!plan.notifications.contains { $0.recipient == .socialCare })
    }

    @Test(
        "MP-02 MP-04: on conviction and before release, youth justice's internal screening and the panel discussion come first, dated where MP-04 is")
    func mappaOrderTasks() throws {
        let release = planning.release(
            childSubjectID: "c", date: date("2027-03-12"), concernsAboutOthers: false, siblingsOrChildrenAtRisk: false, movingIntoArea: false,
            knownAt: monday)
        for id in ["MP-02/internal-screening/c", "MP-02/hrvp-discussion/c"] {
            #expect(release.tasks.first { $0.id == id }?.due?.date == date("2027-02-26"), "\(id) by the MAPPA consideration before release")
        }
        var facts = CourtFacts(recordedAt: monday, childSubjectID: "c", age: 15, plea: .guilty)
        facts.referralOrder = false
        let court = try planning.court(facts)
        #expect(court.tasks.contains { $0.id == "MP-02/internal-screening/c" && $0.due == nil })
        #expect(court.rationale.contains { $0.contains("the procedure sets no timescale") && $0.hasSuffix("[MP-02]") })
    }

    @Test("YJ-12: a move known after the counted-back dates plans forward: those steps are due the day it became known, never created overdue")
    func movingInKnownLate() {
        // Known on Monday 16 November 2026; the young person arrives on Friday 27 November: three
        // months before and ten working days before have both passed.
        let plan = planning.release(
            childSubjectID: "c", date: date("2026-11-27"), concernsAboutOthers: false, siblingsOrChildrenAtRisk: false, movingIntoArea: true,
            knownAt: monday)
        #expect(!plan.tasks.isEmpty)
        for task in plan.tasks {
            #expect(task.due.map { $0.due >= monday } == true, "\(task.id) is created overdue")
            #expect(task.due?.date == date("2026-11-16"), "\(task.id) is due at once")
        }
        #expect(plan.rationale.contains { $0.contains("due at once") && $0.hasSuffix("[YJ-12]") })
        // A move known in good time keeps the counted-back dates.
        let early = planning.release(
            childSubjectID: "c", date: date("2027-06-07"), concernsAboutOthers: false, siblingsOrChildrenAtRisk: false, movingIntoArea: true,
            knownAt: monday)
        #expect(early.tasks.first { $0.id == "YJ-11/resettlement-panel/c" }?.due?.date == date("2027-03-05"))
        #expect(!early.rationale.contains { $0.contains("due at once") })
    }

    @Test("YJ-13: calderdale admission: 28 days' bail by default, assessment to panel before disposal; other profiles refuse")
    func admission() throws {
        let plan = try YouthJusticePlanning(profile: .calderdale).admission(
            childSubjectID: "c", admittedAt: monday, bailDays: nil, socialCareInvolvementEnds: true)
        let task = plan.tasks.first { $0.id == "YJ-13/assessment-to-panel/c" }
        #expect(task?.owner == .youthJustice)
        #expect(task?.due?.date == date("2026-12-14"))
        #expect(throws: ScreeningInputError.self) {
            try planning.admission(childSubjectID: "c", admittedAt: monday, bailDays: nil, socialCareInvolvementEnds: false)
        }
    }

    @Test("MP-01 MP-02: categories 1, 2 and 3 with reasons; an under-18 needs youth justice screening and the panel first")
    func mappaCategories() {
        var facts = MappaFacts(subjectID: "c", age: 16)
        facts.subjectToNotificationRequirements = true
        var screening = MappaRules.screen(facts)
        #expect(screening.category == .one)
        #expect(
            screening.outstanding == ["youth justice internal screening and risk assessment", "discussion at the High Risk and Vulnerability Panel"])
        #expect(screening.citations.map(\.ruleID) == ["MP-01", "MP-02"])
        facts = MappaFacts(subjectID: "c", age: 19)
        facts.onLicence = true
        facts.violentOffenceCustodyMonths = 12
        screening = MappaRules.screen(facts)
        #expect(screening.category == .two && screening.outstanding.isEmpty && screening.citations.map(\.ruleID) == ["MP-01"])
        facts.violentOffenceCustodyMonths = 11
        #expect(MappaRules.screen(facts).category == nil)
        facts.assessedRiskOfSeriousHarm = true
        #expect(MappaRules.screen(facts).category == .three)
    }

    @Test("MP-01: notification periods, halved under 18 except indefinite (12 months to life)")
    func notificationPeriods() {
        #expect(MappaRules.notificationPeriod(.imprisonmentForLifeOrAtLeast30Months, underEighteenOnRelevantDate: true) == .indefinite)
        #expect(MappaRules.notificationPeriod(.imprisonmentMonths(30), underEighteenOnRelevantDate: true) == .indefinite)
        #expect(MappaRules.notificationPeriod(.imprisonmentMonths(12), underEighteenOnRelevantDate: false) == .months(120))
        #expect(MappaRules.notificationPeriod(.imprisonmentMonths(12), underEighteenOnRelevantDate: true) == .months(60))
        #expect(MappaRules.notificationPeriod(.imprisonmentMonths(6), underEighteenOnRelevantDate: true) == .months(42))
        #expect(MappaRules.notificationPeriod(.caution, underEighteenOnRelevantDate: true) == .months(12))
        #expect(MappaRules.notificationPeriod(.conditionalDischarge(months: 18), underEighteenOnRelevantDate: true) == .months(9))
        #expect(MappaRules.notificationPeriod(.other, underEighteenOnRelevantDate: true).description == "30 months")
    }

    @Test("MH-01 MH-02 MH-04 MH-05: CAMHS intake, the known-child notification, its offer, and the AIM duplication prompt")
    func camhs() {
        #expect(CamhsRules.intake(ageAtReferral: 17, mentalHealthConcern: true, alreadyKnown: false).0 == .acceptReferral)
        #expect(
            CamhsRules.intake(ageAtReferral: 18, mentalHealthConcern: true, alreadyKnown: false).0
                == .decline("aged 18 at referral: CAMHS accepts children under 18"))
        #expect(CamhsRules.intake(ageAtReferral: 12, mentalHealthConcern: true, alreadyKnown: true).0 == .notifyTeam)
        #expect(CamhsRules.intake(ageAtReferral: 12, mentalHealthConcern: true, alreadyKnown: true).1.ruleID == "MH-02")
        #expect(CamhsRules.offers.count == 4)
        #expect(CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: true, aimAssessmentComplete: false)?.hasSuffix("[MH-05]") == true)
        #expect(CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: true, aimAssessmentComplete: true) == nil)
        #expect(CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: false, aimAssessmentComplete: false) == nil)
    }
}

@Suite("AIM assessment lifecycle")
struct AIMLifecycleTests {
    func start(route: CaseRoute = .concern, age: Int = 14, trained: Bool = true) throws -> AIMAssessment {
        try AIMRules.start(
            subjectID: "c", age: age, route: route, openToYouthJustice: false, leadAssessorTrained: trained, timescaleWeeks: 8, at: monday,
            profile: .gateshead, deadlines: DeadlineCalculator())
    }

    @Test("YJ-04 YJ-05: only trained assessors lead, only 12 to 17; the lead (GAT 3.3.2 here) and timescale come from the route")
    func starting() throws {
        let assessment = try start()
        #expect(assessment.lead == .socialCare && assessment.coWorker == .youthJustice)
        #expect(assessment.due.date == date("2027-01-11"))
        #expect(try start(route: .criminalJustice).lead == .youthJustice)
        #expect(
            throws: ScreeningInputError(problems: [
                "aged 11: an AIM assessment is for young people aged 12 to 17 (YJ-05)",
                "the lead assessor must be trained in AIM: only trained assessors lead (YJ-04)",
            ])
        ) { try start(age: 11, trained: false) }
    }

    @Test("YJ-04: the lead obtains consent and shares the report; the co-worker does neither")
    func leadDuties() throws {
        let assessment = try start()
        #expect(throws: ScreeningInputError(problems: ["the lead agency (social-care) obtains consent; the co-worker does not (YJ-04)"])) {
            try AIMRules.apply(.recordConsent(given: true), by: .youthJustice, to: assessment)
        }
        var next = try AIMRules.apply(.recordConsent(given: true), by: .socialCare, to: assessment)
        next = try AIMRules.apply(.completeReport(sections: Set(AIMReportSection.allCases)), by: .youthJustice, to: next)
        #expect(throws: ScreeningInputError.self) { try AIMRules.apply(.shareReport, by: .youthJustice, to: next) }
        #expect(try AIMRules.apply(.shareReport, by: .socialCare, to: next).stage == .reportShared)
    }

    @Test("YJ-05: it may proceed on best available information; the report must have every section")
    func denialAndSections() throws {
        var assessment = try AIMRules.apply(.recordConsent(given: false), by: .socialCare, to: try start())
        #expect(assessment.stage == .planned)
        assessment = try AIMRules.apply(.proceedWithoutEngagement, by: .youthJustice, to: assessment)
        #expect(assessment.stage == .underway && assessment.onBestAvailableInformation)
        #expect(
            throws: ScreeningInputError(problems: ["the report lacks: overview-of-the-aim3-model, author-and-date (YJ-05)"])
        ) {
            try AIMRules.apply(
                .completeReport(sections: [.details, .context, .aim3Assessment, .interventionAndSafetyPlanning, .conclusionAndRecommendations]),
                by: .socialCare, to: assessment)
        }
    }
}
