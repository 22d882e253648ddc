/// The child displaying HSB, as the front door knows them.
public struct ChildDisplayingHSB: Sendable, Hashable, Codable {
    public var subjectID: String
    public var dateOfBirth: CivilDate
    public var lookedAfter: Bool = false
    public var openToSocialCare: Bool = false
    public var openToYouthJustice: Bool = false
    public var knownToCAMHS: Bool = false
    /// The local authority where the child lives; empty when it is this partnership's own.
    public var homeAuthority: String = ""

    public init(subjectID: String, dateOfBirth: CivilDate) {
        self.subjectID = subjectID
        self.dateOfBirth = dateOfBirth
    }
}

/// A person harmed by the behaviour: a separate subject with a separate record (GEN-01).
public struct PersonHarmed: Sendable, Hashable, Codable {
    public var subjectID: String
    /// Nil when not known; an unknown age is treated as a child's (the protective reading).
    public var dateOfBirth: CivilDate?
    /// GEN-06: an adult in need of safeguarding.
    public var adultInNeedOfSafeguarding: Bool = false

    public init(subjectID: String, dateOfBirth: CivilDate?) {
        self.subjectID = subjectID
        self.dateOfBirth = dateOfBirth
    }
}

/// A behaviour the referrer reports: an entry of the Brook catalogue, or something else in the
/// referrer's words (graded by the harm indicators and flagged for a practitioner's judgement;
/// never graded from its free text).
public enum ReportedBehaviour: Sendable, Hashable, Codable {
    case catalogue(id: String)
    case other(description: String)
}

/// Youth-produced sexual images, where that is what was reported (SCR-17; LLR 3).
public enum YouthProducedImages: String, Sendable, Hashable, Codable {
    /// Experimental or attention-seeking, no intent to harm, no reckless misuse: outside this procedure.
    case experimental
    /// With intent to harm, or misused recklessly: inside this procedure.
    case harmfulOrReckless = "harmful-or-reckless"
    /// An adult was involved: other procedures apply.
    case adultInvolved = "adult-involved"
}

/// Why parents were not told of a referral (SCR-20; CAM 13).
public enum ParentsNotToldReason: String, Sendable, Hashable, Codable, CaseIterable {
    case wouldIncreaseRiskOfHarm = "would-increase-risk-of-harm"
    case wouldInterfereWithCriminalInvestigation = "would-interfere-with-criminal-investigation"
    case wouldCauseUndueDelay = "would-cause-undue-delay"
}

/// A referral as the screening rules read it.
public struct ReferralFacts: Sendable, Hashable, Codable {
    public var receivedAt: Instant
    /// When the behaviour happened; ages are taken at this date (else at receipt).
    public var incidentDate: CivilDate?
    /// The partnership's own local authority, e.g. "Camden".
    public var localAuthority: String
    public var child: ChildDisplayingHSB
    public var personsHarmed: [PersonHarmed] = []
    public var behaviours: [ReportedBehaviour] = []
    public var harmIndicators: Set<HarmIndicator> = []
    /// Physically violent, highly intrusive or sadistic (Hackett: violent).
    public var physicallyViolent = false
    /// The incident involved sexual activity (GEN-04, GEN-05).
    public var sexualActivity = false
    /// A child is suspected to be at risk of significant harm.
    public var significantHarmSuspected = false
    /// There is evidence the child displaying HSB is being abused (SCR-05).
    public var childDisplayingMayBeAbused = false
    /// Risk to life or serious immediate harm (SCR-09).
    public var immediateRisk = false
    /// The concerns are complex (SCR-08, where the profile allows more time).
    public var complexConcerns = false
    /// Sexual exploitation or gang links (SCR-16).
    public var exploitationLinks = false
    public var youthProducedImages: YouthProducedImages?
    /// SCR-11.
    public var urgentByTelephone = false
    public var writtenFollowUpReceived = false
    /// SCR-20: nil when the referrer has not said.
    public var parentsTold: Bool?
    public var parentsNotToldReason: ParentsNotToldReason?
    /// SCR-10: what a referral about an incident with a victim must carry.
    public var incidentDetails = ""
    public var victimVulnerability = ""
    public var coercionEvidence = ""
    public var referrerAssessedRisk = ""
    public var otherChildrenMayBeAtRisk: Bool?
    /// SCR-15: a police (MERLIN) notification.
    public var policeNotification = false
    public var siblingsAtRisk = false
    /// GEN-05: an assessment of competence to consent and of the relationship is on record.
    public var competenceAssessed = false
    /// MH-01: the child has, or is thought to have, mental health concerns.
    public var mentalHealthConcern = false
    /// A practitioner's placing on the continuum, with the reason, which replaces the derived one.
    public var practitionerContinuum: HackettLevel?
    public var practitionerReason = ""

