import HSBSafeguarding
import Testing

@Suite("Routes after a police decision, and the AIM assessment's lead")
struct RoutesTests {
    let routing = PoliceDecisionRouting()

    func facts(
        _ decision: PoliceDecision, age: Int = 14, disposal: OutOfCourtDisposal? = nil, concerns: Bool = false, openToYJ: Bool = false
    ) -> PoliceDecisionFacts {
        PoliceDecisionFacts(
            decidedAt: monday, childSubjectID: "child-1", age: age, decision: decision, disposal: disposal, concernsRemain: concerns,
            openToYouthJustice: openToYJ)
    }

    @Test("YJ-02 INF-06: a charge or an out-of-court disposal opens the criminal justice route and youth justice is told")
    func criminalJusticeRoute() throws {
        for decision in [PoliceDecision.charge, .outOfCourtDisposal] {
            let result = try routing.route(facts(decision))
            #expect(result.routes == [.criminalJustice])
            #expect(result.notifications.contains { $0.recipient == .youthJustice && $0.ruleID == "YJ-02" })
            #expect(result.notifications.contains { $0.recipient == .contactService && $0.ruleID == "INF-06" })
        }
    }

    @Test("YJ-02: no further action does not open it; a long investigation is referred now")
    func noFurtherActionAndLongInvestigation() throws {
        #expect(try routing.route(facts(.noFurtherAction)).routes.isEmpty)
        let continuing = try routing.route(facts(.investigationContinuing))
        #expect(continuing.routes == [.criminalJustice])
        #expect(continuing.tasks.first { $0.id == "YJ-02/prompt-referral/child-1" }?.due?.date == date("2026-11-17"))
    }

    @Test("YJ-14: no further action with concerns remaining goes to the concern route and is rescreened")
    func concernsRemain() throws {
        let result = try routing.route(facts(.insufficientEvidence, concerns: true))
        #expect(result.routes == [.concern])
        #expect(result.tasks.contains { $0.id == "YJ-14/rescreen/child-1" })
    }

    @Test("YJ-06: released under investigation is offered a service")
    func releasedUnderInvestigation() throws {
        let result = try routing.route(facts(.releasedUnderInvestigation))
        #expect(result.tasks.contains { $0.id == "YJ-06/service-offer/child-1" })
    }

    @Test("YJ-07: an out-of-court disposal is decided at the police decision panel")
    func outOfCourt() throws {
        let result = try routing.route(facts(.outOfCourtDisposal, disposal: .youthConditionalCaution))
        #expect(result.tasks.contains { $0.id == "YJ-07/decision-panel/child-1" })
        #expect(result.rationale.contains { $0.contains("youth conditional caution") })
        #expect(throws: ScreeningInputError.self) { try routing.route(facts(.charge, disposal: .triage)) }
    }

