/// A plea, or the court's finding (YJ-08).
public enum Plea: String, Sendable, Hashable, Codable, CaseIterable {
    case guilty
    case foundGuilty = "found-guilty"
    case notGuilty = "not-guilty"
}

public struct CourtFacts: Sendable, Hashable, Codable {
    public var recordedAt: Instant
    public var childSubjectID: String
    public var age: Int
    public var plea: Plea
    /// A referral order was imposed.
    public var referralOrder = false
    /// CAMHS has already made a psychological assessment that covers the issues (YJ-09).
    public var camhsAssessmentCoversIssues = false

    public init(recordedAt: Instant, childSubjectID: String, age: Int, plea: Plea) {
        self.recordedAt = recordedAt
        self.childSubjectID = childSubjectID
        self.age = age
        self.plea = plea
    }
}

/// A plan of work with its rules: tasks, notifications, citations, rationale.
public struct WorkPlan: Sendable, Hashable, Codable {
    public let tasks: [DecisionTask]
    public let notifications: [Notification]
    public let citations: [Citation]
    public let rationale: [String]

    init(_ record: DecisionRecorder) {
        tasks = record.tasks
        notifications = record.notifications
        citations = record.citations
        rationale = record.rationale
    }
}

/// Youth justice's court, panel and release planning (YJ-08 to YJ-13, MP-04).
public struct YouthJusticePlanning: Sendable {
    public let profile: ProcedureProfile
    public let deadlines: DeadlineCalculator

    /// The High Risk and Vulnerability Panel's membership (YJ-10; CAM 9.4).
    public static let panelMembership = [
        "youth justice operational manager (chair)", "MASH manager", "looked-after children manager", "police", "clinical psychologist",
        "youth disorder, youth violence and gangs manager", "voluntary and community sector", "sexual health worker",
    ]

    public init(profile: ProcedureProfile = .camden, deadlines: DeadlineCalculator = DeadlineCalculator()) {
        self.profile = profile
        self.deadlines = deadlines
    }

    /// YJ-08, YJ-09, MP-04: what a plea or finding sets going.
    public func court(_ facts: CourtFacts) throws(ScreeningInputError) -> WorkPlan {
        guard AgeRules.inYouthJusticeRange(age: facts.age) else {
            throw ScreeningInputError(problems: ["aged \(facts.age): youth justice works with young people aged 10 to 17 (YJ-01)"])
        }
        var record = DecisionRecorder()
        let child = facts.childSubjectID
        switch facts.plea {
        case .notGuilty:
            record.apply("YJ-08", "Not guilty plea: no HSB assessment yet; the case is referred for advice on safety planning and harm reduction")
            record.task(
                "YJ-08", "safety-planning", "Seek advice on safety planning and harm-reduction work while the case continues", owner: .youthJustice,
                subject: child)
        case .guilty, .foundGuilty:
            record.apply(
                "YJ-08",
                "Guilty plea or finding: a pre-sentence report is requested with 6 to 8 weeks allowed for an AIM assessment; AssetPlus; a disposal proposal; an AIM intervention plan"
            )
            record.task(
                "YJ-08", "pre-sentence-report", "Ask the court for 6 to 8 weeks and complete the pre-sentence report informed by an AIM assessment",
                owner: .youthJustice, due: deadlines.due(.calendarDays(56), from: facts.recordedAt), subject: child)
            record.task("YJ-08", "assetplus", "Complete the AssetPlus assessment", owner: .youthJustice, subject: child)
            record.task("YJ-08", "disposal-proposal", "Propose a disposal to the court", owner: .youthJustice, subject: child)
            record.task(
                "YJ-08", "intervention-plan", "Make the AIM intervention plan, with roles and responsibilities", owner: .youthJustice, subject: child)
            if facts.referralOrder {
                record.task(
                    "YJ-08", "referral-order-contract",
                    "Put AIM assessment and intervention targets in the referral order contract proposals to the panel",
                    owner: .youthJustice, subject: child)
            }
            record.apply("MP-04", "On conviction, MAPPA referral is considered")
            record.task(
                "MP-04", "mappa-on-conviction", "Consider referral to MAPPA (internal screening first for under-18s)", owner: .youthJustice,
                subject: child)
            Self.mappaOrder(&record, child: child, due: nil)
            record.notify(.contactService, "Court decision about a young person on the criminal justice route", rule: "INF-06")
            if facts.camhsAssessmentCoversIssues {
                record.apply(
                    "YJ-09", "CAMHS has a psychological assessment covering the issues: it may be offered to the court in place of an AIM assessment")
                record.task(
                    "YJ-09", "offer-camhs-assessment", "Ask the court to accept the CAMHS assessment in place of an AIM assessment",
                    owner: .youthJustice, subject: child)
            }
        }
        return WorkPlan(record)
    }

