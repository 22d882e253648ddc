import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBWire

/// Turns wire referrals into the facts the rules read, and decisions back into wire results.
enum ReferralMapping {
    static let indicators: [IntakeV1.HarmIndicator: HarmIndicator] = [
        .frequencyBeyondDevelopmentalExpectation: .frequencyBeyondDevelopmentalExpectation,
        .interferesWithDevelopment: .interferesWithDevelopment,
        .coercionIntimidationOrForce: .coercionIntimidationOrForce,
        .emotionalDistress: .emotionalDistress,
        .divergentAgesOrAbilities: .divergentAgesOrAbilities,
        .recursInSecrecyAfterIntervention: .recursInSecrecyAfterIntervention,
    ]

    static func civil(_ date: CalendarDate?, field: String, problems: inout [String]) -> CivilDate? {
        guard let date else { return nil }
        guard let civil = CivilDate(year: Int(date.year), month: Int(date.month), day: Int(date.day)) else {
            problems.append("\(field) \(date.year)-\(date.month)-\(date.day) is not a date")
            return nil
        }
        return civil
    }

    static func behaviours(_ items: [IntakeV1.Behaviour], problems: inout [String]) -> [ReportedBehaviour] {
        items.enumerated().compactMap { index, item in
            switch (item.catalogueId.isEmpty, item.otherDescription.isEmpty) {
            case (false, true): return .catalogue(id: item.catalogueId)
            case (true, false): return .other(description: item.otherDescription)
            case (false, false):
                problems.append("behaviours[\(index)] has both catalogue_id and other_description; give one")
                return nil
            case (true, true):
                problems.append("behaviours[\(index)] needs catalogue_id or other_description")
                return nil
            }
        }
    }

    static func harmIndicators(_ items: [IntakeV1.HarmIndicator], problems: inout [String]) -> Set<HarmIndicator> {
        var result: Set<HarmIndicator> = []
        for (index, item) in items.enumerated() {
            guard let indicator = indicators[item] else {
                problems.append(
                    item.isRecognized
                        ? "harm_indicators[\(index)] is unspecified" : RPCError.unrecognized("harm_indicators[\(index)]", item.rawValue).message)
                continue
            }
            result.insert(indicator)
        }
        return result
    }

    /// The documented limits of a referral (docs/REFERRAL_JSON.md): beyond them it is refused,
    /// naming the field, before any rule reads it.
    enum Limits {
        static let nameCharacters = 100
        static let idCharacters = 100
        static let freeTextCharacters = 10_000
        static let behaviours = 100
        static let personsHarmed = 50
        /// The oldest date of birth a child displaying HSB or a child harmed can have (GEN-01: under 18,
        /// with room for a late referral about an incident years ago).
        static let oldestYears = 25
    }

