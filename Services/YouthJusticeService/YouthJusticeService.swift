public import HSBContract
public import HSBRuntime
public import HSBSafeguarding
public import HSBServiceKit
public import HSBStorage
public import HSBWire

/// Youth justice: police decisions and the routes they open (YJ-02 to YJ-07, YJ-14), court
/// (YJ-08, YJ-09), the High Risk and Vulnerability Panel (YJ-10), release planning (YJ-11,
/// YJ-12) and the panel admission (YJ-13). Each event is stored with the plan it set going.
public struct YouthJusticeService: YouthjusticeV1.YouthJustice.ServiceProtocol {
    let resources: ServiceResources
    let profile: ProcedureProfile
    let deadlines: DeadlineCalculator
    let routing: PoliceDecisionRouting
    let planning: YouthJusticePlanning

    public init(resources: ServiceResources, profile: ProcedureProfile, calendar: WorkingDayCalendar) {
        self.resources = resources
        self.profile = profile
        deadlines = DeadlineCalculator(calendar: calendar)
        routing = PoliceDecisionRouting(profile: profile, deadlines: deadlines)
        planning = YouthJusticePlanning(profile: profile, deadlines: deadlines)
    }

    func now() -> Instant { Instant(unixMillis: resources.clock.nowUnixMillis()) }

    /// Youth justice's tables: each plan a decision made (YJ-02 to YJ-12), and AIM assessments (YJ-04, YJ-05).
    static let plans = ReplyTable<YouthjusticeV1.PlanResult>(
        kind: "youth-justice-plan", table: "youth_justice_plans",
        columns: [
            (.init("event", .text), { .text($0.event) }), (.init("outcome", .text), { .text($0.decision?.outcome ?? "") }),
            (.init("aim_lead", .text), { .text($0.aimLead) }),
        ])

    /// The store's migrations for youth justice's tables (from the generic table of earlier releases).
    public static let migrations = [plans.migration(version: 201), aimMigration]

    /// Agencies that see youth justice plans (INF-04): the service itself, social care and the orchestrator.
    static let readers: Set<Agency> = [.youthJustice, .socialCare, .orchestrator]

    public static func handlers(_ resources: ServiceResources, profile: ProcedureProfile, calendar: WorkingDayCalendar) -> [MethodHandler] {
        let policies = MethodPolicies(
            callers: ServiceDescriptor.youthJustice.callers,
            overrides: [
                YouthjusticeV1.YouthJustice.Method.getPlans.fullName: .agencies(readers),
                YouthjusticeV1.YouthJustice.Method.startAIMAssessment.fullName: .agencies([.youthJustice, .socialCare]),
                YouthjusticeV1.YouthJustice.Method.updateAIMAssessment.fullName: .agencies([.youthJustice, .socialCare]),
            ])
        return YouthJusticeService(resources: resources, profile: profile, calendar: calendar).methodHandlers(policy: policies.policy(for:))
    }

    public func recordPoliceDecision(
        _ request: YouthjusticeV1.RecordPoliceDecisionRequest, context: CallerContext
    ) async throws -> YouthjusticeV1.PlanResult {
        let person = try YoungPerson(request.youngPerson!, now: now())
        guard request.decision.isRecognized else { throw RPCError.unrecognized("decision", request.decision.rawValue) }
        guard request.disposal.isRecognized else { throw RPCError.unrecognized("disposal", request.disposal.rawValue) }
        guard let decision = Self.policeDecisions[request.decision] else { throw RPCError(.invalidArgument, "decision is unspecified") }
        let facts = PoliceDecisionFacts(
            decidedAt: now(), childSubjectID: person.subjectID, age: person.age, decision: decision,
            disposal: Self.disposals[request.disposal], concernsRemain: request.concernsRemain, openToYouthJustice: person.openToYouthJustice)
        let routes = try routing.route(facts)
        let result = YouthjusticeV1.PlanResult(
            recordId: ServiceResources.newID("yj"), event: "police-decision",
            decision: DecisionWire.decision(
                outcome: decision.rawValue, subjects: [person.subjectID], routes: routes.routes.map(\.rawValue), tasks: routes.tasks,
                notifications: routes.notifications, citations: routes.citations, rationale: routes.rationale),
            aimLead: routes.aim?.lead.rawValue ?? "", aimCoWorker: routes.aim?.coWorker?.rawValue ?? "", version: 1)
        return try await store(result, person: person, context: context)
    }

    public func recordCourtOutcome(
        _ request: YouthjusticeV1.RecordCourtOutcomeRequest, context: CallerContext
    ) async throws -> YouthjusticeV1.PlanResult {
        let person = try YoungPerson(request.youngPerson!, now: now())
        guard request.plea.isRecognized else { throw RPCError.unrecognized("plea", request.plea.rawValue) }
        guard let plea = Self.pleas[request.plea] else { throw RPCError(.invalidArgument, "plea is unspecified") }
        var facts = CourtFacts(recordedAt: now(), childSubjectID: person.subjectID, age: person.age, plea: plea)
        facts.referralOrder = request.referralOrder
        facts.camhsAssessmentCoversIssues = request.camhsAssessmentCoversIssues
        let plan = try planning.court(facts)
        return try await store(
            plan, event: "court-outcome", outcome: plea.rawValue, person: person, context: context)
    }

