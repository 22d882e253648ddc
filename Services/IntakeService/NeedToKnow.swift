import HSBWire

/// What each calling agency may see of a stored referral (INF-04, INF-05; CAM 13, CAL 6.6).
/// Written down here as data; docs/NEED_TO_KNOW.md explains each row.
enum ReferralPart: String, CaseIterable, Sendable {
    /// The child's name, date of birth, postcode, home authority, status flags.
    case childIdentity = "child identity"
    /// Names, dates of birth and addresses of persons harmed (their ids are always kept).
    case personsHarmedIdentity = "identity of persons harmed"
    case behaviours
    case harmIndicators = "harm indicators"
    /// Incident details, the person harmed's vulnerability, coercion evidence, the referrer's risk.
    case incidentDetail = "incident details"
    /// Mental health concern and CAMHS involvement.
    case healthInformation = "health information"
    /// Every task of the screening, not only the caller's own.
    case allTasks = "other agencies' tasks"
}

enum NeedToKnow {
    static let visible: [Agency: Set<ReferralPart>] = [
        .socialCare: Set(ReferralPart.allCases),
        .orchestrator: Set(ReferralPart.allCases),
        .police: [.childIdentity, .personsHarmedIdentity, .behaviours, .harmIndicators, .incidentDetail, .allTasks],
        .youthJustice: [.childIdentity, .behaviours, .harmIndicators, .incidentDetail],
        .camhs: [.childIdentity, .behaviours, .harmIndicators, .healthInformation],
        .health: [.childIdentity, .healthInformation],
        .education: [.childIdentity],
    ]

    /// `view` cut down to what `agency` may see; the names of what was withheld.
    static func filter(_ view: IntakeV1.ReferralView, for agency: Agency) -> IntakeV1.ReferralView {
        let allowed = visible[agency] ?? []
        var out = view
        var withheld: [String] = []
        func hide(_ part: ReferralPart, _ change: (inout IntakeV1.Referral) -> Void) {
            guard !allowed.contains(part) else { return }
            if out.referral != nil { change(&out.referral!) }
            withheld.append(part.rawValue)
        }
        hide(.childIdentity) { referral in
            if let child = referral.child { referral.child = Subject(subjectID: child.subjectID, role: child.role) }
        }
        hide(.personsHarmedIdentity) { referral in
            referral.personsHarmed = referral.personsHarmed.map {
                IntakeV1.PersonHarmed(subject: $0.subject.map { Subject(subjectID: $0.subjectID, role: $0.role) })
            }
        }
        hide(.behaviours) { $0.behaviours = [] }
        hide(.harmIndicators) { $0.harmIndicators = [] }
        hide(.incidentDetail) { referral in
            referral.incidentDetails = ""
            referral.victimVulnerability = ""
            referral.coercionEvidence = ""
            referral.referrerAssessedRisk = ""
        }
        hide(.healthInformation) { referral in
            referral.mentalHealthConcern = false
            referral.knownToCamhs = false
        }
        if !allowed.contains(.allTasks), var screening = out.screening, var decision = screening.decision {
            decision.tasks = decision.tasks.filter { $0.owner == agency }
            decision.rationale = ""
            screening.decision = decision
            screening.notices = screening.notices.filter { ReferralMapping.agencyName($0.recipient) == agency }
            out.screening = screening
            withheld.append(ReferralPart.allTasks.rawValue)
        }
        out.withheld = withheld
        return out
    }
}