    public init(receivedAt: Instant, localAuthority: String, child: ChildDisplayingHSB) {
        self.receivedAt = receivedAt
        self.localAuthority = localAuthority
        self.child = child
    }
}

/// Input the screening cannot read at all; names every problem, and nothing is decided.
public struct ScreeningInputError: Error, Sendable, Hashable, CustomStringConvertible {
    public let problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String { problems.joined(separator: "; ") }
}

/// What the front door decided about a referral, and why.
public struct ScreeningDecision: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// SCR-10: returned to the referrer with the missing items named.
        case returnedIncomplete = "returned-incomplete"
        /// GEN-01 or SCR-17: not for this procedure, with the reason.
        case outsideProcedure = "outside-procedure"
        case screened
    }

    public let outcome: Outcome
    public let profile: String
    /// Named items the referral lacks (SCR-10, SCR-20); for an urgent referral these become tasks.
    public let missing: [String]
    public let ageAtBehaviour: Int
    public let band: AgeBand?
    /// The highest grade of the reported behaviours (SCR-01).
    public let trafficLight: TrafficLight?
    /// Each reported behaviour and the grade it got.
    public let grades: [GradedBehaviour]
    public let continuum: HackettLevel?
    public let category: RiskCategory?
    /// For the child displaying HSB.
    public let threshold: Threshold?
    /// Per person harmed who is a child.
    public let thresholdsForPersonsHarmed: [String: Threshold]
    public let routes: [CaseRoute]
    public let tasks: [DecisionTask]
    public let notifications: [Notification]
    public let citations: [Citation]
    public let rationale: [String]
    /// Points a practitioner must judge (an "other" behaviour, an overridden continuum, ...).
    public let forPractitionerJudgement: [String]
    /// SCR-13: the case joins the child's open social care case; no duplicate case is opened.
    public let joinsOpenCase: Bool
    /// YJ-04: on the concern route, who would lead an AIM assessment and who co-works it.
    public var aim: AIMAssignment? = nil
}

public struct GradedBehaviour: Sendable, Hashable, Codable {
    public let behaviour: ReportedBehaviour
    public let text: String
    public let grade: TrafficLight
    /// True when graded by the harm indicators rather than the catalogue.
    public let gradedByIndicators: Bool
}

/// The front-door screening of a referral: every rule of SCR, and the GEN rules about ages.
public struct ReferralScreening: Sendable {
    public let profile: ProcedureProfile
    public let deadlines: DeadlineCalculator

    public init(profile: ProcedureProfile = .camden, deadlines: DeadlineCalculator = DeadlineCalculator()) {
        self.profile = profile
        self.deadlines = deadlines
    }

