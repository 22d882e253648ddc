import Foundation
import HSBPathway
import HSBWire
import Testing

let now: Int64 = 1_794_819_600_000
let day: Int64 = 86_400_000
let social = CaseActor(agency: .socialCare, user: "A Worker")
let school = CaseActor(agency: .education, user: "DSL")

func referral(child: String = "child-1", parentsTold: IntakeV1.ParentsTold = .yes) -> IntakeV1.Referral {
    IntakeV1.Referral(
        child: Subject(
            subjectID: child, role: .childDisplayingHSB, givenName: "Sam", familyName: "Reed",
            dateOfBirth: CalendarDate(year: 2011, month: 1, day: 1),
            postcode: "NW5 1AA"),
        referrer: "DSL, Hill School", parentsTold: parentsTold)
}

func task(_ id: String, rule: String, owner: Agency = .socialCare, due: Int64 = now + 3 * day) -> CaseTask {
    CaseTask(
        taskID: id, description: "work for \(id)", owner: owner,
        deadline: due > 0 ? Deadline(kind: .calendarDays, dueUnixMillis: due, ruleID: rule, description: "") : nil, ruleID: rule)
}

/// A case opened by `referral()` and screened with `tasks` and `notices`.
func screenedCase(
    tasks: [CaseTask] = [], notices: [Notice] = [], citations: [String] = [], available: Set<String> = []
) throws -> (
    CaseState, [PathwayEffect]
) {
    let (opened, _) = CasePathway.open(caseID: "case-1", referral: referral(), from: school, receivedAt: now, duplicates: [], now: now)
    let result = IntakeV1.ScreeningResult(
        referralId: "ref-1", outcome: "screened", threshold: "child protection",
        decision: Decision(
            outcome: "child protection", tasks: tasks, citations: citations.map { RuleCitation(ruleID: $0, source: "") }, notices: notices))
    let sent = SentStep(stepID: "s-1", service: "intake", method: CasePathway.intakeSubmitReferral, request: [])
    return try CasePathway.apply(.delivered(sent, reply: try result.encoded(), availableServices: available), to: opened, now: now)
}

func delivered(_ method: String, service: String, reply: some WireMessage, request: [UInt8] = [], to state: CaseState) throws -> CaseState {
    let sent = SentStep(stepID: "s-2", service: service, method: method, request: request)
    return try CasePathway.apply(.delivered(sent, reply: try reply.encoded(), availableServices: []), to: state, now: now + day).0
}

extension CaseState {
    func open(_ prefix: String) -> [DeadlineItem] { deadlines.filter { $0.isOpen && $0.taskID.hasPrefix(prefix) } }
    func done(_ prefix: String) -> [DeadlineItem] { deadlines.filter { !$0.isOpen && $0.taskID.hasPrefix(prefix) } }
}

