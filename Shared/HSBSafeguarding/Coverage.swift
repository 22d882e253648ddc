/// Where each rule of the catalogue is carried out. Every ID of docs/RULES.md has an entry;
/// `RuleCoverageTests` fails when one is missing, and checks that each rule decided here is named
/// by a test.
public struct CoverageEntry: Sendable, Hashable, Codable {
    public enum Owner: Sendable, Hashable, Codable {
        /// Decided in this module, by these types.
        case rulesModule([String])
        /// Carried by a service (its executable name), with what it will do.
        case service(String, String)
    }

    public let ruleID: String
    public let owner: Owner
}

public enum RuleCoverage {
    private static func here(_ id: String, _ symbols: String...) -> CoverageEntry { CoverageEntry(ruleID: id, owner: .rulesModule(symbols)) }
    private static func service(_ id: String, _ name: String, _ what: String) -> CoverageEntry {
        CoverageEntry(ruleID: id, owner: .service(name, what))
    }

    public static let entries: [CoverageEntry] = [
        here("GEN-01", "AgeRules.isChild", "AgeBand.init(age:)", "ReferralScreening.screen"),
        here("GEN-02", "ReferralScreening.screen", "CaseEventRules.record"),
        here("GEN-03", "AgeRules.belowCriminalResponsibility", "ReferralScreening.screen", "PoliceDecisionRouting.route"),
        here("GEN-04", "AgeRules.cannotConsentToSexualActivity", "ReferralScreening.screen"),
        here("GEN-05", "AgeRules.needsCompetenceAssessment", "ReferralScreening.screen"),
        here("GEN-06", "ReferralScreening.screen"),
        here("GEN-07", "LanguagePolicy"),
        here("SCR-01", "BrookCatalogue", "AgeBand", "ReferralScreening.screen"),
        here("SCR-02", "HarmIndicator.continuumFloor", "ReferralScreening.screen"),
        here("SCR-03", "HackettLevel", "ReferralScreening.screen"),
        here("SCR-04", "HackettLevel.riskCategory", "RiskCategory"),
        here("SCR-05", "ReferralScreening.threshold(for:)", "ReferralScreening.screen"),
        here("SCR-06", "ReferralScreening.screen"),
        here("SCR-07", "ReferralScreening.screen"),
        here("SCR-08", "ProcedureProfile.strategyMeeting", "ReferralScreening.screen"),
        here("SCR-09", "ProcedureProfile.strategyMeetingAfterImmediateProtection", "ReferralScreening.screen"),
        here("SCR-10", "ReferralScreening.missingItems"),
        here("SCR-11", "ProcedureProfile.writtenFollowUpHours", "ReferralScreening.screen"),
        here("SCR-12", "ReferralScreening.screen"),
        here("SCR-13", "ReferralScreening.screen", "ScreeningDecision.joinsOpenCase"),
        here("SCR-14", "ReferralScreening.screen"),
        here("SCR-15", "ReferralScreening.screen"),
        here("SCR-16", "ReferralScreening.screen"),
        here("SCR-17", "ReferralScreening.screen", "YouthProducedImages"),
        here("SCR-18", "ProcedureProfile.assessmentDays", "ReferralScreening.screen"),
        here("SCR-19", "ReferralScreening.screen"),
        here("SCR-20", "ReferralScreening.missingItems", "ParentsNotToldReason"),
        service("SCR-21", "intake", "a no-names consultation method that stores nothing personal"),
        here("STR-01", "ReferralScreening (strategy meeting invitees)", "StrategyMeetingRules.record"),
        here("STR-02", "ReferralScreening (what the strategy meeting decides)", "StrategyMeetingRules.record"),
        here("STR-03", "StrategyMeetingRules.record"),
        here("STR-04", "StrategyMeetingRules.record"),
        here("STR-05", "CaseEventRules.record"),
        here("STR-06", "ReviewCadence", "DeadlineCalculator.reviews", "ProcedureProfile.riskPlanReviews", "CaseEventRules.record"),
        here("STR-07", "CaseEventRules.record"),
        here("STR-08", "ProcedureProfile.hsbPanel", "ReferralScreening.screen", "CaseEventRules.record"),
        here("STR-09", "StrategyMeetingRules.record"),
        here("STR-10", "CaseEventRules.record"),
        here("YJ-01", "AgeRules.inYouthJusticeRange", "PoliceDecisionRouting.route"),
        here("YJ-02", "PoliceDecisionRouting.route"),
        here("YJ-03", "ReferralScreening.screen"),
        here("YJ-04", "AIMAssignment", "ProcedureProfile.aimLeadOnConcernRoute", "AIMRules"),
        here("YJ-05", "AgeRules.inAIMRange", "PoliceDecisionRouting.route", "AIMRules", "AIMReportSection"),
        here("YJ-06", "PoliceDecisionRouting.route"),
        here("YJ-07", "OutOfCourtDisposal", "PoliceDecisionRouting.route"),
        service(
            "YJ-08", "youth-justice",
            "plea, pre-sentence report with 6-8 weeks, AssetPlus, disposal proposal, referral order contract with AIM targets"),
        here("YJ-09", "YouthJusticePlanning.court"),
        here("YJ-10", "YouthJusticePlanning.panelReferral", "YouthJusticePlanning.panelMembership"),
        service(
            "YJ-11", "youth-justice",
            "release plan: resettlement panel 3 months before, pre-release meeting 10 working days before (DeadlineRule.monthsBefore, .workingDaysBefore)"
        ),
        here("YJ-12", "YouthJusticePlanning.release(movingIntoArea:)"),
        here("YJ-13", "YouthJusticePlanning.admission", "ProcedureProfile.hsbPanel"),
        here("YJ-14", "PoliceDecisionRouting.route"),
        here("MH-01", "AgeRules.camhsAccepts", "ReferralScreening.screen", "CamhsRules.intake"),
        here("MH-02", "ReferralScreening.screen", "CamhsRules.intake"),
        service("MH-03", "camhs", "single point of access; pre-referral consultations recorded"),
        here("MH-04", "CamhsRules.offers"),
        here("MH-05", "CamhsRules.aimDuplicationPrompt"),
        here("MP-01", "MappaRules.screen", "MappaRules.notificationPeriod"),
        here("MP-02", "MappaRules.screen"),
        service("MP-03", "mappa", "levels and risk management plan reviews"),
        here("MP-04", "ReferralScreening (strategy meeting)", "YouthJusticePlanning.court", "YouthJusticePlanning.release"),
        service("MP-05", "mappa", "disclosure only as the MAPPA forum decides"),
        service("INF-01", "orchestrator", "the disclosure ledger: what, to whom, purpose, lawful basis, consent"),
        service("INF-02", "orchestrator", "sharing without consent records its grounds"),
        here("INF-03", "AgeRules.consentToShare"),
        service("INF-04", "every service", "need to know: each method returns only what the calling agency may see"),
        service("INF-05", "every service", "purpose recorded on each request; access log of every read and write"),
        here("INF-06", "PoliceDecisionRouting.route (youth justice tells the contact service)"),
        here("INF-07", "StrategyMeetingRules.record"),
        here("INF-08", "ReferralScreening.screen"),
    ]

    public static func entry(for ruleID: String) -> CoverageEntry? { entries.first { $0.ruleID == ruleID } }
}