    public func screen(_ referral: ReferralFacts) throws(ScreeningInputError) -> ScreeningDecision {
        try validate(referral)
        var record = DecisionRecorder()
        let behaviourDate = referral.incidentDate ?? LondonTime.date(of: referral.receivedAt)
        let age = referral.child.dateOfBirth.age(on: behaviourDate)
        let child = referral.child.subjectID

        // GEN-01: a child is under 18; the child displaying HSB and each person harmed are separate subjects.
        guard AgeRules.isChild(age: age), let band = AgeBand(age: age) else {
            record.apply("GEN-01", "Aged \(age) at the date of the behaviour: not a child, so this procedure does not apply; use adult procedures")
            return finish(.outsideProcedure, record, age: age)
        }
        let subjects =
            switch referral.personsHarmed.count {
            case 0: "The child displaying HSB is a subject with their own record, needs and plan"
            case 1: "The child displaying HSB and the person harmed are separate subjects with separate records, needs and plans"
            case let count:
                "The child displaying HSB and each of the \(count) people harmed are separate subjects with separate records, needs and plans"
            }
        record.apply("GEN-01", "Aged \(age) at the date of the behaviour: a child. \(subjects)")

        // SCR-17: youth-produced images that are experimental are outside the procedure; adult involvement goes elsewhere.
        if let images = referral.youthProducedImages, images != .harmfulOrReckless {
            let reportsMore = referral.behaviours.contains { if case .catalogue = $0 { true } else { false } }
            if images == .adultInvolved {
                record.apply("SCR-17", "An adult was involved in the youth-produced images: other procedures apply, not this one")
                record.notify(.police, "Adult involvement in youth-produced sexual images", rule: "SCR-17")
                return finish(.outsideProcedure, record, age: age, band: band)
            }
            if !reportsMore {
                record.apply(
                    "SCR-17",
                    "Youth-produced images that were experimental or attention-seeking, with no intent to harm and no reckless misuse: outside this procedure"
                )
                return finish(.outsideProcedure, record, age: age, band: band)
            }
        }

        // SCR-10, SCR-11 and SCR-20: what the referral must carry. Only a referral with no sign of
        // significant harm may go back to the referrer; any other is screened on what it holds.
        let missing = missingItems(referral)
        if !missing.isEmpty {
            let signs = significantHarmSigns(referral, behaviourDate: behaviourDate, age: age)
            if signs.isEmpty {
                record.apply(
                    "SCR-10",
                    "Returned to the referrer: the referral lacks \(missing.joined(separator: "; ")), and nothing in it indicates significant harm")
                return finish(.returnedIncomplete, record, age: age, band: band, missing: missing)
            }
            record.apply(
                "SCR-10",
                "The referral lacks: \(missing.joined(separator: "; ")). Not returned, because \(signs.joined(separator: ", ")): it is screened on what it holds, and the missing items are requested from the referrer"
            )
            record.task(
                "SCR-10", "missing-items", "Request from the referrer: \(missing.joined(separator: "; "))", owner: .contactService,
                due: deadlines.due(.hours(24), from: referral.receivedAt))
        }

        // SCR-01: each behaviour graded on the child's age band; "other" behaviours by the indicators.
        let indicatorFloor = referral.harmIndicators.map(\.continuumFloor).max() ?? .normal
        var grades: [GradedBehaviour] = []
        for behaviour in referral.behaviours {
            switch behaviour {
            case .catalogue(let id):
                let entry = BrookCatalogue.behaviour(id: id)!
                grades.append(GradedBehaviour(behaviour: behaviour, text: entry.text, grade: entry.grade, gradedByIndicators: false))
            case .other(let description):
                let grade: TrafficLight = indicatorFloor >= .abusive ? .red : indicatorFloor >= .problematic ? .amber : .green
                grades.append(GradedBehaviour(behaviour: behaviour, text: description, grade: grade, gradedByIndicators: true))
                record.judgement(
                    "'\(description)' is not in the Brook catalogue: graded \(grade.name) from the harm indicators only; confirm or change the grade")
            }
        }
        let light = grades.map(\.grade).max() ?? .green
        record.apply(
            "SCR-01",
            "Brook traffic light for the \(band.label) band: \(grades.map { "\($0.text) — \($0.grade.name)" }.joined(separator: "; ")). Highest: \(light.name)"
        )

        // SCR-02: the harm indicators raise concern.
        if !referral.harmIndicators.isEmpty {
            let listed = HarmIndicator.allCases.filter(referral.harmIndicators.contains).map(\.text)
            record.apply(
                "SCR-02", "Harm indicators recorded: the behaviour \(listed.joined(separator: "; ")). They place it at least \(indicatorFloor.name)")
        }

        // SCR-03: the Hackett continuum.
        var continuum = max(HackettLevel(light), indicatorFloor)
        if referral.physicallyViolent { continuum = .violent }
        if let assessed = referral.practitionerContinuum, assessed != continuum {
            record.apply(
                "SCR-03", "Hackett continuum derived as \(continuum.name); a practitioner placed it \(assessed.name): \(referral.practitionerReason)")
            record.judgement("The continuum was set by a practitioner (\(assessed.name)) rather than derived (\(continuum.name))")
            continuum = assessed
        } else {
            record.apply("SCR-03", "Hackett continuum: \(continuum.name) (\(continuum.descriptors.first ?? ""))")
        }

        // SCR-04: the risk category.
        let category = continuum.riskCategory
        if let category {
            record.apply("SCR-04", "Risk category \(category.rawValue) (\(continuum.name))")
        }

        // SCR-05 and GEN-04: the threshold.
        var threshold = Self.threshold(for: continuum)
        let childrenHarmed = referral.personsHarmed.filter { person in
            person.dateOfBirth.map { AgeRules.isChild(age: $0.age(on: behaviourDate)) } ?? true
        }
        if continuum >= .abusive {
            if !childrenHarmed.isEmpty && referral.significantHarmSuspected {
                threshold = .childProtection
                record.apply("SCR-05", "Abusive behaviour directed at a child at risk of significant harm: child protection")
            } else {
                record.apply(
                    "SCR-05", "Abusive behaviour, but no child is identified as at risk of significant harm: child in need, reviewed if that changes")
            }
        } else {
            record.apply("SCR-05", "Threshold: \(threshold.name)")
        }
        var harmedThresholds: [String: Threshold] = [:]
        for person in childrenHarmed {
            harmedThresholds[person.subjectID] = referral.significantHarmSuspected && continuum >= .abusive ? .childProtection : .childInNeed
        }
        let youngest = ([age] + childrenHarmed.compactMap { $0.dateOfBirth?.age(on: behaviourDate) }).min() ?? age
        if referral.sexualActivity && AgeRules.cannotConsentToSexualActivity(age: youngest) {
            threshold = .childProtection
            for person in childrenHarmed { harmedThresholds[person.subjectID] = .childProtection }
            record.apply("GEN-04", "Sexual activity involving a child under 13 (youngest aged \(youngest)): a child protection referral")
        }
        if referral.childDisplayingMayBeAbused {
            threshold = .childProtection
            record.apply("SCR-05", "Evidence that the child displaying HSB is being abused: child protection for that child too")
        }

        // GEN-03 and the routes.
        var routes: [CaseRoute] = []
        switch threshold {
        case .childProtection: routes.append(.childProtection)
        case .childInNeed: routes.append(.childInNeed)
        case .earlyHelp: routes.append(.earlyHelp)
        case .noFurtherAction: break
        }
        if AgeRules.belowCriminalResponsibility(age: age) {
            record.apply(
                "GEN-03",
                "Aged \(age): below the age of criminal responsibility. No police investigation or criminal justice route; children's social care leads"
            )
            if continuum >= .inappropriate {
                record.task(
                    "GEN-03", "strategy-discussion",
                    "Strategy discussion between social worker and team manager on whether the behaviour suggests concerns; enquiry and background checks if so",
                    owner: .socialCare, subject: child)
            }
        } else if AgeRules.inYouthJusticeRange(age: age), continuum >= .problematic {
            routes.append(.concern)
            record.apply(
                "YJ-03",
                "Aged \(age) with \(continuum.name) behaviour: the concern route; the Brook grade (\(light.name)) decides whether a strategy meeting is called"
            )
        }

        // The category's actions (SCR-06 to SCR-08) with the profile's deadlines; SCR-09 at any category.
        applyCategoryActions(category, referral, &record, child: child, age: age)
        applyImmediateProtection(category, referral, &record, child: child, age: age)

        // SCR-18, SCR-19: assessment and the safeguarding unit.
        if threshold >= .childInNeed {
            record.apply("SCR-18", "Child and family assessment within \(profile.assessmentDays) days of the referral")
            record.task(
                "SCR-18", "assessment", "Complete the child and family assessment", owner: .socialCare,
                due: deadlines.due(.calendarDays(profile.assessmentDays), from: referral.receivedAt), subject: child)
        }
        if continuum >= .inappropriate {
            record.apply("SCR-19", "The assessment shows \(continuum.name) behaviour: the safeguarding unit is notified")
            record.notify(.safeguardingUnit, "Child displaying \(continuum.name) sexual behaviour", rule: "SCR-19")
        }

        // GEN-01, STR-03: each child harmed is a subject in their own right, with a threshold,
        // work and a case of their own (linked to this one by the orchestrator).
        for person in childrenHarmed {
            guard let harmedThreshold = harmedThresholds[person.subjectID], harmedThreshold >= .childInNeed else { continue }
            record.apply(
                "GEN-01",
                "\(person.subjectID), the child harmed: \(harmedThreshold.name) in their own right, with their own record, assessment and plan")
            record.task(
                "GEN-01", "own-assessment", "Assess the harmed child's own needs and safety, with their own record and plan", owner: .socialCare,
                subject: person.subjectID)
            if harmedThreshold == .childProtection || (category.map { $0 >= .two } ?? false) {
                record.apply("STR-03", "A separate strategy meeting about \(person.subjectID) is considered")
                record.task(
                    "STR-03", "separate-strategy-meeting", "Consider a strategy meeting about the harmed child, separate from the other child's",
                    owner: .socialCare, subject: person.subjectID)
            }
        }

        // GEN-02, GEN-05, GEN-06: the people involved.
        if !referral.personsHarmed.isEmpty && threshold >= .childInNeed {
            record.apply("GEN-02", "The child displaying HSB and each person harmed get different social workers, even in the same household")
            record.task(
                "GEN-02", "separate-workers", "Allocate a social worker to the child displaying HSB different from each person harmed's",
                owner: .socialCare)
        }
        if referral.sexualActivity && AgeRules.needsCompetenceAssessment(age: age) && !referral.competenceAssessed {
            record.apply(
                "GEN-05", "Aged \(age) with sexual activity: record an assessment of competence to consent (Gillick/Fraser) and of the relationship")
            record.task(
                "GEN-05", "competence",
                "Record the assessment of competence to consent (Gillick/Fraser) and of the relationship: age, maturity, development, power",
                owner: .socialCare, subject: child)
        }
        for person in referral.personsHarmed where person.adultInNeedOfSafeguarding {
            record.apply("GEN-06", "A person harmed is an adult in need of safeguarding: referral to Adult Social Care")
            record.notify(.adultSocialCare, "Adult in need of safeguarding harmed (\(person.subjectID))", rule: "GEN-06")
        }

        // SCR-11 to SCR-16, SCR-20: the referral's circumstances.
        applyCircumstances(referral, &record, child: child)

        // MH-01, MH-02: CAMHS.
        if referral.child.knownToCAMHS {
            record.apply("MH-02", "Already known to CAMHS: the team is told of the new concern; no second referral")
            record.notify(.camhs, "New concern about a child known to CAMHS", rule: "MH-02")
        } else if AgeRules.camhsAccepts(
            ageAtReferral: referral.child.dateOfBirth.age(on: LondonTime.date(of: referral.receivedAt)),
            mentalHealthConcern: referral.mentalHealthConcern)
        {
            record.apply("MH-01", "Under 18 with mental health concerns: a CAMHS referral is accepted")
            record.task("MH-01", "camhs-referral", "Refer to CAMHS through its single point of access", owner: .socialCare, subject: child)
        }

        // STR-08: the HSB panel.
        if profile.hsbPanel && continuum >= .problematic {
            record.apply("STR-08", "This partnership's HSB panel advises the route once the social care assessment has found HSB")
            record.task("STR-08", "panel", "Refer to the HSB panel once the social care assessment has found HSB", owner: .socialCare, subject: child)
        }

        // INF-08: the records categories 1-3 need.
        if let category, category >= .one {
            record.apply(
                "INF-08",
                "Category \(category.rawValue): safety plans, consultations with rationale, multi-professional meetings, diversion plans and intervention plans are recorded"
            )
        }

        var decision = ScreeningDecision(
            outcome: .screened, profile: profile.name, missing: missing, ageAtBehaviour: age, band: band, trafficLight: light, grades: grades,
            continuum: continuum, category: category, threshold: threshold, thresholdsForPersonsHarmed: harmedThresholds,
            routes: routes, tasks: record.tasks, notifications: record.notifications, citations: record.citations,
            rationale: record.rationale, forPractitionerJudgement: record.forJudgement, joinsOpenCase: referral.child.openToSocialCare)
        if routes.contains(.concern) && AgeRules.inAIMRange(age: age) {
            decision.aim = AIMAssignment(route: .concern, openToYouthJustice: referral.child.openToYouthJustice, profile: profile)
        }
        return decision
    }

