/// What the police decided after interviewing a child about a sexual offence.
public enum PoliceDecision: String, Sendable, Hashable, Codable, CaseIterable {
    case outOfCourtDisposal = "out-of-court-disposal"
    case charge
    case noFurtherAction = "no-further-action"
    /// No charge for want of evidence.
    case insufficientEvidence = "insufficient-evidence"
    case releasedUnderInvestigation = "released-under-investigation"
    /// The investigation goes on after the interview (GAT 3.3.1: refer promptly, do not wait).
    case investigationContinuing = "investigation-continuing"
}

/// The out-of-court disposals, decided at the police decision panel (YJ-07; CAM 9.2, LLR 15).
public enum OutOfCourtDisposal: String, Sendable, Hashable, Codable, CaseIterable {
    case triage
    case youthCaution = "youth-caution"
    case youthConditionalCaution = "youth-conditional-caution"
}

public struct PoliceDecisionFacts: Sendable, Hashable, Codable {
    public var decidedAt: Instant
    public var childSubjectID: String
    /// Age at the date of the behaviour.
    public var age: Int
    public var decision: PoliceDecision
    public var disposal: OutOfCourtDisposal?
    /// After no further action or insufficient evidence, whether concerns about the behaviour remain.
    public var concernsRemain: Bool
    public var openToYouthJustice: Bool

    public init(
        decidedAt: Instant, childSubjectID: String, age: Int, decision: PoliceDecision, disposal: OutOfCourtDisposal? = nil,
        concernsRemain: Bool = false, openToYouthJustice: Bool = false
    ) {
        self.decidedAt = decidedAt
        self.childSubjectID = childSubjectID
        self.age = age
        self.decision = decision
        self.disposal = disposal
        self.concernsRemain = concernsRemain
        self.openToYouthJustice = openToYouthJustice
    }
}

/// Who leads an AIM assessment and who co-works it (YJ-04; GAT 3.3.1-3.4).
public struct AIMAssignment: Sendable, Hashable, Codable {
    public let lead: LeadAgency
    /// The agency that provides the co-worker; nil when both lead jointly.
    public let coWorker: LeadAgency?
    /// The seed clause the lead comes from, in the profile in force.
    public let source: String
    /// The lead obtains consent and shares the report; the co-worker does neither.
    public static let leadOnlyDuties = [
        "obtain consent from the young person and family or carers", "share the assessment's conclusions and recommendations",
    ]
    public static let sharedDuties = [
        "gather and collate relevant information", "liaise with other professionals", "interview the young person and family or carers",
        "complete the AIM assessment",
    ]
    public let citation: Citation

    /// YJ-04: on the criminal justice route the profile's lead there (youth justice; CAL:
    /// social care while its involvement goes on); on the concern route the profile's lead
    /// (GAT: children's services; CAM: the youth service; LLR: jointly), unless the case is
    /// already open to youth justice. The other agency provides the co-worker.
    public init(route: CaseRoute, openToYouthJustice: Bool, profile: ProcedureProfile) {
        if route == .criminalJustice {
            lead = profile.aimLeadOnCriminalJusticeRoute
            source = profile.aimLeadOnCriminalJusticeRouteSource
        } else if openToYouthJustice {
            lead = .youthJustice
            source = "GAT 3.3.2 (already open to youth justice)"
        } else {
            lead = profile.aimLeadOnConcernRoute
            source = profile.aimLeadOnConcernRouteSource
        }
        switch lead {
        case .youthJustice: coWorker = .socialCare
        case .socialCare: coWorker = .youthJustice
        case .joint: coWorker = nil
        }
        citation = RuleCatalogue.cite("YJ-04")
    }

    /// `youth-justice, with a co-worker from social-care`, or `youth-justice and social-care jointly`.
    public var summary: String {
        guard let coWorker else { return "youth-justice and social-care jointly" }
        return "\(lead.rawValue), with a co-worker from \(coWorker.rawValue)"
    }
}

/// A decision on the routes a case takes after a police decision.
public struct RouteDecision: Sendable, Hashable, Codable {
    public let routes: [CaseRoute]
    public let aim: AIMAssignment?
    public let tasks: [DecisionTask]
    public let notifications: [Notification]
    public let citations: [Citation]
    public let rationale: [String]
}

/// The criminal justice and concern routes that follow a police decision (YJ-02, YJ-06, YJ-07,
/// YJ-14; GEN-03).
public struct PoliceDecisionRouting: Sendable {
    public let profile: ProcedureProfile
    public let deadlines: DeadlineCalculator

    public init(profile: ProcedureProfile = .camden, deadlines: DeadlineCalculator = DeadlineCalculator()) {
        self.profile = profile
        self.deadlines = deadlines
    }

