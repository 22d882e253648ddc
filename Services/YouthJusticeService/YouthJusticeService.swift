public import HSBRuntime
public import HSBSafeguarding
public import HSBServiceKit
import HSBStorage
import HSBWire

/// Youth justice: police decisions and the routes they open (YJ-02 to YJ-07, YJ-14), court
/// (YJ-08, YJ-09), the High Risk and Vulnerability Panel (YJ-10), release planning (YJ-11,
/// YJ-12) and the panel admission (YJ-13). Each event is stored with the plan it set going.
public enum YouthJusticeService {
    public static let recordPoliceDecision = "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision"
    public static let recordCourtOutcome = "hsb.youthjustice.v1.YouthJustice/RecordCourtOutcome"
    public static let referToPanel = "hsb.youthjustice.v1.YouthJustice/ReferToPanel"
    public static let planRelease = "hsb.youthjustice.v1.YouthJustice/PlanRelease"
    public static let recordAdmission = "hsb.youthjustice.v1.YouthJustice/RecordAdmission"
    public static let getPlans = "hsb.youthjustice.v1.YouthJustice/GetPlans"

    static let planKind = "youth-justice-plan"
    /// Agencies that see youth justice plans (INF-04): the service itself, social care and the orchestrator.
    static let readers: Set<Agency> = [.youthJustice, .socialCare, .orchestrator]

