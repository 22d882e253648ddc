import HSBSafeguarding
import Testing

@Suite("Front-door screening: each rule")
struct ScreeningRulesTests {
    @Test("SCR-10: an incomplete referral with no sign of significant harm is returned with the missing items named")
    func incompleteReturned() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.incidentDetails = ""
        facts.coercionEvidence = " "
        facts.otherChildrenMayBeAtRisk = nil
        let decision = try screen(facts)
        #expect(decision.outcome == .returnedIncomplete)
        #expect(
            decision.missing == ["details of the incident", "evidence of coercion or duress (or 'none')", "whether other children may be at risk"])
        #expect(decision.ruleIDs.contains("SCR-10"))
        #expect(decision.threshold == nil)
    }

    /// Each sign that a referral indicates significant harm, or is urgent: an incomplete referral
    /// showing it is screened on what it holds, never returned (SCR-10, SCR-11).
    static let harmSigns: [(String, @Sendable (inout ReferralFacts) -> Void)] = [
        ("there is immediate risk", { $0.immediateRisk = true }),
        ("significant harm is suspected", { $0.significantHarmSuspected = true }),
        ("the child displaying HSB may be being abused", { $0.childDisplayingMayBeAbused = true }),
        ("the behaviour was physically violent", { $0.physicallyViolent = true }),
        ("a reported behaviour is red on the Brook traffic light", { $0.behaviours = [.catalogue(id: "brook/13-17/red/8")] }),
        ("it is an urgent telephone referral", { $0.urgentByTelephone = true }),
        (
            "sexual activity involved a child under 13",
            {
                $0.sexualActivity = true
                $0.personsHarmed[0].dateOfBirth = LondonTime.date(of: monday).adding(months: -12 * 11)
            }
        ),
    ]

    @Test("SCR-10 SCR-11: an urgent referral, or one indicating significant harm, is never returned; it is screened and the missing items requested")
    func incompleteButHarmIndicated() throws {
        for (sign, change) in Self.harmSigns {
            var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
            facts.victimVulnerability = ""
            facts.otherChildrenMayBeAtRisk = nil
            change(&facts)
            let decision = try screen(facts)
            #expect(decision.outcome == .screened, "\(sign)")
            #expect(decision.threshold != nil, "\(sign)")
            #expect(decision.rationale.contains { $0.contains("Not returned, because") && $0.contains(sign) }, "\(sign)")
            let request = decision.task("SCR-10/missing-items")
            #expect(request?.description.contains("factors that make the person harmed particularly vulnerable") == true, "\(sign)")
            #expect(request?.description.contains("whether other children may be at risk") == true, "\(sign)")
        }
        // An urgent telephone referral also gets its 48-hour written follow-up (SCR-11).
        var phoned = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        phoned.incidentDetails = ""
        phoned.urgentByTelephone = true
        let decision = try screen(phoned)
        #expect(decision.task("SCR-11/written-follow-up")?.due?.due == monday.adding(hours: 48))
    }

    @Test("SCR-09: immediate risk means immediate action now in every profile and at any category; the meeting follows within the profile's rule")
    func immediateRiskEverywhere() throws {
        // Category 0 (green), 1 (amber), 2 (red): all get the immediate task due at once.
        for behaviour in ["brook/13-17/green/1", "brook/13-17/amber/3", "brook/13-17/red/8"] {
            for profile in ProcedureProfile.builtIn {
                var facts = referral(age: 14, behaviours: [behaviour])
                let ordinary = try screen(facts, profile).task("SCR-08/strategy-meeting/child-1")?.due
                facts.immediateRisk = true
                let decision = try screen(facts, profile)
                let context = "\(profile.name) \(behaviour)"
                #expect(decision.task("SCR-09/immediate-protection/child-1")?.due?.due == monday, "\(context)")
                let meeting = try #require(decision.task("SCR-09/strategy-meeting/child-1")?.due, "\(context)")
                #expect(decision.task("SCR-08/strategy-meeting/child-1") == nil, "one meeting, not two: \(context)")
                if profile.name == "islington" {
                    // ISL 5.4: within 5 working days of the referral (Monday 16 -> Monday 23 November).
                    #expect(meeting.date == date("2026-11-23"), "\(context)")
                } else {
                    // Elsewhere the profile's own SCR-08 timescale: immediate risk never makes it later.
                    let expected = try screen(referral(age: 14, behaviours: ["brook/13-17/red/8"]), profile).task("SCR-08/strategy-meeting/child-1")?
                        .due
                    #expect(meeting == expected, "\(context)")
                    if let ordinary { #expect(meeting.due <= ordinary.due, "\(context)") }
                }
            }
        }
        // Gateshead's 72-hour maximum holds with immediate risk.
        var gateshead = referral(age: 14, behaviours: ["brook/13-17/red/8"])
        gateshead.immediateRisk = true
        #expect(try screen(gateshead, .gateshead).task("SCR-09/strategy-meeting/child-1")?.due?.due == monday.adding(hours: 72))
    }

    @Test("GEN-01 STR-03: each child harmed has a threshold and work of their own; a separate strategy meeting is considered")
    func harmedChildInTheirOwnRight() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/red/8"])
        facts.significantHarmSuspected = true
        let decision = try screen(facts)
        #expect(decision.thresholdsForPersonsHarmed["harmed-1"] == .childProtection)
        #expect(decision.task("GEN-01/own-assessment/harmed-1")?.subjectID == "harmed-1")
        #expect(decision.task("STR-03/separate-strategy-meeting/harmed-1") != nil)
        // An adult harmed has no child's case (GEN-06 goes to adult social care instead).
        facts.personsHarmed[0].dateOfBirth = LondonTime.date(of: monday).adding(months: -12 * 30)
        #expect(try screen(facts).task("GEN-01/own-assessment/harmed-1") == nil)
    }

    @Test("SCR-20: parents told, or the reason they were not, is required and recorded")
    func parentsTold() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.parentsTold = false
        #expect(try screen(facts).missing == ["whether parents were told of the referral, or why not"])
        facts.parentsNotToldReason = .wouldInterfereWithCriminalInvestigation
        let decision = try screen(facts)
        #expect(decision.outcome == .screened)
        #expect(decision.rationale.contains { $0.contains("would interfere with criminal investigation") && $0.hasSuffix("[SCR-20]") })
    }

    @Test("SCR-17: experimental youth-produced images are outside the procedure; adult involvement goes elsewhere")
    func youthProducedImages() throws {
        var facts = referral(age: 15, behaviours: [])
        facts.personsHarmed = []
        facts.youthProducedImages = .experimental
        var decision = try screen(facts)
        #expect(decision.outcome == .outsideProcedure && decision.ruleIDs.contains("SCR-17"))
        facts.youthProducedImages = .adultInvolved
        decision = try screen(facts)
        #expect(decision.outcome == .outsideProcedure && decision.notified(.police))
        facts.youthProducedImages = .harmfulOrReckless
        facts.behaviours = [.catalogue(id: "brook/13-17/amber/4")]
        #expect(try screen(facts).outcome == .screened)
    }

    @Test("GEN-01: at 18 the procedure does not apply; at 17 it does")
    func adulthood() throws {
        var facts = referral(age: 17, behaviours: ["brook/13-17/amber/3"])
        #expect(try screen(facts).outcome == .screened)
        facts.child.dateOfBirth = LondonTime.date(of: monday).adding(months: -12 * 18)
        facts.behaviours = [.other(description: "sending explicit messages")]
        let decision = try screen(facts)
        #expect(decision.outcome == .outsideProcedure && decision.ageAtBehaviour == 18 && decision.ruleIDs == ["GEN-01"])
    }

    @Test("GEN-01: the decision names the child and the people harmed as separate subjects, in words that fit their number")
    func separateSubjectsInPlainWords() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        let line = { (decision: ScreeningDecision) in decision.rationale.first { $0.hasSuffix("[GEN-01]") } ?? "" }
        #expect(line(try screen(facts)).contains("a child. The child displaying HSB and the person harmed are separate subjects"))
        facts.personsHarmed.append(PersonHarmed(subjectID: "harmed-2", dateOfBirth: nil))
        #expect(line(try screen(facts)).contains("a child. The child displaying HSB and each of the 2 people harmed are separate subjects"))
        facts.personsHarmed = []
        #expect(line(try screen(facts)).contains("a child. The child displaying HSB is a subject with their own record, needs and plan"))
    }

    @Test("SCR-05: inappropriate is early help, problematic child in need, abusive towards a child at risk child protection")
    func thresholds() throws {
        var facts = referral(age: 11, behaviours: ["brook/9-13/amber/2"])
        #expect(try screen(facts).threshold == .childInNeed)
        facts.behaviours = [.catalogue(id: "brook/9-13/red/4")]
        var decision = try screen(facts)
        #expect(decision.threshold == .childInNeed, "abusive, but no child identified at risk of significant harm")
        facts.significantHarmSuspected = true
        decision = try screen(facts)
        #expect(decision.threshold == .childProtection && decision.routes.contains(.childProtection))
        #expect(decision.thresholdsForPersonsHarmed["harmed-1"] == .childProtection)
        facts.significantHarmSuspected = false
        facts.childDisplayingMayBeAbused = true
        decision = try screen(facts)
        #expect(decision.threshold == .childProtection, "evidence the child displaying HSB is being abused")
    }

    @Test("SCR-06: category 0 steps a new referral down, and an open case to a step-down meeting")
    func categoryZero() throws {
        var facts = referral(age: 11, behaviours: ["brook/9-13/green/2"])
        facts.harmIndicators = [.frequencyBeyondDevelopmentalExpectation]
        facts.personsHarmed = []
        var decision = try screen(facts)
        #expect(decision.category == .zero)
        #expect(decision.task("SCR-06/step-down/child-1")?.owner == .earlyHelp)
        facts.child.openToSocialCare = true
        decision = try screen(facts)
        #expect(decision.task("SCR-06/step-down-meeting/child-1") != nil)
        #expect(decision.joinsOpenCase)
    }

    @Test("SCR-07: category 1 is a strategy discussion when significant harm is suspected, else a risk discussion; a diversion plan either way")
    func categoryOne() throws {
        var facts = referral(age: 11, behaviours: ["brook/9-13/amber/2"])
        var decision = try screen(facts)
        #expect(decision.task("SCR-07/risk-discussion/child-1") != nil)
        #expect(decision.task("SCR-07/diversion-plan/child-1") != nil)
        #expect(decision.task("SCR-07/family-group-conference/child-1") != nil)
        facts.significantHarmSuspected = true
        decision = try screen(facts)
        #expect(decision.task("SCR-07/strategy-discussion/child-1") != nil)
    }

    @Test("SCR-08: each profile's strategy meeting deadline, side by side, counted from when social care received the referral")
    func profilesSideBySide() throws {
        // Received Monday 16 November 2026 09:00; the incident was reported late (10 days before).
        var facts = referral(age: 14, behaviours: ["brook/13-17/red/8"])
        facts.incidentDate = date("2026-11-06")
        func due(_ profile: ProcedureProfile) throws -> DueDate? { try screen(facts, profile).task("SCR-08/strategy-meeting/child-1")?.due }
        #expect(try due(.camden)?.date == date("2026-11-19"), "3 days of social care receiving the referral (CAM 8.3), not overdue on arrival")
        #expect(try due(.islington)?.date == date("2026-11-19"), "3 working days from the referral (ISL 5.3)")
        #expect(try due(.gateshead)?.due == monday.adding(hours: 72), "72 hours (GAT 3.3.1)")
        #expect(try due(.llr)?.date == date("2026-11-19"))
        #expect(try due(.calderdale)?.date == date("2026-11-19"))
        facts.complexConcerns = true
        #expect(try due(.islington)?.date == date("2026-11-23"), "5 working days when complex (ISL 5.3)")
        #expect(try due(.camden)?.date == date("2026-11-19"), "Camden has no longer timescale for complex concerns")
    }

    @Test("SCR-08: a profile with no timescale of its own says the partnership default applies, not another's clause")
    func partnershipDefault() throws {
        let facts = referral(age: 14, behaviours: ["brook/13-17/red/8"])
        for profile in ProcedureProfile.builtIn {
            let line = try #require(try screen(facts, profile).rationale.first { $0.hasSuffix("[SCR-08]") })
            if profile.strategyMeetingIsPartnershipDefault {
                #expect(line.contains("this procedure sets no timescale of its own: the partnership's configured default applies"), "\(line)")
            } else {
                #expect(line.contains("(\(profile.strategyMeetingSource))"), "\(line)")
            }
        }
    }

    @Test("SCR-08: no day-counted deadline falls on the day the referral came in")
    func neverDueOnTheDayOfReceipt() throws {
        // Friday 28 August 2026, 16:00; Monday 31 August is the summer bank holiday.
        let friday = Instant(unixMillis: 1_787_929_200_000)
        #expect(LondonTime.date(of: friday) == date("2026-08-28"))
        let facts = referral(age: 14, behaviours: ["brook/13-17/red/8"], on: friday)
        let due = try #require(try screen(facts, .camden).task("SCR-08/strategy-meeting/child-1")?.due)
        #expect(
            due.date == date("2026-09-01"), "three days is the bank holiday; the working day before is the day it came in, so the next working day")
        for days in 1...10 {
            let counted = DeadlineCalculator().due(.calendarDays(days), from: friday)
            #expect(counted.date > date("2026-08-28"), "\(days) days")
        }
    }

    @Test("SCR-08 STR-01 STR-02 MP-04: the strategy meeting invites youth justice and police and considers MAPPA")
    func strategyMeetingContent() throws {
        let decision = try screen(referral(age: 14, behaviours: ["brook/13-17/red/8"]))
        for id in ["SCR-08", "STR-01", "STR-02", "MP-04"] { #expect(decision.ruleIDs.contains(id), "\(id)") }
        #expect(decision.notified(.youthJustice) && decision.notified(.police))
    }

    @Test("SCR-11: an urgent telephone referral shows its 48-hour written follow-up until met")
    func telephoneFollowUp() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.urgentByTelephone = true
        #expect(try screen(facts).task("SCR-11/written-follow-up")?.due?.due == monday.adding(hours: 48))
        facts.writtenFollowUpReceived = true
        #expect(try screen(facts).task("SCR-11/written-follow-up") == nil)
    }

    @Test("SCR-12: a child living elsewhere is referred to the home authority; the contact service keeps a copy")
    func homeAuthority() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.child.homeAuthority = "Barnet"
        let decision = try screen(facts)
        #expect(decision.notified(.homeAuthority) && decision.notified(.contactService) && decision.ruleIDs.contains("SCR-12"))
        facts.child.homeAuthority = "camden"
        #expect(!(try screen(facts)).notified(.homeAuthority))
    }

    @Test("SCR-13 SCR-14: an open case is joined, not duplicated; a looked-after child's worker, IRO and placement teams are told")
    func openAndLookedAfter() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.child.openToSocialCare = true
        facts.child.lookedAfter = true
        let decision = try screen(facts)
        #expect(decision.joinsOpenCase && decision.ruleIDs.contains("SCR-13"))
        #expect(decision.notified(.allocatedSocialWorker) && decision.notified(.independentReviewingOfficer) && decision.notified(.placementTeams))
        #expect(decision.task("SCR-14/placement-safety/child-1") != nil)
    }

    @Test("SCR-15 SCR-16: a police notification copied to youth justice where open; exploitation links go to MASE")
    func policeAndExploitation() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.policeNotification = true
        facts.child.openToYouthJustice = true
        facts.siblingsAtRisk = true
        facts.exploitationLinks = true
        let decision = try screen(facts)
        #expect(decision.notifications.contains { $0.recipient == .youthJustice && $0.ruleID == "SCR-15" })
        #expect(decision.task("SCR-15/social-work-assessment/child-1") != nil)
        #expect(decision.notified(.mase) && decision.task("SCR-16/cse-risk-assessment/child-1") != nil)
    }

    @Test("SCR-18 SCR-19: a child and family assessment within 35 days; the safeguarding unit is told")
    func assessmentAndUnit() throws {
        let decision = try screen(referral(age: 14, behaviours: ["brook/13-17/amber/3"]))
        // 35 days from 16 November 2026 is Monday 21 December.
        #expect(decision.task("SCR-18/assessment/child-1")?.due?.date == date("2026-12-21"))
        #expect(decision.notified(.safeguardingUnit))
    }

    @Test("GEN-02: the two children get different social workers")
    func separateWorkers() throws {
        #expect(try screen(referral(age: 14, behaviours: ["brook/13-17/amber/3"])).task("GEN-02/separate-workers") != nil)
    }

    @Test("GEN-03: at 9 no criminal justice route and social care leads; at 10 the concern route (YJ-03)")
    func criminalResponsibility() throws {
        var facts = referral(age: 9, behaviours: ["brook/9-13/amber/2"])
        var decision = try screen(facts)
        #expect(decision.ruleIDs.contains("GEN-03") && !decision.routes.contains(.concern))
        #expect(decision.task("GEN-03/strategy-discussion/child-1") != nil)
        facts = referral(age: 10, behaviours: ["brook/9-13/amber/2"])
        decision = try screen(facts)
        #expect(!decision.ruleIDs.contains("GEN-03") && decision.routes.contains(.concern) && decision.ruleIDs.contains("YJ-03"))
    }

    @Test("GEN-04: sexual activity with a child of 12 needs a child protection referral; at 13 it does not by itself")
    func under13() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/green/8"])
        facts.sexualActivity = true
        facts.competenceAssessed = true
        facts.personsHarmed = [PersonHarmed(subjectID: "harmed-1", dateOfBirth: LondonTime.date(of: monday).adding(months: -12 * 12 - 1))]
        var decision = try screen(facts)
        #expect(decision.threshold == .childProtection && decision.ruleIDs.contains("GEN-04"))
        facts.personsHarmed = [PersonHarmed(subjectID: "harmed-1", dateOfBirth: LondonTime.date(of: monday).adding(months: -12 * 13))]
        decision = try screen(facts)
        #expect(!decision.ruleIDs.contains("GEN-04"))
    }

    @Test("GEN-05: at 13 and 15 a competence assessment is asked for; at 12 and 16 it is not")
    func competence() throws {
        for (age, expected) in [(12, false), (13, true), (15, true), (16, false)] {
            let band = age < 13 ? "9-13" : "13-17"
            var facts = referral(age: age, behaviours: ["brook/\(band)/green/1"])
            facts.sexualActivity = true
            facts.personsHarmed = []
            #expect((try screen(facts).task("GEN-05/competence/child-1") != nil) == expected, "age \(age)")
            #expect(AgeRules.needsCompetenceAssessment(age: age) == expected)
        }
    }

    @Test("GEN-06: an adult at risk harmed is referred to Adult Social Care")
    func adultAtRisk() throws {
        var facts = referral(age: 16, behaviours: ["brook/13-17/red/8"])
        facts.personsHarmed = [PersonHarmed(subjectID: "adult-1", dateOfBirth: date("1950-01-01"))]
        facts.personsHarmed[0].adultInNeedOfSafeguarding = true
        let decision = try screen(facts)
        #expect(decision.notified(.adultSocialCare) && decision.thresholdsForPersonsHarmed.isEmpty)
    }

    @Test("MH-01 MH-02: a child known to CAMHS is a notification; otherwise a referral when there are mental health concerns")
    func camhs() throws {
        var facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        facts.mentalHealthConcern = true
        #expect(try screen(facts).task("MH-01/camhs-referral/child-1") != nil)
        facts.child.knownToCAMHS = true
        let decision = try screen(facts)
        #expect(decision.task("MH-01/camhs-referral/child-1") == nil && decision.notified(.camhs))
        #expect(AgeRules.camhsAccepts(ageAtReferral: 17, mentalHealthConcern: true))
        #expect(!AgeRules.camhsAccepts(ageAtReferral: 18, mentalHealthConcern: true))
        #expect(!AgeRules.camhsAccepts(ageAtReferral: 12, mentalHealthConcern: false))
    }

    @Test("STR-08: the calderdale profile sends the case to its HSB panel; camden does not")
    func panel() throws {
        let facts = referral(age: 14, behaviours: ["brook/13-17/amber/3"])
        #expect(try screen(facts, .calderdale).task("STR-08/panel/child-1") != nil)
        #expect(try screen(facts, .camden).task("STR-08/panel/child-1") == nil)
    }

    @Test("INF-08: categories 1 to 3 need their records; category 0 does not")
    func records() throws {
        #expect(try screen(referral(age: 14, behaviours: ["brook/13-17/amber/3"])).ruleIDs.contains("INF-08"))
        var facts = referral(age: 14, behaviours: ["brook/13-17/green/1"])
        facts.harmIndicators = [.frequencyBeyondDevelopmentalExpectation]
        #expect(!(try screen(facts)).ruleIDs.contains("INF-08"))
    }

    @Test("INF-03: consent to share by age and competence")
    func consentToShare() {
        #expect(AgeRules.consentToShare(age: 11, competent: true) == .parents)
        #expect(AgeRules.consentToShare(age: 12, competent: true) == .youngPerson)
        #expect(AgeRules.consentToShare(age: 12, competent: false) == .parents)
        #expect(AgeRules.consentToShare(age: 15, competent: nil) == .parents)
        #expect(AgeRules.consentToShare(age: 16, competent: true) == .youngPerson)
        #expect(AgeRules.consentToShare(age: 17, competent: false) == .parents)
    }

    @Test("Every decision cites catalogue IDs with their seed clauses and explains each step")
    func citationsAndRationale() throws {
        let decision = try screen(referral(age: 14, behaviours: ["brook/13-17/red/8"]))
        #expect(decision.citations.allSatisfy { RuleCatalogue.rule($0.ruleID)?.source == $0.source })
        #expect(decision.rationale.allSatisfy { line in decision.citations.contains { line.hasSuffix("[\($0.ruleID)]") } })
        #expect(Set(decision.citations.map(\.ruleID)).count == decision.citations.count)
    }
}