    /// MP-02: for an under-18 (everyone youth justice works with), youth justice screens
    /// internally and the High Risk and Vulnerability Panel discusses the young person before
    /// MAPPA receives their details; both by the MAPPA consideration's own date where it has one
    /// (the procedure sets no timescale of its own for them).
    static func mappaOrder(_ record: inout DecisionRecorder, child: String, due: DueDate?) {
        record.apply(
            "MP-02",
            "Under 18: youth justice's internal screening and risk assessment, then the High Risk and Vulnerability Panel's discussion, come before any referral to MAPPA\(due.map { ", by \($0.date)" } ?? " (the procedure sets no timescale)")"
        )
        record.task(
            "MP-02", "internal-screening", "Complete youth justice's internal MAPPA screening and risk assessment", owner: .youthJustice, due: due,
            subject: child)
        record.task(
            "MP-02", "hrvp-discussion",
            "Discuss the young person at the High Risk and Vulnerability Panel and record the MAPPA referral decision with reasons",
            owner: .youthJustice, due: due, subject: child)
    }

    /// YJ-10: referral to the High Risk and Vulnerability Panel when the young person poses a
    /// risk of serious harm or is highly vulnerable; nil when neither holds.
    public func panelReferral(childSubjectID: String, riskOfSeriousHarm: Bool, highlyVulnerable: Bool) -> WorkPlan? {
        guard riskOfSeriousHarm || highlyVulnerable else { return nil }
        var record = DecisionRecorder()
        let reasons = [riskOfSeriousHarm ? "poses a risk of serious harm" : nil, highlyVulnerable ? "is highly vulnerable" : nil].compactMap { $0 }
        record.apply(
            "YJ-10",
            "The young person \(reasons.joined(separator: " and ")): referral to the High Risk and Vulnerability Panel (\(Self.panelMembership.joined(separator: "; ")))"
        )
        record.task("YJ-10", "panel-referral", "Refer to the High Risk and Vulnerability Panel", owner: .youthJustice, subject: childSubjectID)
        return WorkPlan(record)
    }