@Suite("The case pathway: one event at a time, pure")
struct CasePathwayTests {
    @Test("SCR-10 INF-01 INF-02 INF-03 SCR-20: a referral opens a case and goes to intake; consent, who gave it, and parents told are recorded apart")
    func referralOpensACase() {
        // (consent to share, competence assessed, parents told) -> (consent recorded, parents told recorded). The child is 15.
        let table: [(IntakeV1.ConsentToShare, Bool, IntakeV1.ParentsTold, String, String)] = [
            (.given, false, .yes, "given by the parents (INF-03)", "told"),
            (.given, true, .yes, "given by the young person (INF-03)", "told"),
            (
                .notSought, false, .noWouldIncreaseRiskOfHarm, "not sought; shared on its lawful basis (INF-02)",
                "not told: it would increase the risk of harm"
            ),
            (.refused, false, .yes, "refused; shared without consent on its lawful basis (INF-02)", "told"),
            (.unspecified, false, .unspecified, "not sought; shared on its lawful basis (INF-02)", "not recorded"),
        ]
        for (consentToShare, competent, told, consent, parents) in table {
            var sent = referral(parentsTold: told)
            sent.consentToShare = consentToShare
            sent.competenceAssessed = competent
            let (state, effects) = CasePathway.open(caseID: "case-1", referral: sent, from: school, receivedAt: now, duplicates: [], now: now)
            #expect(state.status == .awaitingScreening && state.referrals.count == 1 && state.referralTimes == [now])
            #expect(state.chronology.last?.ruleIDs == ["SCR-10"])
            #expect(state.disclosures.last?.toService == "intake" && state.disclosures.last?.consent == consent, "\(consentToShare)")
            #expect(state.disclosures.last?.parentsTold == parents && state.consent == consent)
            // INF-02: the grounds shared on without consent are the entry's own lawful basis.
            #expect(state.disclosures.last?.lawfulBasis == "Children Act 2004 (safeguarding)")
            guard case .send(let step) = effects.last else {
                Issue.record("no step to intake")
                continue
            }
            #expect(step.service == "intake" && step.method == CasePathway.intakeSubmitReferral && step.purpose == "screening, for education (DSL)")
            #expect(effects.first == .indexIdentity(identity: "sam|reed|2011-1-1|nw51aa", childID: "child-1"))
        }
        // Under 12 the parents consent, whatever the child's competence (INF-03).
        var young = referral()
        young.child?.dateOfBirth = CalendarDate(year: 2016, month: 1, day: 1)
        young.consentToShare = .given
        young.competenceAssessed = true
        #expect(
            CasePathway.open(caseID: "c", referral: young, from: school, receivedAt: now, duplicates: [], now: now).0.consent
                == "given by the parents (INF-03)")
    }

    @Test("INF-01 INF-02: every notice a screening sends is on the ledger with the lawful basis of its rule, and the consent position")
    func noticesOnTheLedger() throws {
        let notices = [
            Notice(recipient: "police", agency: .police, reason: "Invited to the strategy meeting", ruleID: "STR-01"),
            Notice(recipient: "independent-reviewing-officer", agency: .socialCare, reason: "looked-after child", ruleID: "SCR-14"),
            Notice(recipient: "mase", agency: .unspecified, reason: "exploitation links", ruleID: "SCR-16"),
            Notice(recipient: "adult-social-care", agency: .adultSocialCare, reason: "adult harmed", ruleID: "GEN-06"),
        ]
        let (state, _) = try screenedCase(notices: notices)
        for notice in notices {
            let entry = try #require(state.disclosures.first { $0.toService == notice.recipient }, "\(notice.ruleID)")
            #expect(entry.lawfulBasis == Sharing.byRule[notice.ruleID]?.basis, "\(notice.ruleID)")
            #expect(entry.purpose.hasSuffix("(\(notice.ruleID))") && entry.consent.contains("(INF-02)"), "\(notice.ruleID)")
        }
        // Spelt out, not read back from the table: what a practitioner and an auditor read on the ledger.
        let police = try #require(state.disclosures.first { $0.toService == "police" })
        #expect(police.what == "Invited to the strategy meeting" && police.purpose == "safeguarding planning (STR-01)")
        #expect(police.lawfulBasis == "Children Act 2004 (safeguarding); risk of significant harm")
        #expect(police.consent == "not sought; shared on its lawful basis (INF-02)")
        #expect(state.disclosures.first { $0.toService == "adult-social-care" }?.lawfulBasis == "vital interests")
    }

    @Test("A likely duplicate child is flagged, never merged; the same child is not a duplicate of itself")
    func duplicates() {
        let (state, _) = CasePathway.open(
            caseID: "case-2", referral: referral(child: "child-2"), from: school, receivedAt: now,
            duplicates: [(caseID: "case-1", childID: "child-1"), (caseID: "case-0", childID: "child-2")], now: now)
        #expect(
            state.alerts == [
                "Possible duplicate child: the same name, date of birth and postcode as child-1 (case case-1); a practitioner decides whether to merge"
            ])
    }

    @Test("A further referral joins the open case; within 7 days of the last, as received, it is a repeat concern")
    func repeatConcern() throws {
        let (opened, _) = CasePathway.open(caseID: "case-1", referral: referral(), from: school, receivedAt: now, duplicates: [], now: now)
        let event = { (received: Int64) in PathwayEvent.referralReceived(referral: referral(), from: social, receivedAt: received, duplicates: []) }
        let (soon, effects) = try CasePathway.apply(event(now + 6 * day), to: opened, now: now + 6 * day)
        #expect(soon.alerts.count == 1 && soon.alerts[0].hasPrefix("Repeat concern") && soon.referrals.count == 2)
        #expect(effects.count == 1)
        let (later, _) = try CasePathway.apply(event(now + 8 * day), to: opened, now: now + 8 * day)
        #expect(later.alerts.isEmpty)
        // Received 3 days after the first, but typed in 9 days later: the received time decides.
        let (typedLate, _) = try CasePathway.apply(event(now + 3 * day), to: opened, now: now + 9 * day)
        #expect(typedLate.alerts.count == 1)
    }

    @Test(
        "SCR-08 MH-01 GEN-06 SCR-12 SCR-16: a screening's tasks join the case; CAMHS is referred when it can be; notices owed are on the chronology")
    func screeningOpensRoutes() throws {
        let notices = [
            Notice(recipient: "adult-social-care", agency: .adultSocialCare, reason: "adult harmed", ruleID: "GEN-06"),
            Notice(recipient: "home-authority", agency: .unspecified, reason: "lives in Barnet", ruleID: "SCR-12"),
            Notice(recipient: "mase", agency: .unspecified, reason: "exploitation links", ruleID: "SCR-16"),
        ]
        let tasks = [task("SCR-08/strategy-meeting/child-1", rule: "SCR-08"), task("MH-01/camhs-referral/child-1", rule: "MH-01", due: 0)]
        let (state, effects) = try screenedCase(tasks: tasks, notices: notices, available: ["camhs"])
        #expect(state.status == .screened && state.screening != nil)
        #expect(state.open("SCR-08/strategy-meeting/").count == 1 && state.open("MH-01/").count == 1)
        #expect(state.chronology.contains { $0.what == "CAMHS route opened: referral to CAMHS" })
        #expect(state.disclosures.last?.toService == "camhs")
        guard case .send(let camhs) = effects.first else {
            Issue.record("no CAMHS step")
            return
        }
        #expect(camhs.service == "camhs" && camhs.method == CasePathway.camhsRefer)
        for rule in ["GEN-06", "SCR-12", "SCR-16"] {
            #expect(state.chronology.contains { $0.ruleIDs == [rule] && $0.what.hasPrefix("Notice owed to") }, "\(rule)")
        }
        // Without a CAMHS endpoint the referral is owed, and says so.
        let (unrouted, none) = try screenedCase(tasks: tasks)
        #expect(none.isEmpty && unrouted.chronology.contains { $0.what.contains("no CAMHS endpoint is configured") })
    }

    @Test(
        "SCR-07 SCR-08 SCR-09 GEN-03 STR-01 INF-07: a strategy meeting held answers the meeting and discussion tasks, and its minutes are on the ledger"
    )
    func strategyMeetingAnswersItsTasks() throws {
        let (state, _) = try screenedCase(tasks: [
            task("SCR-08/strategy-meeting/child-1", rule: "SCR-08"), task("SCR-09/immediate-protection/child-1", rule: "SCR-09"),
            task("SCR-07/strategy-discussion/child-1", rule: "SCR-07"), task("GEN-03/strategy-discussion/child-1", rule: "GEN-03"),
            task("SCR-18/assessment/child-1", rule: "SCR-18"),
        ])
        let record = IntakeV1.MeetingRecord(
            recordId: "m-1", referralId: "ref-1",
            decision: Decision(
                outcome: "section-47-joint", tasks: [task("STR-04/section-47/child-1", rule: "STR-04", due: 0)],
                citations: [RuleCitation(ruleID: "STR-01", source: "")],
                notices: [Notice(recipient: "police", agency: .police, reason: "Minutes of the strategy meeting", ruleID: "INF-07")]))
        let after = try delivered(IntakeV1.Intake.Method.recordStrategyMeeting.fullName, service: "intake", reply: record, to: state)
        for prefix in ["SCR-08/strategy-meeting/", "SCR-09/immediate-protection/", "SCR-07/strategy-discussion/", "GEN-03/strategy-discussion/"] {
            #expect(after.done(prefix).count == 1, "\(prefix)")
        }
        #expect(after.open("SCR-18/assessment/").count == 1, "work the meeting does not answer stays open")
        #expect(after.open("STR-04/section-47/").count == 1)
        #expect(after.disclosures.last?.toService == "police" && after.disclosures.last?.purpose.contains("INF-07") == true)
    }

    @Test("STR-06: a review of one plan never closes the other plan's review")
    func reviewsKeepTheirOwnSchedules() throws {
        let (state, _) = try screenedCase(tasks: [
            task("STR-06/risk-plan-review/child-1", rule: "STR-06"), task("STR-06/cin-review/child-1", rule: "STR-06"),
        ])
        for (plan, answered, untouched) in [
            ("risk-management-plan", "STR-06/risk-plan-review/", "STR-06/cin-review/"),
            ("child-in-need-plan", "STR-06/cin-review/", "STR-06/risk-plan-review/"),
        ] {
            let request = try IntakeV1.RecordCaseEventRequest(referralId: "ref-1", kind: .reviewHeld, reviewedPlan: plan).encoded()
            let record = IntakeV1.CaseEventRecord(recordId: "e-1", referralId: "ref-1", kind: "reviewHeld", decision: Decision(outcome: "reviewHeld"))
            let after = try delivered(IntakeV1.Intake.Method.recordCaseEvent.fullName, service: "intake", reply: record, request: request, to: state)
            #expect(after.done(answered).count == 1, "\(plan)")
            #expect(after.open(untouched).count == 1, "\(plan) must not close \(untouched)")
        }
    }

    @Test("STR-07 MP-04 MP-02: a closure closes the case; a conviction opens the MAPPA route once, with youth justice screening first")
    func closureAndMappa() throws {
        let (state, _) = try screenedCase()
        let closure = IntakeV1.CaseEventRecord(
            recordId: "e-2", referralId: "ref-1", kind: "closure",
            decision: Decision(outcome: "closure", citations: [RuleCitation(ruleID: "STR-07", source: "")]))
        #expect(try delivered(IntakeV1.Intake.Method.recordCaseEvent.fullName, service: "intake", reply: closure, to: state).status == .closed)
        let conviction = YouthjusticeV1.PlanResult(
            recordId: "p-1", event: "court-outcome",
            decision: Decision(outcome: "guilty", tasks: [task("MP-04/mappa-on-conviction/child-1", rule: "MP-04", owner: .youthJustice, due: 0)]))
        var after = try delivered(
            YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName, service: "youth-justice", reply: conviction, to: state)
        after = try delivered(YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName, service: "youth-justice", reply: conviction, to: after)
        let routeLines = after.chronology.filter { $0.ruleIDs == ["MP-04", "MP-02"] }
        #expect(routeLines.count == 1 && routeLines[0].what.contains("youth-justice screens first"))
    }

    @Test("INF-05: an event is relayed for the agency that recorded it, with its lawful basis on the ledger")
    func eventsAreRelayedForTheirActor() throws {
        let (state, _) = try screenedCase()
        let police = CaseActor(agency: .police, user: "PC Khan")
        let (after, effects) = try CasePathway.apply(
            .eventRecorded(method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: [1], by: police, purpose: "charge"),
            to: state,
            now: now)
        #expect(
            effects == [
                .send(
                    OutgoingStep(
                        service: "youth-justice", method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: [1],
                        purpose: "charge, for police (PC Khan)", acting: police))
            ])
        #expect(after.disclosures.last?.lawfulBasis.contains("s115") == true)
        #expect(throws: PathwayRefusal.self) {
            try CasePathway.apply(
                .eventRecorded(method: MappaV1.Mappa.Method.decideDisclosure.fullName, payload: [], by: police, purpose: ""), to: state, now: now)
        }
    }

    @Test("A referral intake refused leaves nothing personal: the referral, the identity and its index row go; the refusal stays")
    func refusedReferralIsForgotten() throws {
        let (opened, _) = CasePathway.open(caseID: "case-1", referral: referral(), from: school, receivedAt: now, duplicates: [], now: now)
        let request = try IntakeV1.SubmitReferralRequest(referral: referral()).encoded()
        let sent = SentStep(stepID: "s-1", service: "intake", method: CasePathway.intakeSubmitReferral, request: request)
        let (refused, effects) = try CasePathway.apply(.refused(sent, reason: "date of birth in the future"), to: opened, now: now)
        #expect(refused.status == .refused && refused.referrals.isEmpty && refused.identity.isEmpty && refused.screening == nil)
        #expect(effects == [.forgetRequest, .forgetIdentity])
        #expect(refused.chronology.last?.what.contains("date of birth in the future") == true)
    }

    @Test("GEN-01 GEN-02 STR-03: a screening with a harmed child asks for their own case, with their own work; this case keeps its own")
    func harmedChildGetsACase() throws {
        let (opened, _) = CasePathway.open(caseID: "case-1", referral: referral(), from: school, receivedAt: now, duplicates: [], now: now)
        let result = IntakeV1.ScreeningResult(
            referralId: "ref-1", outcome: "screened", threshold: "child protection",
            decision: Decision(
                outcome: "child protection",
                tasks: [
                    task("SCR-08/strategy-meeting/child-1", rule: "SCR-08"),
                    CaseTask(
                        taskID: "GEN-01/own-assessment/harmed-1", description: "own assessment", owner: .socialCare, ruleID: "GEN-01",
                        subjectID: "harmed-1"),
                ]),
            harmedChildren: [IntakeV1.HarmedChild(subjectId: "harmed-1", threshold: "child protection")])
        let sent = SentStep(stepID: "s-1", service: "intake", method: CasePathway.intakeSubmitReferral, request: [])
        let (state, effects) = try CasePathway.apply(.delivered(sent, reply: try result.encoded(), availableServices: []), to: opened, now: now)
        #expect(state.open("SCR-08/").count == 1 && state.open("GEN-01/").isEmpty)
        guard case .openHarmedChildCase(let opening) = effects.last else {
            Issue.record("no case for the harmed child")
            return
        }
        #expect(opening.subjectID == "harmed-1" && opening.threshold == "child protection" && opening.linkedTo == "case-1")
        #expect(opening.tasks.map(\.taskID) == ["GEN-01/own-assessment/harmed-1"])
        let harmed = CasePathway.openHarmedChild(opening, caseID: "case-2", linkedCase: state, now: now)
        #expect(harmed.role == .personHarmed && harmed.childSubjectID == "harmed-1" && harmed.threshold == "child protection")
        #expect(harmed.linked.map(\.caseID) == ["case-1"] && harmed.open("GEN-01/").count == 1)
    }

    @Test("SCR-05 YJ-02 YJ-03 YJ-04: the routes and their leads: the screening's, then a charge puts the case on the criminal justice route")
    func routesAndLeads() throws {
        let (opened, _) = CasePathway.open(caseID: "case-1", referral: referral(), from: school, receivedAt: now, duplicates: [], now: now)
        let result = IntakeV1.ScreeningResult(
            referralId: "ref-1", outcome: "screened", threshold: "child protection",
            decision: Decision(outcome: "child protection", routes: ["child-protection", "concern"]), aimLead: "youth-justice",
            aimCoWorker: "social-care")
        let sent = SentStep(stepID: "s-1", service: "intake", method: CasePathway.intakeSubmitReferral, request: [])
        let (screened, _) = try CasePathway.apply(.delivered(sent, reply: try result.encoded(), availableServices: []), to: opened, now: now)
        #expect(screened.routes.map(\.route) == ["child-protection", "concern"])
        #expect(
            screened.routes[0].lead == "social-care" && screened.routes[1].lead == "youth-justice" && screened.routes[1].coWorker == "social-care")
        let charge = YouthjusticeV1.PlanResult(
            recordId: "p-1", event: "police-decision", decision: Decision(outcome: "charge", routes: ["criminal-justice"]), aimLead: "youth-justice",
            aimCoWorker: "social-care")
        let charged = try delivered(
            YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, service: "youth-justice", reply: charge, to: screened)
        #expect(charged.routes.map(\.route) == ["child-protection", "criminal-justice"])
        #expect(
            charged.routes[1].lead == "youth-justice" && charged.routes[1].coWorker == "social-care"
                && charged.routes[1].ruleIDs == ["YJ-02", "YJ-04"])
        // A police decision about an under-10 names no route: the case's routes stay as they were (GEN-03).
        let none = YouthjusticeV1.PlanResult(recordId: "p-2", event: "police-decision", decision: Decision(outcome: "no-further-action"))
        #expect(
            try delivered(YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, service: "youth-justice", reply: none, to: screened)
                .routes
                == screened.routes)
    }

    @Test(
        "MP-02 MP-03: MAPPA receives an under-18's details only after youth justice's screening and the panel; its level and reviews reach the case")
    func mappaInOrder() throws {
        let (state, _) = try screenedCase(tasks: [
            task("MP-02/internal-screening/child-1", rule: "MP-02", owner: .youthJustice, due: 0),
            task("MP-02/hrvp-discussion/child-1", rule: "MP-02", owner: .youthJustice, due: 0),
            task("MP-04/mappa-on-conviction/child-1", rule: "MP-04", owner: .youthJustice, due: 0),
        ])
        let yj = CaseActor(agency: .youthJustice, user: "YOT")
        let birth = CalendarDate(year: 2011, month: 1, day: 1)
        func screen(_ screened: Bool, _ panel: Bool, born: CalendarDate) throws -> (CaseState, [PathwayEffect]) {
            let request = MappaV1.ScreenRequest(subjectId: "child-1", dateOfBirth: born, youthJusticeScreeningDone: screened, panelDiscussed: panel)
            return try CasePathway.apply(
                .eventRecorded(method: CasePathway.mappaScreen, payload: try request.encoded(), by: yj, purpose: "MAPPA"), to: state, now: now)
        }
        for (screened, panel) in [(false, false), (true, false), (false, true)] {
            #expect(throws: PathwayRefusal.self, "screened \(screened), panel \(panel)") { try screen(screened, panel, born: birth) }
        }
        let (sent, effects) = try screen(true, true, born: birth)
        #expect(effects.count == 1 && sent.disclosures.last?.toService == "mappa")
        // An adult is not held back by MP-02.
        #expect(try screen(false, false, born: CalendarDate(year: 2000, month: 1, day: 1)).1.count == 1)
        // The screening answers MP-04 and MP-02; the level MAPPA sets brings its review onto the case.
        let screenReply = MappaV1.ScreenResult(recordId: "m-1", category: 1)
        let afterScreen = try delivered(CasePathway.mappaScreen, service: "mappa", reply: screenReply, to: sent)
        #expect(afterScreen.open("MP-02/").isEmpty && afterScreen.open("MP-04/").isEmpty)
        let level = MappaV1.LevelRecord(
            recordId: "l-1", level: 2, nextReview: CalendarDate(year: 2027, month: 3, day: 1),
            decision: Decision(outcome: "level 2", tasks: [task("MP-03/plan-review/child-1", rule: "MP-03", owner: .mappa, due: now + 90 * day)]))
        let leveled = try delivered(MappaV1.Mappa.Method.recordLevel.fullName, service: "mappa", reply: level, to: afterScreen)
        #expect(leveled.open("MP-03/plan-review/").count == 1)
        #expect(leveled.chronology.last?.what == "mappa: MAPPA level 2; the risk management plan's next review by 2027-3-1")
    }

    @Test("Tasks are closed by their kind (rule and task), never by matching text; statuses are typed")
    func typedKindsAndStatuses() {
        #expect(TaskKind(taskID: "SCR-08/strategy-meeting/child-1") == TaskKind("SCR-08", "strategy-meeting"))
        #expect(TaskKind(taskID: "GEN-02/separate-workers") == TaskKind("GEN-02", "separate-workers"))
        #expect(TaskKind("MP-04").covers(TaskKind(taskID: "MP-04/mappa-on-conviction/c")))
        // A kind that merely starts with another's text is a different kind.
        #expect(!TaskKind("STR-06", "cin-review").covers(TaskKind(taskID: "STR-06/cin-review-extra/c")))
        #expect(!TaskKind("SCR-08", "strategy-meeting").covers(TaskKind(taskID: "SCR-08/strategy-meeting-follow-up/c")))
        #expect(CaseStatus.allCases.filter(\.isOpen) == [.awaitingScreening, .screened])
    }

    @Test("SCR-10: a referral returned to the referrer leaves only that it was returned and why; nothing personal stays")
    func returnedReferralIsForgotten() throws {
        let (opened, _) = CasePathway.open(caseID: "case-1", referral: referral(), from: school, receivedAt: now, duplicates: [], now: now)
        let request = try IntakeV1.SubmitReferralRequest(referral: referral()).encoded()
        let sent = SentStep(stepID: "s-1", service: "intake", method: CasePathway.intakeSubmitReferral, request: request)
        let result = IntakeV1.ScreeningResult(
            outcome: "returned-incomplete", missing: ["details of the incident"], ageAtBehaviour: 14,
            decision: Decision(outcome: "returned-incomplete", citations: [RuleCitation(ruleID: "SCR-10", source: "CAM 6.1")]))
        let (returned, effects) = try CasePathway.apply(.delivered(sent, reply: try result.encoded(), availableServices: []), to: opened, now: now)
        #expect(returned.status == .returnedIncomplete && returned.referrals.isEmpty && returned.screening == nil && returned.identity.isEmpty)
        #expect(effects == [.forgetRequest, .forgetIdentity])
        #expect(returned.chronology.last?.what == "Returned to the referrer: the referral lacks details of the incident")
        #expect(!returned.isOpen)
    }

    @Test("A task is marked done by the agency it falls to, or by social care; another agency is refused")
    func completingTasks() throws {
        let (state, _) = try screenedCase(tasks: [task("YJ-08/assetplus/child-1", rule: "YJ-08", owner: .youthJustice)])
        let yj = CaseActor(agency: .youthJustice, user: "YOT")
        let (done, _) = try CasePathway.apply(.taskCompleted(taskID: "YJ-08/assetplus/child-1", by: yj, note: "filed"), to: state, now: now)
        #expect(done.done("YJ-08/assetplus/").first?.completedBy == "youth-justice (YOT)")
        #expect(done.chronology.last?.what == "Done: work for YJ-08/assetplus/child-1 (youth-justice (YOT)): filed")
        #expect(throws: PathwayRefusal.self) {
            try CasePathway.apply(.taskCompleted(taskID: "YJ-08/assetplus/child-1", by: school, note: ""), to: state, now: now)
        }
        #expect(throws: PathwayRefusal.self) { try CasePathway.apply(.taskCompleted(taskID: "nope", by: social, note: ""), to: state, now: now) }
    }
}
