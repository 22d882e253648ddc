import HSBSafeguarding

/// Monday 16 November 2026, 09:00 in London (GMT).
let monday = Instant(unixMillis: 1_794_819_600_000)

/// A complete referral about a child of `age` on the referral date with one person harmed aged 12.
func referral(age: Int, behaviours: [String], on received: Instant = monday) -> ReferralFacts {
    let today = LondonTime.date(of: received)
    var child = ChildDisplayingHSB(subjectID: "child-1", dateOfBirth: today.adding(months: -12 * age).adding(days: -30))
    child.homeAuthority = ""
    var facts = ReferralFacts(receivedAt: received, localAuthority: "Camden", child: child)
    facts.behaviours = behaviours.map { .catalogue(id: $0) }
    facts.personsHarmed = [PersonHarmed(subjectID: "harmed-1", dateOfBirth: today.adding(months: -12 * 12))]
    facts.incidentDetails = "In the school toilets at break time"
    facts.victimVulnerability = "Younger, has a learning disability"
    facts.coercionEvidence = "none"
    facts.referrerAssessedRisk = "medium"
    facts.otherChildrenMayBeAtRisk = false
    facts.parentsTold = true
    return facts
}

func screen(_ facts: ReferralFacts, _ profile: ProcedureProfile = .camden) throws -> ScreeningDecision {
    try ReferralScreening(profile: profile).screen(facts)
}

extension ScreeningDecision {
    var ruleIDs: [String] { citations.map(\.ruleID) }
    func task(_ id: String) -> DecisionTask? { tasks.first { $0.id == id } }
    func notified(_ recipient: Recipient) -> Bool { notifications.contains { $0.recipient == recipient } }
}