    /// SCR-05: the threshold the continuum reaches before the circumstances are weighed.
    public static func threshold(for continuum: HackettLevel) -> Threshold {
        switch continuum {
        case .normal: .noFurtherAction
        case .inappropriate: .earlyHelp
        case .problematic, .abusive, .violent: .childInNeed
        }
    }

    /// SCR-10 and SCR-20: the named items a referral lacks.
    public func missingItems(_ referral: ReferralFacts) -> [String] {
        var missing: [String] = []
        if referral.behaviours.isEmpty { missing.append("the presenting behaviours") }
        if !referral.personsHarmed.isEmpty {
            if referral.incidentDetails.isBlank { missing.append("details of the incident") }
            if referral.victimVulnerability.isBlank { missing.append("factors that make the person harmed particularly vulnerable") }
            if referral.coercionEvidence.isBlank { missing.append("evidence of coercion or duress (or 'none')") }
            if referral.referrerAssessedRisk.isBlank { missing.append("the referring agency's assessed level of risk") }
            if referral.otherChildrenMayBeAtRisk == nil { missing.append("whether other children may be at risk") }
        }
        if referral.parentsTold == nil || (referral.parentsTold == false && referral.parentsNotToldReason == nil) {
            missing.append("whether parents were told of the referral, or why not")
        }
        return missing
    }