    @Test("GEN-03 YJ-01: at 9 the police cannot charge; youth justice works with 10 to 17")
    func ages() throws {
        #expect(throws: ScreeningInputError(problems: ["a child aged 9 is below the age of criminal responsibility: the police cannot charge"])) {
            try routing.route(facts(.charge, age: 9))
        }
        let underTen = try routing.route(facts(.noFurtherAction, age: 9))
        #expect(underTen.citations.map(\.ruleID) == ["GEN-03"])
        // GEN-03: a police decision about an under-10 opens no route by itself (it used to open child protection).
        #expect(underTen.routes.isEmpty && underTen.aim == nil && underTen.tasks.isEmpty && underTen.notifications.isEmpty)
        #expect(try routing.route(facts(.charge, age: 10)).routes == [.criminalJustice])
        #expect(try routing.route(facts(.charge, age: 17)).routes == [.criminalJustice])
        #expect(throws: ScreeningInputError(problems: ["aged 18: youth justice works with young people aged 10 to 17 (YJ-01)"])) {
            try routing.route(facts(.charge, age: 18))
        }
        #expect(!AgeRules.inYouthJusticeRange(age: 9) && AgeRules.inYouthJusticeRange(age: 10))
        #expect(AgeRules.inYouthJusticeRange(age: 17) && !AgeRules.inYouthJusticeRange(age: 18))
    }

    @Test("YJ-04 YJ-13: the AIM lead and co-worker follow each profile's own seed, on each route, and the decision cites it")
    func aimLead() throws {
        // (profile, criminal justice lead, concern route lead, source cited on the concern route)
        let table: [(ProcedureProfile, LeadAgency, LeadAgency, String)] = [
            (.camden, .youthJustice, .youthJustice, "CAM 9.2"),
            (.islington, .youthJustice, .socialCare, "GAT 3.3.2 (this procedure names none)"),
            (.gateshead, .youthJustice, .socialCare, "GAT 3.3.2"),
            (.llr, .youthJustice, .joint, "LLR 15"),
            (.calderdale, .socialCare, .socialCare, "GAT 3.3.2 (this procedure names none)"),
        ]
        for (profile, criminal, concern, source) in table {
            let routing = PoliceDecisionRouting(profile: profile)
            let charged = try #require(try routing.route(facts(.charge)).aim, "\(profile.name)")
            #expect(charged.lead == criminal, "\(profile.name)")
            let concerned = try #require(try routing.route(facts(.noFurtherAction, concerns: true)).aim, "\(profile.name)")
            #expect(concerned.lead == concern && concerned.source == source, "\(profile.name)")
            #expect(concerned.coWorker == (concern == .joint ? nil : concern == .youthJustice ? .socialCare : .youthJustice), "\(profile.name)")
            // Already open to youth justice: youth justice leads on the concern route too.
            #expect(try routing.route(facts(.noFurtherAction, concerns: true, openToYJ: true)).aim?.lead == .youthJustice, "\(profile.name)")
            let line = try #require(try routing.route(facts(.noFurtherAction, concerns: true)).rationale.first { $0.hasSuffix("[YJ-04]") })
            #expect(line.contains("(\(source))"), "\(line)")
        }
        #expect(try routing.route(facts(.charge)).aim?.coWorker == .socialCare)
        // A joint lead: either agency holds the lead's duties.
        let joint = try AIMRules.start(
            subjectID: "c", age: 14, route: .concern, openToYouthJustice: false, leadAssessorTrained: true, timescaleWeeks: 6, at: monday,
            profile: .llr, deadlines: DeadlineCalculator())
        #expect(joint.leads(.youthJustice) && joint.leads(.socialCare) && joint.coWorker == nil)
        #expect(try AIMRules.apply(.recordConsent(given: true), by: .socialCare, to: joint).consentGiven == true)
        #expect(AIMAssignment.leadOnlyDuties.contains("obtain consent from the young person and family or carers"))
        #expect(!AIMAssignment.sharedDuties.contains { $0.contains("consent") || $0.contains("share") })
        var profile = ProcedureProfile.camden
        profile.aimLeadOnConcernRoute = .youthJustice
        #expect(try PoliceDecisionRouting(profile: profile).route(facts(.noFurtherAction, concerns: true)).aim?.lead == .youthJustice)
    }

    @Test("YJ-05: the AIM assessment is for 12 to 17")
    func aimAges() throws {
        #expect(try routing.route(facts(.charge, age: 11)).aim == nil)
        #expect(try routing.route(facts(.charge, age: 12)).aim != nil)
        #expect(!AgeRules.inAIMRange(age: 11) && AgeRules.inAIMRange(age: 12) && AgeRules.inAIMRange(age: 17) && !AgeRules.inAIMRange(age: 18))
    }
}

@Suite("Procedure profiles")
struct ProfileTests {
    @Test("SCR-08 STR-06 YJ-04: a partnership's profile file overrides what it names and keeps the rest")
    func profileFile() throws {
        let text = """
            # Hackney's procedure
            based_on = islington
            name = hackney
            strategy_meeting = 2 working days
            hsb_panel = yes
            aim_lead_concern_route = youth-justice
            risk_plan_reviews = every 2 months for 6 months then every 4 months
            """
        let profile = try ProcedureProfile.parse(text, source: "hackney.profile")
        #expect(profile.name == "hackney")
        #expect(profile.strategyMeeting == .workingDays(2))
        #expect(profile.complexStrategyMeeting == .workingDays(5), "kept from islington")
        #expect(profile.hsbPanel && profile.aimLeadOnConcernRoute == .youthJustice)
        #expect(profile.riskPlanReviews.offsets(count: 4) == [2, 4, 6, 10])
    }

