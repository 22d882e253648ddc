import HSBSafeguarding
import Testing

@Suite("Case events after screening")
struct CaseEventTests {
    let rules = CaseEventRules()

    func record(_ event: CaseEvent, rules: CaseEventRules? = nil) throws -> WorkPlan {
        try (rules ?? self.rules).record(event, childSubjectID: "child-1", personsHarmed: ["harmed-1"], at: monday)
    }

    @Test("GEN-02: different social workers for the two children, even in the same household")
    func workers() throws {
        #expect(try record(.workersAllocated(["child-1": "sw-a", "harmed-1": "sw-b"])).citations.map(\.ruleID) == ["GEN-02"])
        #expect(
            throws: ScreeningInputError(problems: [
                "workers: harmed-1 has the same social worker as the child displaying HSB; they must differ, even in the same household (GEN-02)"
            ])
        ) { try record(.workersAllocated(["child-1": "sw-a", "harmed-1": "sw-a"])) }
        #expect(throws: ScreeningInputError(problems: ["workers: no social worker allocated to harmed-1"])) {
            try record(.workersAllocated(["child-1": "sw-a"]))
        }
    }

    @Test("STR-05 STR-06: no CP plan but concerns remain: child in need and an HSB meeting; the meeting sets the review series")
    func conferenceAndMeeting() throws {
        let conference = try record(.conferenceOutcome(childProtectionPlan: false, concernsRemain: true))
        #expect(conference.tasks.map(\.id) == ["STR-05/hsb-meeting/child-1", "STR-06/cin-review/child-1"])
        // Six months from Monday 16 November 2026 is Sunday 16 May 2027: the Friday before.
        #expect(conference.tasks[1].due?.date == date("2027-05-14"))
        let meeting = HSBMeeting(
            chronologyOfPresentingBehaviour: true, assessmentTimetable: date("2027-01-15"), riskPlanForChild: true, riskPlanForChildrenAtRisk: true,
            rolesAllocated: true, leadSocialWorker: "J. Okoro")
        let plan = try record(.hsbMeeting(meeting))
        #expect(plan.tasks.first { $0.id == "STR-06/risk-plan-review/child-1" }?.due?.date == date("2027-02-16"))
        var incomplete = meeting
        incomplete.chronologyOfPresentingBehaviour = false
        incomplete.riskPlanForChildrenAtRisk = false
        incomplete.leadSocialWorker = ""
        #expect(
            throws: ScreeningInputError(problems: [
                "chronology: the meeting brings together a chronology of the presenting HSB (STR-05)",
                "risk plans: a risk management plan for each child at potential risk (STR-05)",
                "lead_social_worker: the meeting names the lead social worker (STR-05)",
            ])
        ) { try record(.hsbMeeting(incomplete)) }
    }

    @Test(
        "STR-06: the risk management plan's reviews fall 3 and 6 months after it was agreed, then every 6 months, each set when the last is recorded")
    func riskPlanSchedule() throws {
        // Agreed at the HSB meeting held on Monday 2 November 2026 (typed in on Monday 16th).
        let agreed = date("2026-11-02")
        let meeting = HSBMeeting(
            chronologyOfPresentingBehaviour: true, assessmentTimetable: date("2027-01-15"), riskPlanForChild: true, riskPlanForChildrenAtRisk: true,
            rolesAllocated: true, leadSocialWorker: "J. Okoro", heldOn: agreed)
        let first = try #require(try record(.hsbMeeting(meeting)).tasks.first { $0.id == "STR-06/risk-plan-review/child-1" }?.due)
        #expect(first.date == date("2027-02-02"), "3 months after the plan was agreed, not after it was typed in")
        // (review held on, the next review it sets): at 6 months, then every 6 (12, 18, 24), each
        // on the working day on or before the date. 2 May 2027 is a Sunday: Friday 30 April.
        let schedule: [(String, String)] = [
            ("2027-02-02", "2027-04-30"),
            ("2027-04-30", "2027-11-02"),
            ("2027-11-02", "2028-05-02"),
            ("2028-05-02", "2028-11-02"),
        ]
        for (held, next) in schedule {
            // The clock stands on the review day: each is recorded when it has happened.
            let heldDay = date(held)
            let plan = try rules.record(
                .reviewHeld(plan: .riskManagementPlan, heldOn: heldDay, planAgreedOn: agreed), childSubjectID: "child-1", personsHarmed: [],
                at: LondonTime.endOfDay(heldDay))
            #expect(plan.tasks.first?.due?.date == date(next), "after the review on \(held)")
            #expect(plan.tasks.map(\.id) == ["STR-06/risk-plan-review/child-1"], "a risk-plan review sets only the risk plan's next review")
        }
        // Without the day the plan was agreed the next review cannot be placed.
        #expect(throws: ScreeningInputError.self) { try record(.reviewHeld(plan: .riskManagementPlan)) }
    }

    @Test("STR-06: the child in need plan has its own 6-monthly schedule; a review in the future is refused")
    func childInNeedSchedule() throws {
        let plan = try record(.reviewHeld(plan: .childInNeedPlan, heldOn: date("2026-11-13")))
        #expect(plan.tasks.map(\.id) == ["STR-06/cin-review/child-1"])
        #expect(plan.tasks.first?.due?.date == date("2027-05-13"), "6 months after the review was held")
        #expect(throws: ScreeningInputError(problems: ["held_on 2026-11-20 is in the future; record what has happened"])) {
            try record(.reviewHeld(plan: .childInNeedPlan, heldOn: date("2026-11-20")))
        }
    }

    @Test("STR-07: closure is a multi-agency decision with risk, outcomes, carers' capacity, support and monitoring")
    func closure() throws {
        let good = Closure(
            levelOfRisk: "low", outcomesAchieved: "safety plan held for 12 months", carersCapacity: "good", ongoingSupport: "school mentor",
            agreedBy: ["social-care", "youth-justice"], longTermMonitoringConsidered: true)
        #expect(try record(.closure(good)).citations.map(\.ruleID) == ["STR-07"])
        var bad = good
        bad.agreedBy = ["social-care"]
        bad.carersCapacity = ""
        #expect(
            throws: ScreeningInputError(problems: [
                "carers_capacity: closure records the carers' capacity to respond to the child's needs (STR-07)",
                "agreed_by: closure is a multi-agency decision; at least two agencies agree it (STR-07)",
            ])
        ) { try record(.closure(bad)) }
    }

    @Test("STR-10: a professional disagreement is recorded and escalated")
    func disagreement() throws {
        #expect(try record(.disagreement(between: ["social-care", "police"], about: "the threshold")).tasks.map(\.id) == ["STR-10/escalate/child-1"])
        #expect(throws: ScreeningInputError.self) { try record(.disagreement(between: ["police"], about: "")) }
    }

    @Test("STR-08 INF-07: the calderdale HSB panel: only after an assessment found HSB; schedule a week before; back to panel; minutes")
    func panel() throws {
        let calderdale = CaseEventRules(profile: .calderdale)
        let plan = try record(
            .panel(PanelListing(assessmentFoundHSB: true, meetingDate: date("2026-12-09"), minutesCirculatedTo: ["police", "youth-justice"])),
            rules: calderdale)
        #expect(plan.tasks.first { $0.id == "STR-08/schedule/child-1" }?.due?.date == date("2026-12-02"))
        #expect(plan.tasks.first { $0.id == "STR-08/agree-return-to-panel/child-1" }?.due?.date == date("2026-12-09"))
        // With the review date agreed, the case returns to panel on it (CAL 5).
        let dated = try record(
            .panel(PanelListing(assessmentFoundHSB: true, meetingDate: date("2026-12-09"), returnOn: date("2027-03-10"))), rules: calderdale)
        #expect(dated.tasks.first { $0.id == "STR-08/return-to-panel/child-1" }?.due?.date == date("2027-03-10"))
        #expect(Set(plan.notifications.map(\.recipient)) == [.police, .youthJustice])
        #expect(throws: ScreeningInputError(problems: ["a case comes to the HSB panel only after a social care assessment found HSB (STR-08)"])) {
            try record(.panel(PanelListing(assessmentFoundHSB: false, meetingDate: date("2026-12-09"))), rules: calderdale)
        }
        #expect(throws: ScreeningInputError(problems: ["the camden profile has no HSB panel (STR-08)"])) {
            try record(.panel(PanelListing(assessmentFoundHSB: true, meetingDate: date("2026-12-09"))))
        }
    }

    @Test("SCR-11: the written follow-up is recorded")
    func followUp() throws {
        #expect(try record(.writtenFollowUpReceived).citations.map(\.ruleID) == ["SCR-11"])
    }
}
