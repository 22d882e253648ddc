/// Who leads a piece of work.
public enum LeadAgency: String, Sendable, Hashable, Codable, CaseIterable {
    case socialCare = "social-care"
    case youthJustice = "youth-justice"
    /// Youth justice and children's social care together (LLR 15: "jointly delivered").
    case joint
}

/// A partnership's procedure, where it differs from the others, as data (RULES.md: "Where
/// partnerships differ, the difference is data in a procedure profile").
public struct ProcedureProfile: Sendable, Hashable, Codable {
    public var name: String
    public var summary: String
    /// SCR-08: the HSB strategy meeting for category 2 or 3, counted from when social care
    /// received the referral (RULES.md: deadlines count from when a thing happened, never from a
    /// time before the agency that owns the deadline knew of it).
    public var strategyMeeting: DeadlineRule
    /// SCR-08: where the concerns are complex (ISL 5.3); nil when the profile has no such rule.
    public var complexStrategyMeeting: DeadlineRule?
    /// SCR-09: the HSB strategy meeting after immediate protection, where the procedure sets its
    /// own (ISL 5.4: 5 working days); nil: the profile's SCR-08 timescale, so immediate risk never
    /// makes the meeting later.
    public var strategyMeetingAfterImmediateProtection: DeadlineRule?
    /// The seed clause behind `strategyMeeting`.
    public var strategyMeetingSource: String
    /// True when the procedure sets no strategy-meeting timescale of its own (LLR, CAL) and the
    /// partnership's configured default applies: the decision says so rather than citing another
    /// partnership's clause as if it were this one's.
    public var strategyMeetingIsPartnershipDefault: Bool
    /// STR-01: who may chair the HSB strategy meeting (roles as recorded on a meeting).
    public var strategyMeetingChairs: [String]
    /// The seed clause behind `strategyMeetingChairs`.
    public var strategyMeetingChairSource: String
    /// STR-08: cases come to an HSB panel, which advises the route (CAL 5, 6.5).
    public var hsbPanel: Bool
    /// YJ-04: who leads an AIM assessment on the concern route when the case is not open to
    /// youth justice (GAT 3.3.2: children's services; CAM 9.2: the youth service, or a trained
    /// social worker where more appropriate; LLR 15: jointly).
    public var aimLeadOnConcernRoute: LeadAgency
    /// The seed clause behind `aimLeadOnConcernRoute`.
    public var aimLeadOnConcernRouteSource: String
    /// YJ-04, YJ-13: who leads on the criminal justice route (youth justice; CAL 5: social care
    /// while its involvement goes on, youth justice once it ends).
    public var aimLeadOnCriminalJusticeRoute: LeadAgency
    public var aimLeadOnCriminalJusticeRouteSource: String
    /// STR-06: the HSB risk management plan's reviews.
    public var riskPlanReviews: ReviewCadence
    /// STR-06: months between child in need plan reviews (CAM 8.2).
    public var childInNeedReviewMonths: Int
    /// SCR-18: calendar days to complete a child and family assessment (CAM 8.2).
    public var assessmentDays: Int
    /// SCR-11: hours to follow an urgent telephone referral up in writing (CAM 6.1).
    public var writtenFollowUpHours: Int

    /// Camden (CAM), the default: a strategy meeting within 3 days of the referral or incident.
    public static let camden = ProcedureProfile(
        name: "camden", summary: "Camden Safeguarding Children Partnership HSB protocol 2023 (the default)",
        strategyMeeting: .calendarDays(3), complexStrategyMeeting: nil,
        strategyMeetingAfterImmediateProtection: nil, strategyMeetingSource: "CAM 8.3", strategyMeetingIsPartnershipDefault: false,
        strategyMeetingChairs: ["social-care"], strategyMeetingChairSource: "GAT 3.3.1, CAM 14",
        hsbPanel: false, aimLeadOnConcernRoute: .youthJustice, aimLeadOnConcernRouteSource: "CAM 9.2",
        aimLeadOnCriminalJusticeRoute: .youthJustice, aimLeadOnCriminalJusticeRouteSource: "CAM 9.2, GAT 3.3.1",
        riskPlanReviews: ReviewCadence(firstIntervalMonths: 3, firstPeriodMonths: 6, laterIntervalMonths: 6),
        childInNeedReviewMonths: 6, assessmentDays: 35, writtenFollowUpHours: 48)

