/// What happened on a case after screening, as a practitioner records it (STR-05 to STR-08,
/// STR-10, SCR-11, GEN-02).
public enum CaseEvent: Sendable, Hashable, Codable {
    /// SCR-11: the written follow-up of a telephone referral arrived.
    case writtenFollowUpReceived
    /// GEN-02: social workers allocated, by subject id.
    case workersAllocated([String: String])
    /// STR-05: a child protection conference's outcome; `heldOn` nil means today.
    case conferenceOutcome(childProtectionPlan: Bool, concernsRemain: Bool, heldOn: CivilDate? = nil)
    /// STR-05: the multi-agency HSB meeting.
    case hsbMeeting(HSBMeeting)
    /// STR-06: a review of a plan held on `heldOn` (nil: today). A risk management plan's next
    /// review counts from the day the plan was agreed (`planAgreedOn`, required for it).
    case reviewHeld(plan: ReviewedPlan, heldOn: CivilDate? = nil, planAgreedOn: CivilDate? = nil)
    /// STR-07: the multi-agency decision to close.
    case closure(Closure)
    /// STR-10: a professional disagreement.
    case disagreement(between: [String], about: String)
    /// STR-08: the case taken to the partnership's HSB panel.
    case panel(PanelListing)
}

public enum ReviewedPlan: String, Sendable, Hashable, Codable {
    case riskManagementPlan = "risk-management-plan"
    case childInNeedPlan = "child-in-need-plan"
}

public struct HSBMeeting: Sendable, Hashable, Codable {
    public var chronologyOfPresentingBehaviour: Bool
    public var assessmentTimetable: CivilDate?
    public var riskPlanForChild: Bool
    public var riskPlanForChildrenAtRisk: Bool
    public var rolesAllocated: Bool
    public var leadSocialWorker: String
    /// The day the meeting was held, and the risk management plan agreed; nil means today.
    public var heldOn: CivilDate?

    public init(
        chronologyOfPresentingBehaviour: Bool, assessmentTimetable: CivilDate?, riskPlanForChild: Bool, riskPlanForChildrenAtRisk: Bool,
        rolesAllocated: Bool, leadSocialWorker: String, heldOn: CivilDate? = nil
    ) {
        self.heldOn = heldOn
        self.chronologyOfPresentingBehaviour = chronologyOfPresentingBehaviour
        self.assessmentTimetable = assessmentTimetable
        self.riskPlanForChild = riskPlanForChild
        self.riskPlanForChildrenAtRisk = riskPlanForChildrenAtRisk
        self.rolesAllocated = rolesAllocated
        self.leadSocialWorker = leadSocialWorker
    }
}

public struct Closure: Sendable, Hashable, Codable {
    public var levelOfRisk: String
    public var outcomesAchieved: String
    public var carersCapacity: String
    public var ongoingSupport: String
    public var agreedBy: [String]
    public var longTermMonitoringConsidered: Bool

    public init(
        levelOfRisk: String, outcomesAchieved: String, carersCapacity: String, ongoingSupport: String, agreedBy: [String],
        longTermMonitoringConsidered: Bool
    ) {
        self.levelOfRisk = levelOfRisk
        self.outcomesAchieved = outcomesAchieved
        self.carersCapacity = carersCapacity
        self.ongoingSupport = ongoingSupport
        self.agreedBy = agreedBy
        self.longTermMonitoringConsidered = longTermMonitoringConsidered
    }
}

public struct PanelListing: Sendable, Hashable, Codable {
    public var assessmentFoundHSB: Bool
    public var meetingDate: CivilDate
    public var minutesCirculatedTo: [String]
    /// The day the case returns to the panel for review, as agreed (CAL 5: "further review
    /// dates are agreed"); nil: to be agreed, by the meeting date.
    public var returnOn: CivilDate?

    public init(assessmentFoundHSB: Bool, meetingDate: CivilDate, minutesCirculatedTo: [String] = [], returnOn: CivilDate? = nil) {
        self.returnOn = returnOn
        self.assessmentFoundHSB = assessmentFoundHSB
        self.meetingDate = meetingDate
        self.minutesCirculatedTo = minutesCirculatedTo
    }
}

/// Checks a case event against the procedure and works out what it sets going.
public struct CaseEventRules: Sendable {
    public let profile: ProcedureProfile
    public let deadlines: DeadlineCalculator

    public init(profile: ProcedureProfile = .camden, deadlines: DeadlineCalculator = DeadlineCalculator()) {
        self.profile = profile
        self.deadlines = deadlines
    }

