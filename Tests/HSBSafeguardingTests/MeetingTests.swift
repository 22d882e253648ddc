import HSBSafeguarding
import Testing

@Suite("Strategy meetings")
struct MeetingTests {
    let rules = StrategyMeetingRules()

    func meeting(outcome: StrategyOutcome = .section47Joint) -> StrategyMeeting {
        var meeting = StrategyMeeting(
            subjectIDs: ["child-1"], heldAt: monday, chairRole: "social-care",
            invitees: [
                Invitee(role: "social-care", attended: true), Invitee(role: "youth-justice", attended: true), Invitee(role: "police", attended: true),
                Invitee(role: "health", attended: false, writtenReport: true), Invitee(role: "education", attended: true, pupilSubjectID: "child-1"),
                Invitee(role: "camhs", attended: false),
            ],
            outcome: outcome, significantHarm: true, safetyPlanAgreed: true, aimAppropriate: true, mappaReferralConsidered: true,
            exploitationReferralConsidered: true)
        meeting.aimLead = .youthJustice
        meeting.aimTimescaleWeeks = 6
        return meeting
    }

    @Test("STR-01 STR-02 STR-04 INF-07: a complete meeting is recorded; minutes go to those who attended or reported")
    func complete() throws {
        let plan = try rules.record(meeting())
        #expect(plan.citations.map(\.ruleID) == ["STR-01", "STR-02", "STR-04", "STR-03", "INF-07"])
        // Six weeks from 16 November 2026 is Monday 28 December, a bank holiday: the working day before is Thursday 24th.
        #expect(plan.tasks.first { $0.id == "STR-02/aim-assessment" }?.due?.date == date("2026-12-24"))
        #expect(plan.tasks.contains { $0.id == "STR-04/section-47" })
        let minutes = Set(plan.notifications.filter { $0.ruleID == "INF-07" }.map(\.recipient))
        #expect(minutes == [.socialCare, .youthJustice, .police, .health, .education])
    }

    @Test("STR-01 STR-02 STR-03 STR-04: what a meeting record must hold, each gap named")
    func incomplete() {
        var bad = meeting(outcome: .followUpMeeting)
        bad.chairRole = "police"
        bad.invitees.removeAll { $0.role == "youth-justice" }
        bad.invitees[2] = Invitee(role: "health", attended: false)
        bad.invitees[3] = Invitee(role: "education", attended: true, pupilSubjectID: "other-child")
        bad.aimTimescaleWeeks = nil
        #expect(
            throws: ScreeningInputError(problems: [
                "chair: under camden the HSB strategy meeting is chaired by social-care (STR-01, GAT 3.3.1, CAM 14), not police",
                "invitees: youth-justice must be invited (STR-01)",
                "invitees: health neither attended nor sent a written report (STR-01)",
                "invitees: a school attends only the meeting about its own pupil (STR-03); other-child is not a subject of this meeting",
                "aim_timescale_weeks: the AIM assessment's timescale must be recorded (STR-02)",
                "follow_up_date: a follow-up strategy meeting needs a set date (STR-04)",
            ])
        ) { try rules.record(bad) }
    }

    @Test("GEN-03 STR-01 MP-04: for a child under 10 youth justice need not be invited and MAPPA is not considered")
    func underTenMeeting() throws {
        var young = meeting()
        young.childUnderTen = true
        young.invitees.removeAll { $0.role == "youth-justice" }
        young.mappaReferralConsidered = false
        young.aimAppropriate = false
        let plan = try rules.record(young)
        #expect(!plan.tasks.contains { $0.ruleID == "MP-04" })
        #expect(plan.rationale.contains { $0.hasSuffix("[GEN-03]") })
        // Ten and over: youth justice must be invited, and an unconsidered MAPPA referral is a task.
        var older = young
        older.childUnderTen = false
        #expect(throws: ScreeningInputError.self) { try rules.record(older) }
    }

    @Test("STR-01: the chair follows the profile: Islington's coordinators chair there, and social care is refused as chair")
    func chairFollowsTheProfile() throws {
        let islington = StrategyMeetingRules(profile: .islington)
        for chair in ["cse-missing-trafficking-coordinator", "cp-coordinator"] {
            var held = meeting()
            held.chairRole = chair
            let plan = try islington.record(held)
            #expect(plan.rationale.first?.contains("ISL 5.3, 5.4") == true)
        }
        #expect(throws: ScreeningInputError.self) { try islington.record(meeting()) }
        var coordinator = meeting()
        coordinator.chairRole = "cp-coordinator"
        #expect(throws: ScreeningInputError.self, "elsewhere social care chairs") { try rules.record(coordinator) }
    }

    @Test("STR-02 MP-04 STR-09: what was not considered becomes a task; many children need a strategic management group")
    func gapsAndManyChildren() throws {
        var m = meeting(outcome: .followUpMeeting)
        m.followUpDate = date("2026-12-01")
        m.mappaReferralConsidered = false
        m.exploitationReferralConsidered = false
        m.safetyPlanAgreed = false
        m.manyChildren = true
        m.subjectIDs = ["child-1", "child-2"]
        let plan = try rules.record(m)
        let ids = plan.tasks.map(\.id)
        for id in [
            "MP-04/consider-mappa", "STR-02/consider-exploitation", "STR-02/safety-plan", "STR-04/follow-up", "STR-09/strategic-management-group",
        ] {
            #expect(ids.contains(id), "\(id)")
        }
        #expect(plan.tasks.first { $0.id == "STR-04/follow-up" }?.due?.date == date("2026-12-01"))
        #expect(!plan.citations.contains { $0.ruleID == "STR-03" }, "a joint meeting about two children")
    }
}