    /// Islington (ISL): 3 working days, 5 when the concerns are complex.
    public static let islington: ProcedureProfile = {
        var profile = camden
        profile.name = "islington"
        profile.summary = "Islington HSB procedure (risk categories 0-3)"
        profile.strategyMeeting = .workingDays(3)
        profile.complexStrategyMeeting = .workingDays(5)
        profile.strategyMeetingAfterImmediateProtection = .workingDays(5)
        profile.strategyMeetingSource = "ISL 5.3"
        // ISL 5.3, 5.4: the CSE, Missing and Trafficking Coordinator, or a CP Coordinator, chairs.
        profile.strategyMeetingChairs = ["cse-missing-trafficking-coordinator", "cp-coordinator"]
        profile.strategyMeetingChairSource = "ISL 5.3, 5.4"
        // Islington's procedure names no AIM lead: the partnership default (GAT 3.3.2).
        profile.aimLeadOnConcernRoute = .socialCare
        profile.aimLeadOnConcernRouteSource = "GAT 3.3.2 (this procedure names none)"
        profile.aimLeadOnCriminalJusticeRouteSource = "GAT 3.3.1"
        return profile
    }()

    /// Gateshead (GAT): as soon as possible, 72 hours at most.
    public static let gateshead: ProcedureProfile = {
        var profile = camden
        profile.name = "gateshead"
        profile.summary = "Gateshead sexually harmful behaviour procedure (two routes to AIM)"
        profile.strategyMeeting = .hours(72)
        profile.strategyMeetingSource = "GAT 3.3.1"
        profile.aimLeadOnConcernRoute = .socialCare
        profile.aimLeadOnConcernRouteSource = "GAT 3.3.2"
        profile.aimLeadOnCriminalJusticeRouteSource = "GAT 3.3.1"
        return profile
    }()

    /// Leicester, Leicestershire and Rutland (LLR): no timescale of its own for the strategy
    /// meeting, so the default's applies.
    public static let llr: ProcedureProfile = {
        var profile = camden
        profile.name = "llr"
        profile.summary = "Leicester, Leicestershire and Rutland HSB procedure (2024)"
        profile.strategyMeetingIsPartnershipDefault = true
        profile.aimLeadOnConcernRoute = .joint
        profile.aimLeadOnConcernRouteSource = "LLR 15"
        profile.aimLeadOnCriminalJusticeRouteSource = "LLR 15, GAT 3.3.1"
        return profile
    }()

    /// Calderdale (CAL): the default timescales, with the HSB panel.
    public static let calderdale: ProcedureProfile = {
        var profile = camden
        profile.name = "calderdale"
        profile.summary = "Calderdale HSB panel operational guidance"
        profile.hsbPanel = true
        profile.strategyMeetingIsPartnershipDefault = true
        profile.aimLeadOnConcernRoute = .socialCare
        profile.aimLeadOnConcernRouteSource = "GAT 3.3.2 (this procedure names none)"
        profile.aimLeadOnCriminalJusticeRoute = .socialCare
        profile.aimLeadOnCriminalJusticeRouteSource = "CAL 5 (YJ-13: youth justice leads once social care involvement ends)"
        return profile
    }()

    public static let builtIn: [ProcedureProfile] = [.camden, .islington, .gateshead, .llr, .calderdale]

    public static func named(_ name: String) -> ProcedureProfile? { builtIn.first { $0.name == name } }
}