    /// Checks the lengths, counts and identities of a referral, naming each problem.
    static func limits(_ referral: IntakeV1.Referral, problems: inout [String]) {
        func text(_ value: String, _ field: String, max: Int, required: Bool = false) {
            if required && value.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("\(field) must not be blank") }
            if value.count > max { problems.append("\(field) is \(value.count) characters; at most \(max) are allowed") }
        }
        func subject(_ subject: Subject, _ field: String) {
            text(subject.subjectID, "\(field).subject_id", max: Limits.idCharacters, required: true)
            text(subject.givenName, "\(field).given_name", max: Limits.nameCharacters)
            text(subject.familyName, "\(field).family_name", max: Limits.nameCharacters)
            text(subject.postcode, "\(field).postcode", max: 16)
            text(subject.homeAuthority, "\(field).home_authority", max: Limits.nameCharacters)
            if !subject.givenName.isEmpty || !subject.familyName.isEmpty {
                if (subject.givenName + subject.familyName).allSatisfy({ $0.isWhitespace }) { problems.append("\(field) has a blank name") }
            }
        }
        if let child = referral.child { subject(child, "referral.child") }
        for (index, person) in referral.personsHarmed.enumerated() {
            if let harmed = person.subject { subject(harmed, "referral.persons_harmed[\(index)].subject") }
        }
        text(referral.referrer, "referral.referrer", max: Limits.nameCharacters * 2, required: true)
        for (value, field) in [
            (referral.incidentDetails, "incident_details"), (referral.victimVulnerability, "victim_vulnerability"),
            (referral.coercionEvidence, "coercion_evidence"), (referral.referrerAssessedRisk, "referrer_assessed_risk"),
        ] {
            text(value, "referral.\(field)", max: Limits.freeTextCharacters)
        }
        for (index, behaviour) in referral.behaviours.enumerated() {
            text(behaviour.otherDescription, "referral.behaviours[\(index)].other_description", max: Limits.freeTextCharacters)
        }
        if referral.behaviours.count > Limits.behaviours {
            problems.append("referral.behaviours has \(referral.behaviours.count) entries; at most \(Limits.behaviours) are allowed")
        }
        if referral.personsHarmed.count > Limits.personsHarmed {
            problems.append("referral.persons_harmed has \(referral.personsHarmed.count) entries; at most \(Limits.personsHarmed) are allowed")
        }
    }

    /// A date of birth that cannot be: after the day the referral was received, after the incident,
    /// or so long ago that the person could not have been a child within the procedure.
    static func checkBirth(_ birth: CivilDate?, field: String, received: CivilDate, incident: CivilDate?, problems: inout [String]) {
        guard let birth else { return }
        if birth > received { problems.append("\(field) \(birth) is after the referral was received (\(received))") }
        if let incident, birth > incident { problems.append("\(field) \(birth) is after the incident (\(incident))") }
        if birth < received.adding(months: -12 * Limits.oldestYears) {
            problems.append("\(field) \(birth) is more than \(Limits.oldestYears) years before the referral was received")
        }
    }

    /// When social care received the referral (`ReferralReceipt`).
    static func receivedAt(_ referral: IntakeV1.Referral, now: Int64) throws(RPCError) -> Instant {
        Instant(unixMillis: try ReferralReceipt.receivedAt(referral.receivedUnixMs, now: now))
    }

    /// The facts of a submitted referral; INVALID_ARGUMENT naming every field that is wrong.
    static func facts(_ referral: IntakeV1.Referral, receivedAt: Instant, localAuthority: String) throws(RPCError) -> ReferralFacts {
        var problems: [String] = []
        limits(referral, problems: &problems)
        if !problems.isEmpty { throw RPCError(.invalidArgument, problems.joined(separator: "; ")) }
        let child = referral.child!
        if child.role != .childDisplayingHSB { problems.append("referral.child.role must be SUBJECT_ROLE_CHILD_DISPLAYING_HSB") }
        let dateOfBirth = civil(child.dateOfBirth, field: "referral.child.date_of_birth", problems: &problems)
        if child.dateOfBirth == nil { problems.append("referral.child.date_of_birth is required") }
        var facts = ReferralFacts(
            receivedAt: receivedAt, localAuthority: localAuthority,
            child: ChildDisplayingHSB(subjectID: child.subjectID, dateOfBirth: dateOfBirth ?? CivilDate(2000, 1, 1)))
        facts.child.lookedAfter = child.lookedAfter
        facts.child.openToSocialCare = child.openToSocialCare
        facts.child.openToYouthJustice = referral.openToYouthJustice
        facts.child.knownToCAMHS = referral.knownToCamhs
        facts.child.homeAuthority = child.homeAuthority
        facts.incidentDate = civil(referral.incidentDate, field: "referral.incident_date", problems: &problems)
        for (index, person) in referral.personsHarmed.enumerated() {
            let subject = person.subject!
            if subject.role != .personHarmed { problems.append("referral.persons_harmed[\(index)].subject.role must be SUBJECT_ROLE_PERSON_HARMED") }
            var harmed = PersonHarmed(
                subjectID: subject.subjectID,
                dateOfBirth: civil(subject.dateOfBirth, field: "referral.persons_harmed[\(index)].subject.date_of_birth", problems: &problems))
            harmed.adultInNeedOfSafeguarding = person.adultInNeedOfSafeguarding
            facts.personsHarmed.append(harmed)
        }
        let received = LondonTime.date(of: receivedAt)
        if let incident = facts.incidentDate, incident > received {
            problems.append("referral.incident_date \(incident) is after the referral was received (\(received))")
        }
        checkBirth(dateOfBirth, field: "referral.child.date_of_birth", received: received, incident: facts.incidentDate, problems: &problems)
        for (index, person) in facts.personsHarmed.enumerated() {
            checkBirth(
                person.dateOfBirth, field: "referral.persons_harmed[\(index)].subject.date_of_birth", received: received,
                incident: facts.incidentDate, problems: &problems)
        }
        facts.behaviours = behaviours(referral.behaviours, problems: &problems)
        facts.harmIndicators = harmIndicators(referral.harmIndicators, problems: &problems)
        facts.incidentDetails = referral.incidentDetails
        facts.victimVulnerability = referral.victimVulnerability
        facts.coercionEvidence = referral.coercionEvidence
        facts.referrerAssessedRisk = referral.referrerAssessedRisk
        facts.otherChildrenMayBeAtRisk = [.yes: true, .no: false][referral.otherChildrenMayBeAtRisk]
        // Values a newer peer may send that this version does not know: refused, named.
        for (field, value, known) in [
            ("parents_told", referral.parentsTold.rawValue, referral.parentsTold.isRecognized),
            ("other_children_may_be_at_risk", referral.otherChildrenMayBeAtRisk.rawValue, referral.otherChildrenMayBeAtRisk.isRecognized),
            ("youth_produced_images", referral.youthProducedImages.rawValue, referral.youthProducedImages.isRecognized),
            ("consent_to_share", referral.consentToShare.rawValue, referral.consentToShare.isRecognized),
        ] where !known {
            problems.append(RPCError.unrecognized("referral.\(field)", value).message)
        }
        switch referral.parentsTold {
        case .unspecified, .unrecognized: facts.parentsTold = nil
        case .yes: facts.parentsTold = true
        case .noWouldIncreaseRiskOfHarm: (facts.parentsTold, facts.parentsNotToldReason) = (false, .wouldIncreaseRiskOfHarm)
        case .noWouldInterfereWithCriminalInvestigation:
            (facts.parentsTold, facts.parentsNotToldReason) = (false, .wouldInterfereWithCriminalInvestigation)
        case .noWouldCauseUndueDelay: (facts.parentsTold, facts.parentsNotToldReason) = (false, .wouldCauseUndueDelay)
        }
        facts.youthProducedImages =
            [.experimental: .experimental, .harmfulOrReckless: .harmfulOrReckless, .adultInvolved: .adultInvolved][
                referral.youthProducedImages]
        facts.urgentByTelephone = referral.urgentByTelephone
        facts.writtenFollowUpReceived = referral.writtenFollowUpReceived
        facts.physicallyViolent = referral.physicallyViolent
        facts.sexualActivity = referral.sexualActivity
        facts.significantHarmSuspected = referral.significantHarmSuspected
        facts.childDisplayingMayBeAbused = referral.childDisplayingMayBeAbused
        facts.immediateRisk = referral.immediateRisk
        facts.complexConcerns = referral.complexConcerns
        facts.exploitationLinks = referral.exploitationLinks
        facts.policeNotification = referral.policeNotification
        facts.siblingsAtRisk = referral.siblingsAtRisk
        facts.competenceAssessed = referral.competenceAssessed
        facts.mentalHealthConcern = referral.mentalHealthConcern
        if !problems.isEmpty { throw RPCError(.invalidArgument, problems.joined(separator: "; ")) }
        return facts
    }

    /// The agency behind a recipient's wire name (e.g. `independent-reviewing-officer`).
    static func agencyName(_ recipient: String) -> Agency? {
        Recipient(rawValue: recipient).map(DecisionWire.agency(for:))
    }

    static func result(_ decision: ScreeningDecision, referralID: String, version: Int64, subjects: [String]) -> IntakeV1.ScreeningResult {
        let wireDecision = DecisionWire.decision(
            outcome: decision.threshold?.name ?? decision.outcome.rawValue, subjects: subjects, routes: decision.routes.map(\.rawValue),
            tasks: decision.tasks, notifications: decision.notifications, citations: decision.citations, rationale: decision.rationale)
        return IntakeV1.ScreeningResult(
            referralId: referralID, outcome: decision.outcome.rawValue, missing: decision.missing, ageAtBehaviour: Int32(decision.ageAtBehaviour),
            ageBand: decision.band?.label ?? "", trafficLight: decision.trafficLight?.name ?? "", continuum: decision.continuum?.name ?? "",
            riskCategory: decision.category.map { String($0.rawValue) } ?? "", threshold: decision.threshold?.name ?? "",
            decision: wireDecision,
            notices: decision.notifications.map { IntakeV1.Notice(recipient: $0.recipient.rawValue, reason: $0.reason, ruleId: $0.ruleID) },
            forPractitionerJudgement: decision.forPractitionerJudgement, joinsOpenCase: decision.joinsOpenCase, profile: decision.profile,
            version: version,
            harmedChildren: subjects.dropFirst().compactMap { id in
                decision.thresholdsForPersonsHarmed[id].map { IntakeV1.HarmedChild(subjectId: id, threshold: $0.name) }
            },
            grades: decision.grades.map { graded in
                var catalogueID = ""
                if case .catalogue(let id) = graded.behaviour { catalogueID = id }
                return IntakeV1.GradedBehaviour(
                    text: graded.text, catalogueId: catalogueID, grade: graded.grade.name, gradedByIndicators: graded.gradedByIndicators)
            }, aimLead: decision.aim?.lead.rawValue ?? "", aimCoWorker: decision.aim?.coWorker?.rawValue ?? "")
    }
}