    private func validate(_ referral: ReferralFacts) throws(ScreeningInputError) {
        var problems: [String] = []
        let received = LondonTime.date(of: referral.receivedAt)
        if referral.child.subjectID.isBlank { problems.append("child.subject_id is empty") }
        if referral.localAuthority.isBlank { problems.append("local_authority is empty") }
        if referral.child.dateOfBirth > received {
            problems.append("child.date_of_birth \(referral.child.dateOfBirth) is after the referral (\(received))")
        }
        if let incident = referral.incidentDate {
            if incident > received { problems.append("incident_date \(incident) is after the referral (\(received))") }
            if incident < referral.child.dateOfBirth { problems.append("incident_date \(incident) is before the child's date of birth") }
        }
        let behaviourDate = referral.incidentDate ?? received
        let band = AgeBand(age: referral.child.dateOfBirth.age(on: behaviourDate))
        for (index, behaviour) in referral.behaviours.enumerated() {
            switch behaviour {
            case .catalogue(let id):
                guard let entry = BrookCatalogue.behaviour(id: id) else {
                    problems.append("behaviours[\(index)]: '\(id)' is not in the Brook catalogue")
                    continue
                }
                if let band, entry.band != band {
                    problems.append("behaviours[\(index)]: '\(id)' is for the \(entry.band.label) band, but the child is in the \(band.label) band")
                }
            case .other(let description):
                if description.isBlank { problems.append("behaviours[\(index)]: an 'other' behaviour needs a description") }
            }
        }
        var ids: Set<String> = [referral.child.subjectID]
        for (index, person) in referral.personsHarmed.enumerated() {
            if person.subjectID.isBlank { problems.append("persons_harmed[\(index)].subject_id is empty") }
            if !ids.insert(person.subjectID).inserted { problems.append("persons_harmed[\(index)].subject_id '\(person.subjectID)' is used twice") }
        }
        if referral.practitionerContinuum != nil && referral.practitionerReason.isBlank {
            problems.append("practitioner_continuum needs practitioner_reason")
        }
        if !problems.isEmpty { throw ScreeningInputError(problems: problems) }
    }

