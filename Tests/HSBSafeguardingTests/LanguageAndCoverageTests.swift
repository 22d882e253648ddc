import Foundation
import HSBSafeguarding
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("Language and rule coverage")
struct LanguageAndCoverageTests {
    /// Every text the module writes for a wide range of referrals and police decisions.
    func everyWrittenText() throws -> [String] {
        var texts: [String] = []
        let bands = [(3, "0-5"), (7, "5-9"), (11, "9-13"), (15, "13-17")]
        for profile in ProcedureProfile.builtIn {
            for (age, band) in bands {
                for grade in ["green", "amber", "red"] {
                    var facts = referral(age: age, behaviours: ["brook/\(band)/\(grade)/1"])
                    facts.harmIndicators = Set(HarmIndicator.allCases)
                    facts.significantHarmSuspected = true
                    facts.child.lookedAfter = true
                    facts.child.openToSocialCare = grade == "amber"
                    facts.child.homeAuthority = "Barnet"
                    facts.urgentByTelephone = true
                    facts.policeNotification = true
                    facts.child.openToYouthJustice = true
                    facts.siblingsAtRisk = true
                    facts.exploitationLinks = true
                    facts.sexualActivity = true
                    facts.mentalHealthConcern = true
                    facts.immediateRisk = grade == "red"
                    facts.behaviours.append(.other(description: "something else"))
                    facts.personsHarmed[0].adultInNeedOfSafeguarding = true
                    let decision = try ReferralScreening(profile: profile).screen(facts)
                    texts +=
                        decision.rationale + decision.tasks.map(\.description) + decision.notifications.map(\.reason)
                        + decision.forPractitionerJudgement
                    texts += decision.routes.map(\.rawValue) + decision.tasks.map(\.owner.rawValue)
                }
            }
        }
        for decision in PoliceDecision.allCases {
            let result = try PoliceDecisionRouting().route(
                PoliceDecisionFacts(
                    decidedAt: monday, childSubjectID: "c", age: 14, decision: decision, disposal: decision == .outOfCourtDisposal ? .triage : nil,
                    concernsRemain: true))
            texts += result.rationale + result.tasks.map(\.description) + result.notifications.map(\.reason)
        }
        texts += BrookCatalogue.entries.map(\.text) + BrookCatalogue.gradeDescriptions.values
        texts += HarmIndicator.allCases.map(\.text) + HackettLevel.allCases.flatMap(\.descriptors)
        texts += ProcedureProfile.builtIn.map(\.summary) + Recipient.allCases.map(\.rawValue)
        texts += AIMAssignment.leadOnlyDuties + AIMAssignment.sharedDuties
        let planning = YouthJusticePlanning(profile: .calderdale)
        for plea in Plea.allCases {
            var facts = CourtFacts(recordedAt: monday, childSubjectID: "c", age: 15, plea: plea)
            facts.referralOrder = true
            facts.camhsAssessmentCoversIssues = true
            let plan = try planning.court(facts)
            texts += plan.rationale + plan.tasks.map(\.description) + plan.notifications.map(\.reason)
        }
        for plan in [
            planning.release(
                childSubjectID: "c", date: date("2027-03-12"), concernsAboutOthers: true, siblingsOrChildrenAtRisk: true, movingIntoArea: true,
                knownAt: monday),
            try planning.admission(childSubjectID: "c", admittedAt: monday, bailDays: nil, socialCareInvolvementEnds: true),
            planning.panelReferral(childSubjectID: "c", riskOfSeriousHarm: true, highlyVulnerable: true)!,
        ] {
            texts += plan.rationale + plan.tasks.map(\.description) + plan.notifications.map(\.reason)
        }
        texts += YouthJusticePlanning.panelMembership + CamhsRules.offers
        texts += [CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: true, aimAssessmentComplete: false)!]
        return texts
    }

    @Test("GEN-07: no text the suite writes labels a child an offender or abuser")
    func language() throws {
        let texts = try everyWrittenText()
        #expect(texts.count > 500)
        for text in texts {
            #expect(LanguagePolicy.violations(in: text).isEmpty, "\(text)")
        }
        // MAPPA's statutory records may say "offender" (GEN-07).
        var mappa = MappaFacts(subjectID: "c", age: 16)
        mappa.subjectToNotificationRequirements = true
        for reason in MappaRules.screen(mappa).reasons {
            #expect(LanguagePolicy.violations(in: reason, statutoryMAPPA: true).isEmpty, "\(reason)")
        }
        #expect(LanguagePolicy.violations(in: "the young sex offender") == ["sex offender", "offender"])
        #expect(LanguagePolicy.violations(in: "Category 1: registered offenders", statutoryMAPPA: true).isEmpty)
        #expect(LanguagePolicy.violations(in: "a young abuser", statutoryMAPPA: true) == ["abuser"])
    }

    func catalogueRows() throws -> [(id: String, source: String)] {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("docs/RULES.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, cells[0].range(of: #"^[A-Z]+-\d+$"#, options: .regularExpression) != nil else { return nil }
            return (cells[0], cells[2])
        }
    }

    @Test("The rule catalogue in code matches docs/RULES.md, ID for ID and clause for clause")
    func catalogueMatches() throws {
        let rows = try catalogueRows()
        #expect(rows.count == 70)
        #expect(rows.map(\.id) == RuleCatalogue.rules.map(\.id))
        #expect(rows.map(\.source) == RuleCatalogue.rules.map(\.source))
    }

    @Test("Every rule of docs/RULES.md has a coverage entry, and each decided here is named by a test")
    func coverage() throws {
        let ids = try catalogueRows().map(\.id)
        #expect(RuleCoverage.entries.map(\.ruleID) == ids, "one entry per rule, in catalogue order")
        let testsFolder = packageRoot.appendingPathComponent("Tests/HSBSafeguardingTests")
        let files = try FileManager.default.contentsOfDirectory(atPath: testsFolder.path).filter { $0.hasSuffix(".swift") }
        let testNames = try files.flatMap { file in
            try String(contentsOf: testsFolder.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n").filter { $0.contains("@Test(\"") }.map(String.init)
        }
        for entry in RuleCoverage.entries {
            guard case .rulesModule(let symbols) = entry.owner else { continue }
            #expect(!symbols.isEmpty)
            let named = testNames.contains { line in
                line.range(of: #"[^A-Z]\#(entry.ruleID)[^0-9]"#, options: .regularExpression) != nil
            }
            #expect(named, "\(entry.ruleID) is decided here but no test names it")
        }
    }
}
