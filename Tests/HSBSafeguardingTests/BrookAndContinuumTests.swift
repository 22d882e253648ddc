import HSBSafeguarding
import Testing

@Suite("Brook traffic lights, harm indicators, the continuum and categories")
struct BrookAndContinuumTests {
    @Test("SCR-01: the catalogue holds every behaviour of Appendix 1 with stable, unique ids")
    func catalogueShape() {
        let counts = AgeBand.allCases.map { band in
            TrafficLight.allCases.map { light in BrookCatalogue.behaviours(in: band).filter { $0.grade == light }.count }
        }
        #expect(counts == [[7, 6, 5], [5, 5, 5], [6, 7, 10], [9, 8, 15]])
        #expect(Set(BrookCatalogue.entries.map(\.id)).count == BrookCatalogue.entries.count)
        #expect(BrookCatalogue.entries.allSatisfy { !$0.text.isEmpty && $0.id.hasPrefix("brook/\($0.band.label)/\($0.grade.name)/") })
        #expect(BrookCatalogue.behaviour(id: "brook/13-17/red/8")?.text == "non-consensual sexual activity")
        #expect(TrafficLight.allCases.allSatisfy { BrookCatalogue.gradeDescriptions[$0] != nil })
    }

    @Test("SCR-01: band boundaries at 5, 9 and 13 go to the older band; 18 is not a child (GEN-01)")
    func bandConvention() {
        #expect(AgeBand(age: 4) == .zeroToFive)
        #expect(AgeBand(age: 5) == .fiveToNine)
        #expect(AgeBand(age: 8) == .fiveToNine)
        #expect(AgeBand(age: 9) == .nineToThirteen)
        #expect(AgeBand(age: 12) == .nineToThirteen)
        #expect(AgeBand(age: 13) == .thirteenToSeventeen)
        #expect(AgeBand(age: 17) == .thirteenToSeventeen)
        #expect(AgeBand(age: 18) == nil)
    }

    @Test("SCR-01 SCR-03 SCR-04: every catalogue behaviour alone grades as the catalogue says, across the whole catalogue")
    func wholeCatalogue() throws {
        let ages: [AgeBand: Int] = [.zeroToFive: 3, .fiveToNine: 7, .nineToThirteen: 11, .thirteenToSeventeen: 15]
        for entry in BrookCatalogue.entries {
            var facts = referral(age: ages[entry.band]!, behaviours: [entry.id])
            facts.personsHarmed = []
            let decision = try screen(facts)
            #expect(decision.outcome == .screened)
            #expect(decision.trafficLight == entry.grade, "\(entry.id)")
            let expected: HackettLevel = [.green: .normal, .amber: .problematic, .red: .abusive][entry.grade]!
            #expect(decision.continuum == expected, "\(entry.id)")
            #expect(decision.category == expected.riskCategory)
            #expect(decision.ruleIDs.contains("SCR-01") && decision.ruleIDs.contains("SCR-03"))
        }
    }

    @Test("SCR-02: the harm indicators raise concern; an 'other' behaviour is graded by them and flagged")
    func harmIndicators() throws {
        var facts = referral(age: 11, behaviours: ["brook/9-13/green/1"])
        facts.harmIndicators = [.frequencyBeyondDevelopmentalExpectation]
        var decision = try screen(facts)
        #expect(decision.continuum == .inappropriate)
        #expect(decision.threshold == .earlyHelp)
        #expect(decision.ruleIDs.contains("SCR-02"))

        facts.harmIndicators = [.coercionIntimidationOrForce]
        decision = try screen(facts)
        #expect(decision.continuum == .abusive)

        facts.behaviours = [.other(description: "drawing explicit pictures of classmates")]
        facts.harmIndicators = [.emotionalDistress]
        decision = try screen(facts)
        #expect(decision.grades.first?.grade == .amber)
        #expect(decision.grades.first?.gradedByIndicators == true)
        #expect(decision.forPractitionerJudgement.contains { $0.contains("not in the Brook catalogue") })
        #expect(decision.continuum == .problematic)
    }

    @Test("SCR-03 SCR-04: physical violence is violent, category 3; a practitioner may place it elsewhere with a reason")
    func violentAndOverride() throws {
        var facts = referral(age: 15, behaviours: ["brook/13-17/red/8"])
        facts.physicallyViolent = true
        var decision = try screen(facts)
        #expect(decision.continuum == .violent && decision.category == .three)
        facts.physicallyViolent = false
        facts.practitionerContinuum = .problematic
        facts.practitionerReason = "single incident between peers, now resolved"
        decision = try screen(facts)
        #expect(decision.continuum == .problematic && decision.category == .one)
        #expect(decision.forPractitionerJudgement.contains { $0.contains("set by a practitioner") })
        facts.practitionerReason = ""
        #expect(throws: ScreeningInputError(problems: ["practitioner_continuum needs practitioner_reason"])) { try screen(facts) }
    }

    @Test("SCR-04: the matrix of continuum and category")
    func categories() {
        #expect(HackettLevel.normal.riskCategory == nil)
        #expect(HackettLevel.inappropriate.riskCategory == .zero)
        #expect(HackettLevel.problematic.riskCategory == .one)
        #expect(HackettLevel.abusive.riskCategory == .two)
        #expect(HackettLevel.violent.riskCategory == .three)
    }

    @Test("Bad input is refused with every problem named")
    func badInput() {
        var facts = referral(age: 7, behaviours: ["brook/13-17/red/1", "brook/nope"])
        facts.personsHarmed.append(PersonHarmed(subjectID: "harmed-1", dateOfBirth: nil))
        #expect(
            throws: ScreeningInputError(problems: [
                "behaviours[0]: 'brook/13-17/red/1' is for the 13-17 band, but the child is in the 5-9 band",
                "behaviours[1]: 'brook/nope' is not in the Brook catalogue",
                "persons_harmed[1].subject_id 'harmed-1' is used twice",
            ])
        ) { try screen(facts) }
    }
}