    /// SCR-10: what in a referral indicates significant harm (or makes it urgent), so that it is
    /// never returned unprocessed; empty when nothing does.
    public func significantHarmSigns(_ referral: ReferralFacts, behaviourDate: CivilDate, age: Int) -> [String] {
        var signs: [String] = []
        if referral.immediateRisk { signs.append("there is immediate risk") }
        if referral.significantHarmSuspected { signs.append("significant harm is suspected") }
        if referral.childDisplayingMayBeAbused { signs.append("the child displaying HSB may be being abused") }
        if referral.physicallyViolent { signs.append("the behaviour was physically violent") }
        let ages = [age] + referral.personsHarmed.compactMap { $0.dateOfBirth?.age(on: behaviourDate) }
        if referral.sexualActivity, let youngest = ages.min(), AgeRules.cannotConsentToSexualActivity(age: youngest) {
            signs.append("sexual activity involved a child under 13")
        }
        let red = referral.behaviours.contains { behaviour in
            if case .catalogue(let id) = behaviour { return BrookCatalogue.behaviour(id: id)?.grade == .red }
            return false
        }
        if red { signs.append("a reported behaviour is red on the Brook traffic light") }
        if referral.urgentByTelephone { signs.append("it is an urgent telephone referral") }
        return signs
    }

    /// SCR-08: the strategy meeting's timescale for this referral, and how the decision cites it.
    func strategyMeetingRule(_ referral: ReferralFacts) -> (rule: DeadlineRule, complex: Bool, source: String) {
        let complex = referral.complexConcerns ? profile.complexStrategyMeeting : nil
        let source =
            profile.strategyMeetingIsPartnershipDefault
            ? "this procedure sets no timescale of its own: the partnership's configured default applies" : profile.strategyMeetingSource
        return (complex ?? profile.strategyMeeting, complex != nil, source)
    }

