import Foundation
import HSBPathway
import HSBSafeguarding
import HSBWire
import Testing

@testable import IntakeService

/// Monday 16 November 2026, 09:00 in London.
let monday = Instant(unixMillis: 1_794_819_600_000)

/// A complete referral about a child of `age` with one person harmed aged 12, received on Monday.
func facts(age: Int, behaviours: [String]) -> ReferralFacts {
    let today = LondonTime.date(of: monday)
    var facts = ReferralFacts(
        receivedAt: monday, localAuthority: "Camden",
        child: ChildDisplayingHSB(subjectID: "child-1", dateOfBirth: today.adding(months: -12 * age).adding(days: -30)))
    facts.behaviours = behaviours.map { .catalogue(id: $0) }
    facts.personsHarmed = [PersonHarmed(subjectID: "harmed-1", dateOfBirth: today.adding(months: -12 * 12))]
    facts.incidentDetails = "In the school toilets"
    facts.victimVulnerability = "Younger"
    facts.coercionEvidence = "none"
    facts.referrerAssessedRisk = "medium"
    facts.otherChildrenMayBeAtRisk = false
    facts.parentsTold = true
    return facts
}

/// The case after `facts` is screened under `profile` and the screening reaches the pathway:
/// the rules module, intake's wire mapping and the pathway, with no service between them.
func pathway(_ facts: ReferralFacts, _ profile: ProcedureProfile) throws -> (CaseState, [PathwayEffect]) {
    let decision = try ReferralScreening(profile: profile).screen(facts)
    let subjects = [facts.child.subjectID] + facts.personsHarmed.map(\.subjectID)
    let result = ReferralMapping.result(decision, referralID: "ref-1", version: 1, subjects: subjects)
    let opened = CaseState(
        caseID: "case-1", childSubjectID: "child-1", status: .awaitingScreening, referrals: [], referralTimes: [], screening: nil, alerts: [],
        identity: "", chronology: [], disclosures: [], deadlines: [])
    let sent = SentStep(stepID: "s-1", service: "intake", method: CasePathway.intakeSubmitReferral, request: [])
    return try CasePathway.apply(.delivered(sent, reply: try result.encoded(), availableServices: ["camhs"]), to: opened, now: monday.unixMillis)
}

extension CaseState {
    func due(_ taskID: String) -> CivilDate? {
        deadlines.first { $0.taskID == taskID && $0.isOpen }.map { LondonTime.date(of: Instant(unixMillis: $0.due)) }
    }
}

@Suite("The pathway for each profile: the rules, intake's mapping and the case together, no services")
struct ProfilePathwayTests {
    /// (profile, SCR-08 meeting date, SCR-09 meeting date after immediate protection)
    static let profiles: [(ProcedureProfile, String, String)] = [
        (.camden, "2026-11-19", "2026-11-19"), (.islington, "2026-11-19", "2026-11-23"), (.gateshead, "2026-11-19", "2026-11-19"),
        (.llr, "2026-11-19", "2026-11-19"), (.calderdale, "2026-11-19", "2026-11-19"),
    ]

    @Test("SCR-05 SCR-08 SCR-18 YJ-03 YJ-04: a category 2 referral's routes, tasks and deadlines on the case, for each profile")
    func categoryTwo() throws {
        for (profile, meeting, _) in Self.profiles {
            let (state, _) = try pathway(facts(age: 14, behaviours: ["brook/13-17/red/8"]), profile)
            #expect(state.status == .screened, "\(profile.name)")
            #expect(state.due("SCR-08/strategy-meeting/child-1")?.description == meeting, "\(profile.name)")
            #expect(state.due("SCR-18/assessment/child-1")?.description == "2026-12-21", "\(profile.name): 35 days, the working day before")
            let concern = try #require(state.routes.first { $0.route == "concern" }, "\(profile.name)")
            #expect(concern.lead == profile.aimLeadOnConcernRoute.rawValue, "\(profile.name)")
            #expect(state.deadlines.filter { $0.taskID.hasSuffix("/harmed-1") }.isEmpty, "the harmed child's work is on their own case")
        }
    }

    @Test("SCR-09: immediate risk: the immediate task due at once and the meeting within the profile's rule, for each profile")
    func immediateRisk() throws {
        for (profile, _, afterProtection) in Self.profiles {
            var referral = facts(age: 14, behaviours: ["brook/13-17/amber/3"])
            referral.immediateRisk = true
            let (state, _) = try pathway(referral, profile)
            #expect(
                state.deadlines.first { $0.taskID == "SCR-09/immediate-protection/child-1" }?.due == monday.unixMillis, "\(profile.name)")
            #expect(state.due("SCR-09/strategy-meeting/child-1")?.description == afterProtection, "\(profile.name)")
            #expect(state.due("SCR-08/strategy-meeting/child-1") == nil, "\(profile.name): one meeting")
        }
    }

    @Test("GEN-03: under 10 there is no concern route, no AIM3 invitation and no MAPPA consideration, in any profile")
    func underTen() throws {
        for (profile, _, _) in Self.profiles {
            var referral = facts(age: 9, behaviours: ["brook/9-13/red/4"])
            referral.personsHarmed[0].dateOfBirth = LondonTime.date(of: monday).adding(months: -12 * 8)
            let (state, _) = try pathway(referral, profile)
            #expect(!state.routes.contains { $0.route == "concern" || $0.route == "criminal-justice" }, "\(profile.name)")
            #expect(!state.disclosures.contains { $0.toService == "youth-justice" }, "\(profile.name): no AIM3 invitation")
            #expect(state.deadlines.contains { $0.taskID == "GEN-03/strategy-discussion/child-1" }, "\(profile.name)")
        }
    }

    @Test("GEN-01 STR-03 SCR-10 SCR-11: the harmed child's own case is asked for; an urgent incomplete referral's gaps and follow-up are tasks")
    func harmedChildAndUrgentGaps() throws {
        for (profile, _, _) in Self.profiles {
            var referral = facts(age: 14, behaviours: ["brook/13-17/red/8"])
            referral.significantHarmSuspected = true
            referral.urgentByTelephone = true
            referral.victimVulnerability = ""
            let (state, effects) = try pathway(referral, profile)
            #expect(state.deadlines.contains { $0.taskID == "SCR-10/missing-items" }, "\(profile.name)")
            #expect(
                state.deadlines.first { $0.taskID == "SCR-11/written-follow-up" }?.due == monday.adding(hours: 48).unixMillis, "\(profile.name)")
            let harmed = effects.compactMap { effect -> HarmedChildCase? in
                if case .openHarmedChildCase(let opening) = effect { return opening }
                return nil
            }
            #expect(harmed.map(\.subjectID) == ["harmed-1"] && harmed.first?.threshold == "child protection", "\(profile.name)")
            #expect(harmed.first?.tasks.map(\.taskID).sorted() == ["GEN-01/own-assessment/harmed-1", "STR-03/separate-strategy-meeting/harmed-1"])
        }
    }
}