    public static func handlers(_ resources: ServiceResources, profile: ProcedureProfile, calendar: WorkingDayCalendar) -> [MethodHandler] {
        let deadlines = DeadlineCalculator(calendar: calendar)
        let routing = PoliceDecisionRouting(profile: profile, deadlines: deadlines)
        let planning = YouthJusticePlanning(profile: profile, deadlines: deadlines)
        @Sendable func now() -> Instant { Instant(unixMillis: resources.clock.nowUnixMillis()) }
        return aimHandlers(resources, profile: profile, deadlines: deadlines) + [
            MethodHandler(method: recordPoliceDecision, policy: RelayedActs.policy(recordPoliceDecision)) { context, payload in
                let request = try decodePayload(YouthjusticeV1.RecordPoliceDecisionRequest.self, payload)
                let person = try YoungPerson(request.youngPerson!, now: now())
                guard request.decision.isRecognized else { throw RPCError.unrecognized("decision", request.decision.rawValue) }
                guard request.disposal.isRecognized else { throw RPCError.unrecognized("disposal", request.disposal.rawValue) }
                guard let decision = policeDecisions[request.decision] else { throw RPCError(.invalidArgument, "decision is unspecified") }
                let facts = PoliceDecisionFacts(
                    decidedAt: now(), childSubjectID: person.subjectID, age: person.age, decision: decision,
                    disposal: disposals[request.disposal], concernsRemain: request.concernsRemain, openToYouthJustice: person.openToYouthJustice)
                let routes = try routing.route(facts)
                let result = YouthjusticeV1.PlanResult(
                    recordId: ServiceResources.newID("yj"), event: "police-decision",
                    decision: DecisionWire.decision(
                        outcome: decision.rawValue, subjects: [person.subjectID], routes: routes.routes.map(\.rawValue), tasks: routes.tasks,
                        notifications: routes.notifications, citations: routes.citations, rationale: routes.rationale),
                    aimLead: routes.aim?.lead.rawValue ?? "", aimCoWorker: routes.aim?.coWorker?.rawValue ?? "", version: 1)
                return try await store(result, person: person, method: recordPoliceDecision, context: context, resources: resources)
            },
            MethodHandler(method: recordCourtOutcome, policy: RelayedActs.policy(recordCourtOutcome)) { context, payload in
                let request = try decodePayload(YouthjusticeV1.RecordCourtOutcomeRequest.self, payload)
                let person = try YoungPerson(request.youngPerson!, now: now())
                guard request.plea.isRecognized else { throw RPCError.unrecognized("plea", request.plea.rawValue) }
                guard let plea = pleas[request.plea] else { throw RPCError(.invalidArgument, "plea is unspecified") }
                var facts = CourtFacts(recordedAt: now(), childSubjectID: person.subjectID, age: person.age, plea: plea)
                facts.referralOrder = request.referralOrder
                facts.camhsAssessmentCoversIssues = request.camhsAssessmentCoversIssues
                let plan = try planning.court(facts)
                return try await store(
                    plan, event: "court-outcome", outcome: plea.rawValue, person: person, method: recordCourtOutcome, context: context,
                    resources: resources)
            },
            MethodHandler(method: referToPanel, policy: RelayedActs.policy(referToPanel)) { context, payload in
                let request = try decodePayload(YouthjusticeV1.ReferToPanelRequest.self, payload)
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
                    plan, event: "panel-referral", outcome: "referred", person: person, method: referToPanel, context: context, resources: resources)
            },
            MethodHandler(method: planRelease, policy: RelayedActs.policy(planRelease)) { context, payload in
                let request = try decodePayload(YouthjusticeV1.PlanReleaseRequest.self, payload)
                let person = try YoungPerson(request.youngPerson!, now: now())
                guard let date = CivilDate(wire: request.date) else { throw RPCError(.invalidArgument, "date is not a date") }
                let plan = planning.release(
                    childSubjectID: person.subjectID, date: date, concernsAboutOthers: request.concernsAboutOthers,
                    siblingsOrChildrenAtRisk: request.siblingsOrChildrenAtRisk, movingIntoArea: request.movingIntoArea, knownAt: now())
                return try await store(
                    plan, event: request.movingIntoArea ? "moving-into-area" : "release-plan", outcome: "planned", person: person,
                    method: planRelease,
                    context: context, resources: resources)
            },
            MethodHandler(method: recordAdmission, policy: RelayedActs.policy(recordAdmission)) { context, payload in
                let request = try decodePayload(YouthjusticeV1.RecordAdmissionRequest.self, payload)
                let person = try YoungPerson(request.youngPerson!, now: now())
                let plan = try planning.admission(
                    childSubjectID: person.subjectID, admittedAt: now(), bailDays: request.bailDays == 0 ? nil : Int(request.bailDays),
                    socialCareInvolvementEnds: request.socialCareInvolvementEnds)
                return try await store(
                    plan, event: "admission", outcome: "admitted", person: person, method: recordAdmission, context: context, resources: resources)
            },
            .unary(getPlans, policy: .agencies(readers)) { (context: RequestContext, request: YouthjusticeV1.GetPlansRequest) in
                let records = try await resources.readRecords(context, kinds: [planKind], subjectID: request.subjectId)[planKind] ?? []
                return YouthjusticeV1.Plans(
                    plans: try records.map { record in
                        var plan = try YouthjusticeV1.PlanResult(decoding: try StoredReply.decode(record.body).replyBytes)
                        plan.version = record.version
                        return plan
                    })
            },
        ]
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

    static func store(
        _ plan: WorkPlan, event: String, outcome: String, person: YoungPerson, method: String, context: RequestContext, resources: ServiceResources
    ) async throws -> [UInt8] {
        let result = YouthjusticeV1.PlanResult(
            recordId: ServiceResources.newID("yj"), event: event,
            decision: DecisionWire.decision(plan, outcome: outcome, subjects: [person.subjectID]),
            version: 1)
        return try await store(result, person: person, method: method, context: context, resources: resources)
    }

    static func store(
        _ result: YouthjusticeV1.PlanResult, person: YoungPerson, method: String, context: RequestContext, resources: ServiceResources
    )
        async throws -> [UInt8]
    {
        let reply = try result.encoded()
        return try await resources.storeNew(
            context, method: method, kind: planKind, id: result.recordId, subjectID: person.subjectID,
            body: StoredReply(reply: reply, recordedBy: (try context.requireCaller()).agency.name).json(), reply: reply)
    }
}
