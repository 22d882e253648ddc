/// Someone invited to a meeting, and whether they came or sent a written report.
public struct Invitee: Sendable, Hashable, Codable {
    /// e.g. "social-care", "youth-justice", "police", "health", "education", "referrer", "parents", "young-person".
    public var role: String
    public var attended: Bool
    public var writtenReport: Bool
    /// For a school: the subject id of its pupil (STR-03).
    public var pupilSubjectID: String?

    public init(role: String, attended: Bool, writtenReport: Bool = false, pupilSubjectID: String? = nil) {
        self.role = role
        self.attended = attended
        self.writtenReport = writtenReport
        self.pupilSubjectID = pupilSubjectID
    }
}

/// What an HSB strategy meeting decided (STR-04; ISL 6).
public enum StrategyOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case noFurtherAction = "no-further-action"
    case diversionPlan = "diversion-plan"
    case section47Joint = "section-47-joint"
    case section47Single = "section-47-single"
    case immediateLegalAction = "immediate-legal-action"
    case followUpMeeting = "follow-up-meeting"
}

/// An HSB strategy meeting as recorded (STR-01 to STR-04, STR-09, INF-07).
public struct StrategyMeeting: Sendable, Hashable, Codable {
    /// The children this meeting is about; separate meetings for each child are considered (STR-03).
    public var subjectIDs: [String]
    public var heldAt: Instant
    public var chairRole: String
    public var invitees: [Invitee]
    public var outcome: StrategyOutcome
    /// Set for a follow-up meeting (STR-04).
    public var followUpDate: CivilDate?
    public var significantHarm: Bool
    public var safetyPlanAgreed: Bool
    /// Whether an AIM assessment is appropriate; with its lead and timescale when it is (STR-02).
    public var aimAppropriate: Bool
    public var aimLead: LeadAgency?
    public var aimTimescaleWeeks: Int?
    public var mappaReferralConsidered: Bool
    public var exploitationReferralConsidered: Bool
    /// Many victims or many children displaying HSB (STR-09).
    public var manyChildren: Bool = false
    /// GEN-03: the child displaying HSB is under 10, so youth justice is not engaged (no AIM3
    /// checklist, no invitation required, no MAPPA consideration).
    public var childUnderTen: Bool = false

    public init(
        subjectIDs: [String], heldAt: Instant, chairRole: String, invitees: [Invitee], outcome: StrategyOutcome, significantHarm: Bool,
        safetyPlanAgreed: Bool, aimAppropriate: Bool, mappaReferralConsidered: Bool, exploitationReferralConsidered: Bool
    ) {
        self.subjectIDs = subjectIDs
        self.heldAt = heldAt
        self.chairRole = chairRole
        self.invitees = invitees
        self.outcome = outcome
        self.significantHarm = significantHarm
        self.safetyPlanAgreed = safetyPlanAgreed
        self.aimAppropriate = aimAppropriate
        self.mappaReferralConsidered = mappaReferralConsidered
        self.exploitationReferralConsidered = exploitationReferralConsidered
    }
}

/// Checks a strategy meeting's record against the procedure, and says what it sets going.
public struct StrategyMeetingRules: Sendable {
    public let deadlines: DeadlineCalculator
    /// The procedure in force: who may chair (STR-01).
    public let profile: ProcedureProfile

    /// Who must be invited (STR-01): social care chairs; youth justice completes the AIM3 checklist.
    public static let requiredInvitees = ["social-care", "youth-justice", "police", "health"]

    public init(deadlines: DeadlineCalculator = DeadlineCalculator(), profile: ProcedureProfile = .camden) {
        self.deadlines = deadlines
        self.profile = profile
    }