    private func applyCategoryActions(
        _ category: RiskCategory?, _ referral: ReferralFacts, _ record: inout DecisionRecorder, child: String, age: Int
    ) {
        switch category {
        case nil:
            return
        case .zero:
            if referral.child.openToSocialCare {
                record.apply("SCR-06", "Category 0 on an open case: a step-down meeting names a lead agency other than children's social care")
                record.task(
                    "SCR-06", "step-down-meeting",
                    "Hold a step-down meeting naming a lead agency other than children's social care to monitor the HSB risk",
                    owner: .allocatedSocialWorker, subject: child)
            } else {
                record.apply("SCR-06", "Category 0 on a new referral: stepped down to targeted youth support / early help")
                record.task("SCR-06", "step-down", "Step the referral down to targeted youth support / early help", owner: .earlyHelp, subject: child)
            }
        case .one:
            if referral.significantHarmSuspected {
                record.apply(
                    "SCR-07", "Category 1 with significant harm suspected: an HSB strategy discussion with police, or an HSB strategy meeting")
                record.task(
                    "SCR-07", "strategy-discussion", "Hold an HSB strategy discussion with police, or an HSB strategy meeting with the network",
                    owner: .socialCare, subject: child)
                applyStrategyMeetingContent(&record, age: age)
            } else {
                record.apply(
                    "SCR-07",
                    "Category 1 without suspected significant harm: an HSB risk discussion within an existing meeting (team around the child, review, core group or CP conference, child in need meeting)"
                )
                record.task(
                    "SCR-07", "risk-discussion", "Hold an HSB risk discussion within an existing multi-professional meeting", owner: .socialCare,
                    subject: child)
            }
            record.task(
                "SCR-07", "diversion-plan", "Put a diversion plan into the child's plan (CIN plan, care plan or CP plan)", owner: .socialCare,
                subject: child)
            record.task(
                "SCR-07", "family-group-conference", "Consider a family group conference to help the family form the diversion plan",
                owner: .socialCare, subject: child)
        case .two, .three:
            // With immediate risk the meeting follows the immediate protection (SCR-09).
            if !referral.immediateRisk {
                let (rule, complex, source) = strategyMeetingRule(referral)
                record.apply(
                    "SCR-08",
                    "Category \(category!.rawValue): an HSB strategy meeting within \(rule) of social care receiving the referral\(complex ? " (complex concerns)" : "") (\(source))"
                )
                record.task(
                    "SCR-08", "strategy-meeting", "Convene the HSB strategy meeting", owner: .socialCare,
                    due: deadlines.due(rule, from: referral.receivedAt), subject: child)
            }
            applyStrategyMeetingContent(&record, age: age)
        }
    }

    /// SCR-09: risk to life or serious immediate harm, in every profile and at any category:
    /// immediate action and a strategy discussion now, then the HSB strategy meeting within the
    /// profile's own rule for it (ISL 5.4), or else its SCR-08 timescale.
    private func applyImmediateProtection(
        _ category: RiskCategory?, _ referral: ReferralFacts, _ record: inout DecisionRecorder, child: String, age: Int
    ) {
        guard referral.immediateRisk else { return }
        let (ordinary, _, ordinarySource) = strategyMeetingRule(referral)
        let rule = profile.strategyMeetingAfterImmediateProtection ?? ordinary
        let source = profile.strategyMeetingAfterImmediateProtection == nil ? ordinarySource : "ISL 5.4"
        record.apply(
            "SCR-09",
            "Risk to life or of serious immediate harm: immediate action and a strategy discussion now; then an HSB strategy meeting within \(rule) of social care receiving the referral (\(source))"
        )
        record.task(
            "SCR-09", "immediate-protection", "Secure the child's immediate safety and hold a strategy discussion with police now",
            owner: .socialCare,
            due: DueDate(rule: .hours(0), due: referral.receivedAt, date: LondonTime.date(of: referral.receivedAt)), subject: child)
        record.task(
            "SCR-09", "strategy-meeting", "Convene the HSB strategy meeting", owner: .socialCare,
            due: deadlines.due(rule, from: referral.receivedAt), subject: child)
        // Categories 2 and 3 invite for the meeting already; below them the meeting is this one.
        if category == nil || category! < .two { applyStrategyMeetingContent(&record, age: age) }
    }

    /// STR-01, STR-02, MP-04: who a strategy meeting invites and what it decides. Under 10, youth
    /// justice is not engaged: no AIM3 checklist, no MAPPA consideration (GEN-03).
    private func applyStrategyMeetingContent(_ record: inout DecisionRecorder, age: Int) {
        let chair = profile.strategyMeetingChairs.map { $0.replacingHyphensWithSpaces() }.joined(separator: " or ")
        let underTen = AgeRules.belowCriminalResponsibility(age: age)
        record.apply(
            "STR-01",
            "Chaired by \(chair) (\(profile.strategyMeetingChairSource)). Invite: social care, \(underTen ? "" : "youth justice (AIM3 checklist), ")police, health, education where relevant, the referrer, parents or carers unless that raises risk, the young person where appropriate; an agency that cannot attend sends a written report"
        )
        record.apply(
            "STR-02",
            "The meeting decides and records: significant harm and s47 (single or joint), the initial safety plan\(underTen ? "" : ", whether an AIM assessment is appropriate with its lead and timescale, MAPPA") and exploitation referrals"
        )
        if underTen {
            record.apply("GEN-03", "Under 10: youth justice is not invited to complete an AIM3 checklist and MAPPA is not considered")
        } else {
            record.apply("MP-04", "MAPPA referral is considered at the strategy meeting")
            record.notify(.youthJustice, "Invited to the strategy meeting to complete the AIM3 checklist", rule: "STR-01")
        }
        record.notify(.police, "Invited to the strategy meeting", rule: "STR-01")
    }