    public func route(_ facts: PoliceDecisionFacts) throws(ScreeningInputError) -> RouteDecision {
        var record = DecisionRecorder()
        let child = facts.childSubjectID
        if AgeRules.belowCriminalResponsibility(age: facts.age) {
            guard facts.decision == .noFurtherAction else {
                throw ScreeningInputError(problems: [
                    "a child aged \(facts.age) is below the age of criminal responsibility: the police cannot \(facts.decision.rawValue.replacingHyphensWithSpaces())"
                ])
            }
            // GEN-03: a police decision about an under-10 opens no route by itself; the screening's
            // own threshold (social care leads) stands, and youth justice is not engaged.
            record.apply(
                "GEN-03",
                "Aged \(facts.age): below the age of criminal responsibility. No police investigation or criminal justice route; this decision opens no route, youth justice is not engaged, and children's social care leads"
            )
            return RouteDecision(
                routes: [], aim: nil, tasks: record.tasks, notifications: record.notifications,
                citations: record.citations, rationale: record.rationale)
        }
        guard AgeRules.inYouthJusticeRange(age: facts.age) else {
            throw ScreeningInputError(problems: ["aged \(facts.age): youth justice works with young people aged 10 to 17 (YJ-01)"])
        }
        if facts.disposal != nil && facts.decision != .outOfCourtDisposal {
            throw ScreeningInputError(problems: ["disposal is set, but the decision is \(facts.decision.rawValue)"])
        }
        var routes: [CaseRoute] = []
        switch facts.decision {
        case .outOfCourtDisposal, .charge:
            routes.append(.criminalJustice)
            record.apply(
                "YJ-02",
                "Aged \(facts.age), interviewed for a sexual offence with a decision to proceed (\(facts.decision.rawValue.replacingHyphensWithSpaces())): the criminal justice route; youth justice is notified"
            )
            record.notify(.youthJustice, "Criminal justice route: \(facts.decision.rawValue.replacingHyphensWithSpaces())", rule: "YJ-02")
            record.apply(
                "INF-06", "Youth justice tells the contact service when a young person enters the criminal justice system, and of court decisions")
            record.notify(.contactService, "A young person entered the criminal justice system", rule: "INF-06")
            if facts.decision == .outOfCourtDisposal {
                record.apply(
                    "YJ-07",
                    "Out-of-court disposal\(facts.disposal.map { " (\($0.rawValue.replacingHyphensWithSpaces()))" } ?? ""): decided at the police decision panel"
                )
                record.task("YJ-07", "decision-panel", "Refer to the youth justice police decision panel", owner: .youthJustice, subject: child)
            }
        case .investigationContinuing:
            routes.append(.criminalJustice)
            record.apply(
                "YJ-02",
                "The investigation continues after interview: referred to youth justice for the AIM process now, not when the investigation ends")
            record.notify(.youthJustice, "Prompt referral while the police investigation continues", rule: "YJ-02")
            record.task(
                "YJ-02", "prompt-referral", "Refer to youth justice for the AIM process without waiting for the investigation to end",
                owner: .police, due: deadlines.due(.workingDays(1), from: facts.decidedAt), subject: child)
        case .releasedUnderInvestigation:
            record.apply("YJ-06", "Released under investigation: a service is offered by youth justice, social care or CAMHS")
            record.task(
                "YJ-06", "service-offer", "Offer a service or intervention (youth justice, social care or CAMHS)", owner: .youthJustice,
                subject: child)
        case .noFurtherAction, .insufficientEvidence:
            record.apply("YJ-02", "No further action does not open the criminal justice route")
            if facts.concernsRemain {
                routes.append(.concern)
                record.apply(
                    "YJ-14",
                    "Concerns remain: referred to early help or social care duty, rescreened with the Brook tool and the Hackett continuum, and managed through HSB multi-agency meetings"
                )
                record.task(
                    "YJ-14", "rescreen",
                    "Refer to early help or the social care duty team and rescreen with the Brook tool and the Hackett continuum",
                    owner: .contactService, subject: child)
            }
        }
        let aimRoute = routes.first { $0 == .criminalJustice || $0 == .concern }
        let aim = aimRoute.flatMap { route -> AIMAssignment? in
            guard AgeRules.inAIMRange(age: facts.age) else { return nil }
            return AIMAssignment(route: route, openToYouthJustice: facts.openToYouthJustice, profile: profile)
        }
        if let aim {
            record.apply(
                "YJ-04",
                "AIM assessment led by \(aim.summary) (\(aim.source)). Only trained assessors lead; the lead obtains consent and shares the report"
            )
            record.apply(
                "YJ-05",
                "Aged \(facts.age): in the AIM range (12 to 17); the assessment may proceed on best available information if the young person denies or will not engage"
            )
        }
        return RouteDecision(
            routes: routes, aim: aim, tasks: record.tasks, notifications: record.notifications, citations: record.citations,
            rationale: record.rationale)
    }
}