    public func record(_ meeting: StrategyMeeting) throws(ScreeningInputError) -> WorkPlan {
        var problems: [String] = []
        let roles = Set(meeting.invitees.map(\.role))
        if meeting.subjectIDs.isEmpty { problems.append("subject_ids: a meeting is about at least one child") }
        if !profile.strategyMeetingChairs.contains(meeting.chairRole) {
            problems.append(
                "chair: under \(profile.name) the HSB strategy meeting is chaired by \(profile.strategyMeetingChairs.joined(separator: " or ")) (STR-01, \(profile.strategyMeetingChairSource)), not \(meeting.chairRole)"
            )
        }
        let required = meeting.childUnderTen ? Self.requiredInvitees.filter { $0 != "youth-justice" } : Self.requiredInvitees
        for role in required where !roles.contains(role) {
            problems.append("invitees: \(role) must be invited (STR-01)")
        }
        for invitee in meeting.invitees where !invitee.attended && !invitee.writtenReport && required.contains(invitee.role) {
            problems.append("invitees: \(invitee.role) neither attended nor sent a written report (STR-01)")
        }
        for invitee in meeting.invitees where invitee.role == "education" {
            guard let pupil = invitee.pupilSubjectID else {
                problems.append("invitees: a school attends as the school of a named pupil (STR-03)")
                continue
            }
            if !meeting.subjectIDs.contains(pupil) {
                problems.append("invitees: a school attends only the meeting about its own pupil (STR-03); \(pupil) is not a subject of this meeting")
            }
        }
        if meeting.aimAppropriate {
            if meeting.aimLead == nil {
                problems.append("aim_lead: an AIM assessment was judged appropriate, so its lead agency must be recorded (STR-02)")
            }
            if (meeting.aimTimescaleWeeks ?? 0) <= 0 {
                problems.append("aim_timescale_weeks: the AIM assessment's timescale must be recorded (STR-02)")
            }
        }
        if meeting.outcome == .followUpMeeting && meeting.followUpDate == nil {
            problems.append("follow_up_date: a follow-up strategy meeting needs a set date (STR-04)")
        }
        if !problems.isEmpty { throw ScreeningInputError(problems: problems) }

        var record = DecisionRecorder()
        let subjects = meeting.subjectIDs.joined(separator: ", ")
        record.apply(
            "STR-01",
            "Chaired by \(meeting.chairRole.replacingHyphensWithSpaces()) (\(profile.strategyMeetingChairSource)); \(meeting.invitees.filter(\.attended).count) of \(meeting.invitees.count) invitees attended, \(meeting.invitees.filter { !$0.attended && $0.writtenReport }.count) sent written reports"
        )
        record.apply(
            "STR-02",
            "Recorded: significant harm \(meeting.significantHarm ? "found" : "not found"); initial safety plan \(meeting.safetyPlanAgreed ? "agreed" : "not agreed"); AIM assessment \(meeting.aimAppropriate ? "appropriate" : "not appropriate"); MAPPA referral \(meeting.mappaReferralConsidered ? "considered" : "NOT considered"); exploitation referral \(meeting.exploitationReferralConsidered ? "considered" : "NOT considered")"
        )
        if meeting.childUnderTen {
            record.apply("GEN-03", "Under 10: youth justice is not engaged; no AIM3 checklist and no MAPPA consideration")
        } else if !meeting.mappaReferralConsidered {
            record.task("MP-04", "consider-mappa", "Consider MAPPA referral: the strategy meeting did not", owner: .socialCare)
        }
        if !meeting.exploitationReferralConsidered {
            record.task(
                "STR-02", "consider-exploitation", "Consider an exploitation / MASE referral: the strategy meeting did not", owner: .socialCare)
        }
        if !meeting.safetyPlanAgreed {
            record.task(
                "STR-02", "safety-plan", "Agree the initial safety plan", owner: .socialCare,
                due: deadlines.due(.workingDays(1), from: meeting.heldAt))
        }
        if meeting.aimAppropriate, let lead = meeting.aimLead, let weeks = meeting.aimTimescaleWeeks {
            record.task(
                "STR-02", "aim-assessment", "Complete the AIM assessment (lead: \(lead.rawValue))",
                owner: lead == .youthJustice ? .youthJustice : .socialCare,
                due: deadlines.due(.calendarDays(weeks * 7), from: meeting.heldAt))
        }
        switch meeting.outcome {
        case .noFurtherAction, .diversionPlan:
            record.apply(
                "STR-04",
                "Outcome: \(meeting.outcome == .diversionPlan ? "a diversion plan" : "no further action"); the child's needs are managed by the agreed lead agency"
            )
        case .section47Joint, .section47Single:
            record.apply(
                "STR-04",
                "Outcome: a \(meeting.outcome == .section47Joint ? "joint (police and social care)" : "single (social care)") section 47 enquiry, which may lead to an initial child protection conference"
            )
            record.task("STR-04", "section-47", "Carry out the section 47 enquiry", owner: .socialCare)
        case .immediateLegalAction:
            record.apply("STR-04", "Outcome: immediate legal action")
            record.task(
                "STR-04", "legal-action", "Take immediate legal action to protect the child", owner: .socialCare,
                due: DueDate(rule: .hours(0), due: meeting.heldAt, date: LondonTime.date(of: meeting.heldAt)))
        case .followUpMeeting:
            let date = meeting.followUpDate!
            record.apply("STR-04", "Outcome: a follow-up strategy meeting on \(date)")
            record.task(
                "STR-04", "follow-up", "Hold the follow-up strategy meeting", owner: .socialCare,
                due: DueDate(rule: .calendarDays(0), due: LondonTime.endOfDay(date), date: date))
        }
        if meeting.subjectIDs.count == 1 {
            record.apply("STR-03", "A separate meeting about \(subjects); police and the investigating social worker attend each child's meeting")
        }
        if meeting.manyChildren {
            record.apply("STR-09", "Many victims or many children displaying HSB: a strategic management group coordinates")
            record.task(
                "STR-09", "strategic-management-group", "Appoint a strategic management group to coordinate the overall investigation",
                owner: .socialCare)
        }
        record.apply("INF-07", "Minutes go to the agencies that attended or sent a report")
        for invitee in meeting.invitees where invitee.attended || invitee.writtenReport {
            if let recipient = Recipient(rawValue: invitee.role) {
                record.notify(recipient, "Minutes of the strategy meeting about \(subjects)", rule: "INF-07")
            }
        }
        return WorkPlan(record)
    }
}