    /// - Parameters:
    ///   - subjects: the child displaying HSB first, then each person harmed.
    public func record(_ event: CaseEvent, childSubjectID: String, personsHarmed: [String], at: Instant) throws(ScreeningInputError) -> WorkPlan {
        var record = DecisionRecorder()
        let today = LondonTime.date(of: at)
        /// The day it happened, as recorded (never after today), or today.
        func happened(_ date: CivilDate?, _ field: String) throws(ScreeningInputError) -> Instant {
            guard let date else { return at }
            guard date <= today else { throw ScreeningInputError(problems: ["\(field) \(date) is in the future; record what has happened"]) }
            return LondonTime.endOfDay(date)
        }
        switch event {
        case .writtenFollowUpReceived:
            record.apply("SCR-11", "The written follow-up of the telephone referral was received: the 48-hour deadline is met")
        case .workersAllocated(let workers):
            var problems: [String] = []
            for subject in [childSubjectID] + personsHarmed where (workers[subject] ?? "").isBlank {
                problems.append("workers: no social worker allocated to \(subject)")
            }
            let childWorker = workers[childSubjectID] ?? ""
            for harmed in personsHarmed where !childWorker.isBlank && workers[harmed] == childWorker {
                problems.append(
                    "workers: \(harmed) has the same social worker as the child displaying HSB; they must differ, even in the same household (GEN-02)"
                )
            }
            if !problems.isEmpty { throw ScreeningInputError(problems: problems) }
            record.apply("GEN-02", "Different social workers allocated to the child displaying HSB and to each person harmed")
        case .conferenceOutcome(let plan, let concernsRemain, let heldOn):
            let held = try happened(heldOn, "held_on")
            if plan {
                record.apply("STR-05", "The conference made a child protection plan: the core group addresses the HSB and the risk to others")
            } else if concernsRemain {
                record.apply(
                    "STR-05",
                    "No child protection plan, but concerns remain: child in need, and a multi-agency HSB meeting convened as early as possible")
                record.task(
                    "STR-05", "hsb-meeting", "Convene the multi-agency HSB meeting as early as possible after the conference", owner: .socialCare,
                    subject: childSubjectID)
                record.apply(
                    "STR-06",
                    "The child in need plan is reviewed every \(profile.childInNeedReviewMonths) months, on its own schedule from the conference")
                record.task(
                    "STR-06", "cin-review", "Review the child in need plan", owner: .socialCare,
                    due: deadlines.due(.monthsAfter(profile.childInNeedReviewMonths), from: held), subject: childSubjectID)
            } else {
                record.apply("STR-05", "No child protection plan and no remaining concerns recorded by the conference")
            }
        case .hsbMeeting(let meeting):
            var problems: [String] = []
            if !meeting.chronologyOfPresentingBehaviour {
                problems.append("chronology: the meeting brings together a chronology of the presenting HSB (STR-05)")
            }
            if meeting.assessmentTimetable == nil {
                problems.append("assessment_timetable: the meeting sets a timetable for the assessment (STR-05)")
            }
            if !meeting.riskPlanForChild { problems.append("risk plans: an initial risk management plan for the child displaying HSB (STR-05)") }
            if !personsHarmed.isEmpty && !meeting.riskPlanForChildrenAtRisk {
                problems.append("risk plans: a risk management plan for each child at potential risk (STR-05)")
            }
            if !meeting.rolesAllocated { problems.append("roles: the meeting allocates roles (STR-05)") }
            if meeting.leadSocialWorker.isBlank { problems.append("lead_social_worker: the meeting names the lead social worker (STR-05)") }
            if let held = meeting.heldOn, held > today { problems.append("held_on \(held) is in the future; record what has happened") }
            if !problems.isEmpty { throw ScreeningInputError(problems: problems) }
            let agreed = try happened(meeting.heldOn, "held_on")
            record.apply(
                "STR-05",
                "The multi-agency HSB meeting recorded its chronology, assessment timetable, risk plans, roles and lead social worker (\(meeting.leadSocialWorker))"
            )
            record.task(
                "STR-05", "assessment", "Complete the assessment by its timetable", owner: .socialCare,
                due: DueDate(rule: .calendarDays(0), due: LondonTime.endOfDay(meeting.assessmentTimetable!), date: meeting.assessmentTimetable!),
                subject: childSubjectID)
            let reviews = deadlines.reviews(profile.riskPlanReviews, from: agreed, count: 3)
            record.apply(
                "STR-06",
                "The HSB risk management plan agreed on \(LondonTime.date(of: agreed)) is reviewed \(profile.riskPlanReviews.firstIntervalMonths) and \(profile.riskPlanReviews.firstPeriodMonths) months after it was agreed, then every \(profile.riskPlanReviews.laterIntervalMonths) months: first on \(reviews[0].date)"
            )
            record.task(
                "STR-06", "risk-plan-review", "Review the HSB risk management plan at a multi-agency meeting", owner: .socialCare, due: reviews[0],
                subject: childSubjectID)
        case .reviewHeld(let plan, let heldOn, let planAgreedOn):
            let held = try happened(heldOn, "held_on")
            let heldDate = LondonTime.date(of: held)
            switch plan {
            case .riskManagementPlan:
                // The schedule counts from the day the plan was agreed: the next review is the
                // first of its dates after the one just held (3 and 6 months, then every 6).
                guard let agreedOn = planAgreedOn else {
                    throw ScreeningInputError(problems: [
                        "plan_agreed_on: the risk management plan's reviews count from the day it was agreed (STR-06); say when that was"
                    ])
                }
                guard agreedOn <= heldDate else {
                    throw ScreeningInputError(problems: ["plan_agreed_on \(agreedOn) is after the review (\(heldDate))"])
                }
                let agreed = LondonTime.endOfDay(agreedOn)
                var count = 1
                var next = deadlines.reviews(profile.riskPlanReviews, from: agreed, count: count).last!
                while next.date <= heldDate && count < 1200 {
                    count += 1
                    next = deadlines.reviews(profile.riskPlanReviews, from: agreed, count: count).last!
                }
                record.apply(
                    "STR-06",
                    "A review of the HSB risk management plan agreed on \(agreedOn) was held on \(heldDate); the next on its schedule is \(next.date) (review \(count))"
                )
                record.task(
                    "STR-06", "risk-plan-review", "Review the HSB risk management plan at a multi-agency meeting", owner: .socialCare, due: next,
                    subject: childSubjectID)
            case .childInNeedPlan:
                record.apply(
                    "STR-06", "A review of the child in need plan was held on \(heldDate); the next is in \(profile.childInNeedReviewMonths) months")
                record.task(
                    "STR-06", "cin-review", "Review the child in need plan", owner: .socialCare,
                    due: deadlines.due(.monthsAfter(profile.childInNeedReviewMonths), from: held), subject: childSubjectID)
            }
        case .closure(let closure):
            var problems: [String] = []
            if closure.levelOfRisk.isBlank { problems.append("level_of_risk: closure records the level of risk (STR-07)") }
            if closure.outcomesAchieved.isBlank {
                problems.append("outcomes_achieved: closure records whether the intended outcomes were achieved (STR-07)")
            }
            if closure.carersCapacity.isBlank {
                problems.append("carers_capacity: closure records the carers' capacity to respond to the child's needs (STR-07)")
            }
            if closure.ongoingSupport.isBlank { problems.append("ongoing_support: closure records the need for ongoing support (STR-07)") }
            if Set(closure.agreedBy).count < 2 {
                problems.append("agreed_by: closure is a multi-agency decision; at least two agencies agree it (STR-07)")
            }
            if !closure.longTermMonitoringConsidered { problems.append("long_term_monitoring: closure considers long-term monitoring (STR-07)") }
            if !problems.isEmpty { throw ScreeningInputError(problems: problems) }
            record.apply(
                "STR-07",
                "Closed by a multi-agency decision (\(closure.agreedBy.joined(separator: ", "))): risk \(closure.levelOfRisk); outcomes \(closure.outcomesAchieved)"
            )
        case .disagreement(let parties, let about):
            var problems: [String] = []
            if Set(parties).count < 2 { problems.append("between: a professional disagreement is between at least two agencies (STR-10)") }
            if about.isBlank { problems.append("about: say what the disagreement is about (STR-10)") }
            if !problems.isEmpty { throw ScreeningInputError(problems: problems) }
            record.apply(
                "STR-10",
                "Professional disagreement between \(parties.joined(separator: " and ")) about \(about): recorded and escalated under the partnership's escalation policy"
            )
            record.task(
                "STR-10", "escalate", "Escalate the disagreement under the partnership's escalation policy", owner: .socialCare,
                subject: childSubjectID)
        case .panel(let listing):
            guard profile.hsbPanel else {
                throw ScreeningInputError(problems: ["the \(profile.name) profile has no HSB panel (STR-08)"])
            }
            guard listing.assessmentFoundHSB else {
                throw ScreeningInputError(problems: ["a case comes to the HSB panel only after a social care assessment found HSB (STR-08)"])
            }
            record.apply(
                "STR-08",
                "Listed for the HSB panel on \(listing.meetingDate): the schedule goes to members a week before; the panel advises the route; minutes are circulated; the case returns to panel for review"
            )
            record.task(
                "STR-08", "schedule", "Send the schedule of cases to panel members", owner: .hsbPanel,
                due: deadlines.due(.calendarDaysBefore(7), before: listing.meetingDate), subject: childSubjectID)
            if let returnOn = listing.returnOn {
                guard returnOn > listing.meetingDate else {
                    throw ScreeningInputError(problems: ["panel_review_date \(returnOn) must come after the panel on \(listing.meetingDate) (STR-08)"]
                    )
                }
                record.task(
                    "STR-08", "return-to-panel", "Bring the case back to the panel for review on \(returnOn)", owner: .hsbPanel,
                    due: DueDate(rule: .calendarDays(0), due: LondonTime.endOfDay(returnOn), date: returnOn), subject: childSubjectID)
            } else {
                record.task(
                    "STR-08", "agree-return-to-panel", "Agree the date the case comes back to the panel for review", owner: .hsbPanel,
                    due: DueDate(rule: .calendarDays(0), due: LondonTime.endOfDay(listing.meetingDate), date: listing.meetingDate),
                    subject: childSubjectID)
            }
            for agency in listing.minutesCirculatedTo {
                if let recipient = Recipient(rawValue: agency) { record.notify(recipient, "Minutes of the HSB panel", rule: "INF-07") }
            }
        }
        return WorkPlan(record)
    }
}