    public func referToPanel(_ request: YouthjusticeV1.ReferToPanelRequest, context: CallerContext) async throws -> YouthjusticeV1.PlanResult {
        let person = try YoungPerson(request.youngPerson!, now: now())
        guard
            let plan = planning.panelReferral(
                childSubjectID: person.subjectID, riskOfSeriousHarm: request.riskOfSeriousHarm, highlyVulnerable: request.highlyVulnerable)
        else {
            throw RPCError(
                .failedPrecondition,
                "the High Risk and Vulnerability Panel takes young people who pose a risk of serious harm or are highly vulnerable; neither is set (YJ-10)"
            )
        }
        return try await store(
            plan, event: "panel-referral", outcome: "referred", person: person, context: context)
    }

    public func planRelease(_ request: YouthjusticeV1.PlanReleaseRequest, context: CallerContext) async throws -> YouthjusticeV1.PlanResult {
        let person = try YoungPerson(request.youngPerson!, now: now())
        guard let date = CivilDate(wire: request.date) else { throw RPCError(.invalidArgument, "date is not a date") }
        let plan = planning.release(
            childSubjectID: person.subjectID, date: date, concernsAboutOthers: request.concernsAboutOthers,
            siblingsOrChildrenAtRisk: request.siblingsOrChildrenAtRisk, movingIntoArea: request.movingIntoArea, knownAt: now())
        return try await store(
            plan, event: request.movingIntoArea ? "moving-into-area" : "release-plan", outcome: "planned", person: person,
            context: context)
    }

    public func recordAdmission(_ request: YouthjusticeV1.RecordAdmissionRequest, context: CallerContext) async throws -> YouthjusticeV1.PlanResult {
        let person = try YoungPerson(request.youngPerson!, now: now())
        let plan = try planning.admission(
            childSubjectID: person.subjectID, admittedAt: now(), bailDays: request.bailDays == 0 ? nil : Int(request.bailDays),
            socialCareInvolvementEnds: request.socialCareInvolvementEnds)
        return try await store(
            plan, event: "admission", outcome: "admitted", person: person, context: context)
    }
    public func getPlans(_ request: YouthjusticeV1.GetPlansRequest, context: CallerContext) async throws -> YouthjusticeV1.Plans {
        YouthjusticeV1.Plans(plans: try await resources.readReplies(context, Self.plans, subjectID: request.subjectId))
    }

    static let policeDecisions: [YouthjusticeV1.PoliceDecision: PoliceDecision] = [
        .outOfCourtDisposal: .outOfCourtDisposal, .charge: .charge, .noFurtherAction: .noFurtherAction,
        .insufficientEvidence: .insufficientEvidence, .releasedUnderInvestigation: .releasedUnderInvestigation,
        .investigationContinuing: .investigationContinuing,
    ]
    static let disposals: [YouthjusticeV1.OutOfCourtDisposal: OutOfCourtDisposal] = [
        .triage: .triage, .youthCaution: .youthCaution, .youthConditionalCaution: .youthConditionalCaution,
    ]
    static let pleas: [YouthjusticeV1.Plea: Plea] = [.guilty: .guilty, .foundGuilty: .foundGuilty, .notGuilty: .notGuilty]

    struct YoungPerson {
        let subjectID: String
        let age: Int
        let openToYouthJustice: Bool

        init(_ wire: YouthjusticeV1.YoungPerson, now: Instant) throws(RPCError) {
            guard let birth = CivilDate(wire: wire.dateOfBirth) else { throw RPCError(.invalidArgument, "young_person.date_of_birth is not a date") }
            let on: CivilDate
            if wire.behaviourDate != nil {
                guard let behaviour = CivilDate(wire: wire.behaviourDate) else {
                    throw RPCError(.invalidArgument, "young_person.behaviour_date is not a date")
                }
                on = behaviour
            } else {
                on = LondonTime.date(of: now)
            }
            guard on >= birth else { throw RPCError(.invalidArgument, "young_person.behaviour_date is before the date of birth") }
            subjectID = wire.subjectId
            age = birth.age(on: on)
            openToYouthJustice = wire.openToYouthJustice
        }
    }

    func store(
        _ plan: WorkPlan, event: String, outcome: String, person: YoungPerson, context: CallerContext
    ) async throws -> YouthjusticeV1.PlanResult {
        let result = YouthjusticeV1.PlanResult(
            recordId: ServiceResources.newID("yj"), event: event,
            decision: DecisionWire.decision(plan, outcome: outcome, subjects: [person.subjectID]),
            version: 1)
        return try await store(result, person: person, context: context)
    }

    func store(_ result: YouthjusticeV1.PlanResult, person: YoungPerson, context: CallerContext) async throws -> YouthjusticeV1.PlanResult {
        try await resources.storeNew(context, Self.plans, id: result.recordId, subjectID: person.subjectID, reply: result)
    }
}