    private func applyCircumstances(_ referral: ReferralFacts, _ record: inout DecisionRecorder, child: String) {
        if referral.urgentByTelephone && !referral.writtenFollowUpReceived {
            record.apply("SCR-11", "Urgent referral by telephone: it must be followed up in writing within \(profile.writtenFollowUpHours) hours")
            record.task(
                "SCR-11", "written-follow-up", "Receive the written follow-up of the telephone referral", owner: .contactService,
                due: deadlines.due(.hours(profile.writtenFollowUpHours), from: referral.receivedAt))
        }
        let home = referral.child.homeAuthority
        if !home.isBlank && home.lowercased() != referral.localAuthority.lowercased() {
            record.apply(
                "SCR-12",
                "The child lives in \(home): referred to the home authority; \(referral.localAuthority)'s contact service is notified and keeps a copy"
            )
            record.notify(.homeAuthority, "Referral of a child living in \(home)", rule: "SCR-12")
            record.notify(.contactService, "Copy of a referral made to \(home)", rule: "SCR-12")
        }
        if referral.child.openToSocialCare {
            record.apply(
                "SCR-13",
                "Already open to children's social care: the allocated social worker is notified and consults their manager and the IRO; no duplicate case"
            )
            record.notify(.allocatedSocialWorker, "New HSB concern on an open case: consult manager and IRO", rule: "SCR-13")
        }
        if referral.child.lookedAfter {
            record.apply(
                "SCR-14",
                "A looked-after child: the allocated social worker and IRO are notified at once; fostering, resources or pathways teams are told; the placement's safety for other children is reviewed; the CLA review may be brought forward"
            )
            record.notify(.allocatedSocialWorker, "HSB concern about a looked-after child", rule: "SCR-14")
            record.notify(
                .independentReviewingOfficer, "HSB concern about a looked-after child; consider bringing the CLA review forward", rule: "SCR-14")
            record.notify(.placementTeams, "HSB concern in a placement", rule: "SCR-14")
            record.task(
                "SCR-14", "placement-safety", "Review the safety of other children in the placement with the social worker, IRO and placement team",
                owner: .allocatedSocialWorker, subject: child)
        }
        if referral.policeNotification {
            record.apply(
                "SCR-15",
                "Police notification: processed by the contact service\(referral.child.openToYouthJustice ? ", copied to youth justice, with the RAG rating agreed with youth justice" : "")"
            )
            if referral.child.openToYouthJustice {
                record.notify(.youthJustice, "Copy of the police notification; agree the RAG rating", rule: "SCR-15")
            }
            if referral.siblingsAtRisk || referral.childDisplayingMayBeAbused {
                record.task(
                    "SCR-15", "social-work-assessment", "Social work assessment: siblings' safety or the child's own victimisation is a concern",
                    owner: .socialCare, subject: child)
            }
        }
        if referral.exploitationLinks {
            record.apply(
                "SCR-16",
                "Sexual exploitation or gang links: CSE risk assessment and referral to the MASE panel; an exploitation referral is considered")
            record.task("SCR-16", "cse-risk-assessment", "Complete the CSE risk assessment", owner: .socialCare, subject: child)
            record.notify(.mase, "Referral of a case with exploitation links", rule: "SCR-16")
        }
        if referral.parentsTold == false, let reason = referral.parentsNotToldReason {
            record.apply("SCR-20", "Parents not told of the referral: it \(reason.rawValue.replacingHyphensWithSpaces()) (recorded)")
        } else if referral.parentsTold == true {
            record.apply("SCR-20", "Parents were told of the referral")
        }
    }

    private func finish(
        _ outcome: ScreeningDecision.Outcome, _ record: DecisionRecorder, age: Int, band: AgeBand? = nil, missing: [String] = []
    ) -> ScreeningDecision {
        ScreeningDecision(
            outcome: outcome, profile: profile.name, missing: missing, ageAtBehaviour: age, band: band, trafficLight: nil, grades: [],
            continuum: nil, category: nil, threshold: nil, thresholdsForPersonsHarmed: [:], routes: [], tasks: record.tasks,
            notifications: record.notifications, citations: record.citations, rationale: record.rationale,
            forPractitionerJudgement: record.forJudgement, joinsOpenCase: false)
    }
}

extension String {
    var isBlank: Bool { allSatisfy(\.isWhitespace) }

    func replacingHyphensWithSpaces() -> String { String(map { $0 == "-" ? " " : $0 }) }
}
