/// The sections of an AIM assessment report (YJ-05; GAT App. 1).
public enum AIMReportSection: String, Sendable, Hashable, Codable, CaseIterable {
    case details
    case context
    case overviewOfAIM3Model = "overview-of-the-aim3-model"
    case aim3Assessment = "aim3-assessment"
    case interventionAndSafetyPlanning = "intervention-and-safety-planning"
    case conclusionAndRecommendations = "conclusion-and-recommendations"
    case authorAndDate = "author-and-date"
}

public enum AIMStage: String, Sendable, Hashable, Codable, CaseIterable {
    case planned
    case underway
    case reportComplete = "report-complete"
    case reportShared = "report-shared"
}

/// An AIM assessment's state: who leads, who co-works, consent, the report (YJ-04, YJ-05).
public struct AIMAssessment: Sendable, Hashable, Codable {
    public let subjectID: String
    public let lead: LeadAgency
    /// Nil when both agencies lead jointly (LLR 15).
    public let coWorker: LeadAgency?
    public var stage: AIMStage
    /// Nil until the lead has asked.
    public var consentGiven: Bool?
    /// YJ-05: proceeding on best available information, because the young person denies or will not engage.
    public var onBestAvailableInformation: Bool
    public var sections: Set<AIMReportSection>
    public let due: DueDate

    /// Whether `agency` holds the lead's duties: the lead, or either agency of a joint lead.
    public func leads(_ agency: LeadAgency) -> Bool {
        lead == .joint ? agency != .joint : agency == lead
    }
}

public enum AIMAction: Sendable, Hashable {
    case recordConsent(given: Bool)
    /// The young person denies the behaviour or will not engage.
    case proceedWithoutEngagement
    case completeReport(sections: Set<AIMReportSection>)
    case shareReport
}

public enum AIMRules {
    /// YJ-04, YJ-05: starts an assessment with its lead, co-worker and timescale.
    public static func start(
        subjectID: String, age: Int, route: CaseRoute, openToYouthJustice: Bool, leadAssessorTrained: Bool, timescaleWeeks: Int, at: Instant,
        profile: ProcedureProfile, deadlines: DeadlineCalculator
    ) throws(ScreeningInputError) -> AIMAssessment {
        var problems: [String] = []
        if !AgeRules.inAIMRange(age: age) { problems.append("aged \(age): an AIM assessment is for young people aged 12 to 17 (YJ-05)") }
        if route != .criminalJustice && route != .concern { problems.append("route must be criminal-justice or concern (YJ-04)") }
        if !leadAssessorTrained { problems.append("the lead assessor must be trained in AIM: only trained assessors lead (YJ-04)") }
        if !(1...26).contains(timescaleWeeks) { problems.append("timescale_weeks must be 1 to 26, as agreed at the strategy meeting") }
        if !problems.isEmpty { throw ScreeningInputError(problems: problems) }
        let assignment = AIMAssignment(route: route, openToYouthJustice: openToYouthJustice, profile: profile)
        return AIMAssessment(
            subjectID: subjectID, lead: assignment.lead, coWorker: assignment.coWorker, stage: .planned, consentGiven: nil,
            onBestAvailableInformation: false, sections: [], due: deadlines.due(.calendarDays(timescaleWeeks * 7), from: at))
    }

    /// YJ-04, YJ-05: the assessment after `action` by `actor`; refusals name the rule.
    public static func apply(_ action: AIMAction, by actor: LeadAgency, to assessment: AIMAssessment) throws(ScreeningInputError) -> AIMAssessment {
        var next = assessment
        func refuse(_ problem: String) -> ScreeningInputError { ScreeningInputError(problems: [problem]) }
        switch action {
        case .recordConsent(let given):
            guard assessment.leads(actor) else {
                throw refuse("the lead agency (\(assessment.lead.rawValue)) obtains consent; the co-worker does not (YJ-04)")
            }
            next.consentGiven = given
            if given { next.stage = .underway }
        case .proceedWithoutEngagement:
            next.onBestAvailableInformation = true
            next.stage = .underway
        case .completeReport(let sections):
            guard assessment.stage == .underway else {
                throw refuse(
                    "the assessment is \(assessment.stage.rawValue): it is under way only once consent is given or it proceeds on best available information (YJ-05)"
                )
            }
            let missing = AIMReportSection.allCases.filter { !sections.contains($0) }
            guard missing.isEmpty else {
                throw refuse("the report lacks: \(missing.map(\.rawValue).joined(separator: ", ")) (YJ-05)")
            }
            next.sections = sections
            next.stage = .reportComplete
        case .shareReport:
            guard assessment.leads(actor) else {
                throw refuse("the lead agency (\(assessment.lead.rawValue)) shares the report; the co-worker does not (YJ-04)")
            }
            guard assessment.stage == .reportComplete else {
                throw refuse("only a complete report is shared; the assessment is \(assessment.stage.rawValue)")
            }
            next.stage = .reportShared
        }
        return next
    }
}