extension ProcedureProfile {
    /// Reads a partnership's own profile: `key = value` lines, `#` comments. `based_on` (first, if
    /// present) names a built-in profile to start from (default `camden`); every other key
    /// overrides one setting. Throws naming the line and the reason.
    ///
    /// Keys: `name`, `summary`, `based_on`, `strategy_meeting`, `strategy_meeting_from` (only
    /// `referral`), `strategy_meeting_complex` (`none` to remove), `strategy_meeting_after_immediate_protection`
    /// (`same` for the SCR-08 timescale), `strategy_meeting_source`, `strategy_meeting_default` (yes/no),
    /// `strategy_meeting_chairs` (comma-separated roles), `strategy_meeting_chair_source`, `hsb_panel` (yes/no), `aim_lead_concern_route` and
    /// `aim_lead_criminal_justice_route` (social-care / youth-justice / joint) with their `_source`, `risk_plan_reviews` (e.g. `every 3 months for 6 months then every 6 months`),
    /// `child_in_need_review_months`, `assessment_days`, `written_follow_up_hours`. Deadlines read
    /// `3 working days`, `3 days` or `72 hours`.
    public static func parse(_ text: String, source: String) throws(RuleFileError) -> ProcedureProfile {
        var profile = ProcedureProfile.camden
        var seen: Set<String> = []
        var named = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            func fail(_ reason: String) -> RuleFileError { RuleFileError(source: source, line: lineNumber, reason: reason) }
            let line = (rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters()
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else { throw fail("expected 'key = value'") }
            let key = line[..<equals].trimmingCharacters()
            let value = line[line.index(after: equals)...].trimmingCharacters()
            guard !value.isEmpty else { throw fail("\(key) has no value") }
            guard seen.insert(key).inserted else { throw fail("\(key) is set twice") }
            switch key {
            case "based_on":
                guard seen.count == 1 else { throw fail("based_on must come before every other key") }
                guard let base = ProcedureProfile.named(value) else {
                    throw fail("no built-in profile \(shown(value)); known: \(builtIn.map(\.name).joined(separator: ", "))")
                }
                profile = base
            case "name":
                guard value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                    throw fail("a name may hold letters, digits and '-' only")
                }
                profile.name = value
                named = true
            case "summary": profile.summary = value
            case "strategy_meeting": profile.strategyMeeting = try forward(value, fail)
            case "strategy_meeting_from":
                // Every deadline counts from when social care received the referral: an earlier
                // incident date would make a late-reported incident overdue on arrival.
                guard value == "referral" else {
                    throw fail(
                        "strategy_meeting_from can only be 'referral': deadlines count from when social care received it, never from an earlier incident"
                    )
                }
            case "strategy_meeting_complex":
                profile.complexStrategyMeeting = value == "none" ? nil : try forward(value, fail)
            case "strategy_meeting_after_immediate_protection":
                profile.strategyMeetingAfterImmediateProtection = value == "same" ? nil : try forward(value, fail)
            case "strategy_meeting_source": profile.strategyMeetingSource = value
            case "strategy_meeting_default":
                guard let flag = ["yes": true, "no": false][value] else { throw fail("strategy_meeting_default must be yes or no") }
                profile.strategyMeetingIsPartnershipDefault = flag
            case "strategy_meeting_chairs":
                let chairs = value.split(separator: ",").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
                guard !chairs.isEmpty else { throw fail("strategy_meeting_chairs needs at least one role") }
                profile.strategyMeetingChairs = chairs
            case "strategy_meeting_chair_source": profile.strategyMeetingChairSource = value
            case "hsb_panel":
                guard let flag = ["yes": true, "no": false][value] else { throw fail("hsb_panel must be yes or no") }
                profile.hsbPanel = flag
            case "aim_lead_concern_route", "aim_lead_criminal_justice_route":
                guard let lead = LeadAgency(rawValue: value) else {
                    throw fail("\(key) must be \(LeadAgency.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if key == "aim_lead_concern_route" {
                    profile.aimLeadOnConcernRoute = lead
                } else {
                    profile.aimLeadOnCriminalJusticeRoute = lead
                }
            case "aim_lead_concern_route_source": profile.aimLeadOnConcernRouteSource = value
            case "aim_lead_criminal_justice_route_source": profile.aimLeadOnCriminalJusticeRouteSource = value
            case "risk_plan_reviews": profile.riskPlanReviews = try cadence(value, fail)
            case "child_in_need_review_months": profile.childInNeedReviewMonths = try positive(value, key, fail)
            case "assessment_days": profile.assessmentDays = try positive(value, key, fail)
            case "written_follow_up_hours": profile.writtenFollowUpHours = try positive(value, key, fail)
            default:
                throw fail("unknown key \(shown(key))")
            }
        }
        guard named else { throw RuleFileError(source: source, line: 1, reason: "the profile has no name (name = ...)") }
        return profile
    }

    private static func positive(_ value: String, _ key: String, _ fail: (String) -> RuleFileError) throws(RuleFileError) -> Int {
        guard let number = Int(value), number > 0 else { throw fail("\(key) must be a whole number above 0") }
        return number
    }

    private static func forward(_ value: String, _ fail: (String) -> RuleFileError) throws(RuleFileError) -> DeadlineRule {
        let words = value.split(separator: " ")
        guard let count = words.first.flatMap({ Int($0) }), count > 0 else {
            throw fail("\(shown(value)) must start with a whole number above 0, e.g. '3 working days'")
        }
        switch words.dropFirst().joined(separator: " ") {
        case "working day", "working days": return .workingDays(count)
        case "day", "days": return .calendarDays(count)
        case "hour", "hours": return .hours(count)
        default: throw fail("\(shown(value)) must be counted in working days, days or hours")
        }
    }

    private static func cadence(_ value: String, _ fail: (String) -> RuleFileError) throws(RuleFileError) -> ReviewCadence {
        // every A months for B months then every C months
        let words = value.split(separator: " ").map(String.init)
        guard words.count == 10, words[0] == "every", words[2] == "months", words[3] == "for", words[5] == "months",
            words[6] == "then", words[7] == "every", words[9] == "months",
            let first = Int(words[1]), let period = Int(words[4]), let later = Int(words[8]),
            first > 0, period >= 0, later > 0
        else {
            throw fail("risk_plan_reviews must read 'every A months for B months then every C months'")
        }
        return ReviewCadence(firstIntervalMonths: first, firstPeriodMonths: period, laterIntervalMonths: later)
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

/// A key or value from a profile file for an error message: quoted as Swift writes a string
/// literal (control characters escaped) and cut at 60 characters, never 4 MiB of it.
private func shown(_ text: String) -> String {
    text.count > 60 ? String(text.prefix(60)).debugDescription + "…" : text.debugDescription
}