    @Test("A bad profile file is refused with the line and the reason")
    func badProfileFiles() {
        let cases: [(String, RuleFileError)] = [
            (
                "name = x\nstrategy_meeting = soon\n",
                RuleFileError(source: "p", line: 2, reason: "\"soon\" must start with a whole number above 0, e.g. '3 working days'")
            ),
            (
                "name = x\nstrategy_meeting = 3 fortnights\n",
                RuleFileError(source: "p", line: 2, reason: "\"3 fortnights\" must be counted in working days, days or hours")
            ),
            ("name = x\ncolour = blue\n", RuleFileError(source: "p", line: 2, reason: "unknown key \"colour\"")),
            // A hostile key is escaped and cut, never echoed raw to a terminal.
            ("name = x\n\u{1B}[2J = 1\n", RuleFileError(source: "p", line: 2, reason: "unknown key \"\\u{1B}[2J\"")),
            (
                "name = x\n\(String(repeating: "k", count: 5000)) = 1\n",
                RuleFileError(source: "p", line: 2, reason: "unknown key \"\(String(repeating: "k", count: 60))\"…")
            ),
            ("name = x\nbased_on = camden\n", RuleFileError(source: "p", line: 2, reason: "based_on must come before every other key")),
            (
                "based_on = york\n",
                RuleFileError(source: "p", line: 1, reason: "no built-in profile \"york\"; known: camden, islington, gateshead, llr, calderdale")
            ),
            ("name = x\nhsb_panel = maybe\n", RuleFileError(source: "p", line: 2, reason: "hsb_panel must be yes or no")),
            ("name = x\nname = y\n", RuleFileError(source: "p", line: 2, reason: "name is set twice")),
            ("strategy_meeting = 3 days\n", RuleFileError(source: "p", line: 1, reason: "the profile has no name (name = ...)")),
            ("name = x\nassessment_days = -4\n", RuleFileError(source: "p", line: 2, reason: "assessment_days must be a whole number above 0")),
            ("name = x\njust words\n", RuleFileError(source: "p", line: 2, reason: "expected 'key = value'")),
        ]
        for (text, expected) in cases {
            #expect(throws: expected) { try ProcedureProfile.parse(text, source: "p") }
        }
    }

    @Test("The built-in profiles differ only where their procedures do")
    func builtIns() {
        #expect(ProcedureProfile.builtIn.map(\.name) == ["camden", "islington", "gateshead", "llr", "calderdale"])
        #expect(ProcedureProfile.camden.strategyMeeting == .calendarDays(3))
        #expect(ProcedureProfile.islington.strategyMeeting == .workingDays(3) && ProcedureProfile.islington.complexStrategyMeeting == .workingDays(5))
        #expect(ProcedureProfile.gateshead.strategyMeeting == .hours(72))
        #expect(ProcedureProfile.calderdale.hsbPanel && !ProcedureProfile.camden.hsbPanel)
        for profile in ProcedureProfile.builtIn {
            // SCR-09: only Islington's procedure sets its own timescale after immediate protection (ISL 5.4).
            #expect(profile.strategyMeetingAfterImmediateProtection == (profile.name == "islington" ? .workingDays(5) : nil), "\(profile.name)")
            // SCR-08: LLR and Calderdale set none of their own for the strategy meeting.
            #expect(profile.strategyMeetingIsPartnershipDefault == ["llr", "calderdale"].contains(profile.name), "\(profile.name)")
            // STR-01: Islington's meeting is chaired by its coordinators; elsewhere social care.
            #expect(
                profile.strategyMeetingChairs
                    == (profile.name == "islington" ? ["cse-missing-trafficking-coordinator", "cp-coordinator"] : ["social-care"]))
            #expect(profile.assessmentDays == 35 && profile.writtenFollowUpHours == 48 && profile.childInNeedReviewMonths == 6)
        }
    }
}