    /// YJ-11 and YJ-12: planning around a release from custody, or an arrival in the area, on
    /// `date`, as known at `knownAt`. Each step is counted back from the date; a step whose date
    /// had already passed when the release or move became known is due at once (that day), never
    /// created overdue (RULES.md: deadlines never count from before the agency knew).
    public func release(
        childSubjectID: String, date: CivilDate, concernsAboutOthers: Bool, siblingsOrChildrenAtRisk: Bool, movingIntoArea: Bool,
        knownAt: Instant
    ) -> WorkPlan {
        var record = DecisionRecorder()
        let child = childSubjectID
        let known = LondonTime.date(of: knownAt)
        var late: [String] = []
        /// The step's date counted back from `date`, or today when that has passed.
        func before(_ rule: DeadlineRule, _ step: String) -> DueDate {
            let counted = deadlines.due(rule, before: date)
            guard counted.date < known else { return counted }
            if !late.contains(step) { late.append(step) }
            return DueDate(rule: .calendarDays(0), due: LondonTime.endOfDay(known), date: known)
        }
        if movingIntoArea {
            record.apply(
                "YJ-12",
                "A young person with known HSB history moving into the area on \(date), known since \(known): the same planning as a release from custody, counted from when the move became known"
            )
        }
        record.apply(
            "YJ-11",
            "Release on \(date): resettlement panel 3 months before; pre-release meeting 10 working days before; MASH manager contacted; AssetPlus; MAPPA referral where the threshold is met"
        )
        record.task(
            "YJ-11", "resettlement-panel", "Refer to the resettlement panel", owner: .youthJustice,
            due: before(.monthsBefore(3), "resettlement panel"), subject: child)
        record.task(
            "YJ-11", "pre-release-meeting", "Hold the pre-release meeting\(concernsAboutOthers ? ", with children's social care invited" : "")",
            owner: .youthJustice, due: before(.workingDaysBefore(10), "pre-release steps"), subject: child)
        record.task(
            "YJ-11", "mash-manager", "Contact the MASH manager about the release and whether social care must be involved", owner: .youthJustice,
            due: before(.workingDaysBefore(10), "pre-release steps"), subject: child)
        record.task(
            "YJ-11", "assetplus", "Complete AssetPlus before release", owner: .youthJustice, due: before(.workingDaysBefore(10), "pre-release steps"),
            subject: child)
        if concernsAboutOthers {
            record.notify(.socialCare, "Invited to the pre-release meeting for a joint risk assessment", rule: "YJ-11")
        }
        if siblingsOrChildrenAtRisk {
            record.task(
                "YJ-11", "social-care-referral", "Refer to children's social care: siblings or other children are at risk", owner: .youthJustice,
                due: before(.workingDaysBefore(10), "pre-release steps"), subject: child)
            record.apply(
                "YJ-11",
                "Siblings or other children at risk: a social care referral, and a strategy discussion on predictors, a joint AIM assessment, multi-agency strategies and whether the young person returns home"
            )
        }
        record.apply("MP-04", "Before release, MAPPA referral is considered")
        let mappaDue = before(.workingDaysBefore(10), "pre-release steps")
        record.task("MP-04", "mappa-before-release", "Consider referral to MAPPA before release", owner: .youthJustice, due: mappaDue, subject: child)
        Self.mappaOrder(&record, child: child, due: mappaDue)
        if !late.isEmpty {
            record.apply(
                movingIntoArea ? "YJ-12" : "YJ-11",
                "Known on \(known), after the dates counted back from \(date) for: \(late.joined(separator: ", ")): those are due at once, that day")
        }
        return WorkPlan(record)
    }

    /// YJ-13 (where the profile has an HSB panel): admission on the criminal justice route.
    public func admission(
        childSubjectID: String, admittedAt: Instant, bailDays: Int?, socialCareInvolvementEnds: Bool
    ) throws(ScreeningInputError) -> WorkPlan {
        guard profile.hsbPanel else {
            throw ScreeningInputError(problems: ["the \(profile.name) profile has no HSB panel, so there is no panel admission route (YJ-13)"])
        }
        if let bailDays, bailDays <= 0 { throw ScreeningInputError(problems: ["bail_days must be above 0"]) }
        var record = DecisionRecorder()
        let bail = bailDays ?? 28
        record.apply(
            "YJ-13",
            "Admission on the criminal justice route: bailed for \(bail) days\(socialCareInvolvementEnds ? "; youth justice leads as social care involvement ends" : ""); the assessment goes to the HSB panel before the police or CPS decide a disposal"
        )
        record.task(
            "YJ-13", "assessment-to-panel", "Complete the HSB assessment and take it to the HSB panel before the disposal decision",
            owner: socialCareInvolvementEnds ? .youthJustice : .socialCare, due: deadlines.due(.calendarDays(bail), from: admittedAt),
            subject: childSubjectID)
        return WorkPlan(record)
    }
}
