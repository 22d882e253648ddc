public import HSBContract
public import HSBRuntime
import HSBSafeguarding
public import HSBServiceKit
public import HSBStorage
public import HSBWire

/// The MAPPA coordinator: screening (MP-01, MP-02), levels and plan reviews (MP-03), and
/// disclosure on need to know as the forum decides (MP-05).
public struct MappaService: MappaV1.Mappa.ServiceProtocol {
    let resources: ServiceResources

    public init(resources: ServiceResources) {
        self.resources = resources
    }

    /// MAPPA's tables: screenings (MP-01, MP-02), levels and plans (MP-03), disclosures (MP-05).
    static let screenings = ReplyTable<MappaV1.ScreenResult>(
        kind: "mappa-screening", table: "mappa_screenings",
        columns: [
            (.init("category", .integer), { .integer(Int64($0.category)) }),
            (.init("notification_period", .text), { .text($0.notificationPeriod) }),
        ])
    static let levels = ReplyTable<MappaV1.LevelRecord>(
        kind: "mappa-level", table: "mappa_levels",
        columns: [
            (.init("level", .integer), { .integer(Int64($0.level)) }),
            (.init("next_review", .date, nullable: true), { $0.nextReview?.column ?? .null }),
        ])
    static let disclosures = ReplyTable<MappaV1.DisclosureDecision>(
        kind: "mappa-disclosure", table: "mappa_disclosures",
        columns: [
            (.init("recipient", .text), { .text($0.recipient.name) }), (.init("what", .text), { .text($0.what) }),
            (.init("reason", .text), { .text($0.reason) }),
        ])

    /// The store's migrations for MAPPA's tables (from the generic table of earlier releases).
    public static let migrations = [screenings.migration(version: 201), levels.migration(version: 202), disclosures.migration(version: 203)]

    /// The forum's own agencies see everything (MP-05); others only what a disclosure names for them.
    static let forum: Set<Agency> = [.mappa, .youthJustice, .orchestrator]

    public static func handlers(_ resources: ServiceResources) -> [MethodHandler] {
        let readers = AccessPolicy.agencies(Set(Agency.allCases).subtracting([.unspecified, .ops]))
        let policies = MethodPolicies(
            callers: ServiceDescriptor.mappa.callers,
            overrides: [MappaV1.Mappa.Method.decideDisclosure.fullName: .agencies([.mappa]), MappaV1.Mappa.Method.getRecord.fullName: readers])
        return MappaService(resources: resources).methodHandlers(policy: policies.policy(for:))
    }

    public func screen(_ request: MappaV1.ScreenRequest, context: CallerContext) async throws -> MappaV1.ScreenResult {
        guard let birth = CivilDate(wire: request.dateOfBirth) else { throw RPCError(.invalidArgument, "date_of_birth is not a date") }
        let today = LondonTime.date(of: Instant(unixMillis: resources.clock.nowUnixMillis()))
        var facts = MappaFacts(subjectID: request.subjectId, age: birth.age(on: today))
        facts.subjectToNotificationRequirements = request.subjectToNotificationRequirements
        facts.violentOffenceCustodyMonths = request.violentOffenceCustodyMonths > 0 ? Int(request.violentOffenceCustodyMonths) : nil
        facts.sexualOffenceOnLicence = request.sexualOffenceOnLicence
        facts.onLicence = request.onLicence
        facts.assessedRiskOfSeriousHarm = request.assessedRiskOfSeriousHarm
        facts.youthJusticeScreeningDone = request.youthJusticeScreeningDone
        facts.panelDiscussed = request.panelDiscussed
        let screening = MappaRules.screen(facts)
        var period = ""
        if request.subjectToNotificationRequirements {
            guard let sentence = try Self.notificationSentence(request) else {
                throw RPCError(.invalidArgument, "sentence is required when subject_to_notification_requirements is set")
            }
            let relevant = CivilDate(wire: request.relevantDate) ?? today
            period =
                MappaRules.notificationPeriod(sentence, underEighteenOnRelevantDate: birth.age(on: relevant) < AgeRules.adulthood).description
        }
        let result = MappaV1.ScreenResult(
            recordId: ServiceResources.newID("mappa"), category: Int32(screening.category?.rawValue ?? 0), reasons: screening.reasons,
            outstanding: screening.outstanding, notificationPeriod: period,
            citations: screening.citations.map { RuleCitation(ruleID: $0.ruleID, source: $0.source) }, version: 1)
        return try await resources.storeNew(context, Self.screenings, id: result.recordId, subjectID: request.subjectId, reply: result)
    }

    public func recordLevel(_ request: MappaV1.RecordLevelRequest, context: CallerContext) async throws -> MappaV1.LevelRecord {
        guard (1...3).contains(request.level) else { throw RPCError(.invalidArgument, "level must be 1, 2 or 3; it is \(request.level)") }
        guard let review = CivilDate(wire: request.nextReview) else { throw RPCError(.invalidArgument, "next_review is not a date") }
        let now = Instant(unixMillis: resources.clock.nowUnixMillis())
        guard review > LondonTime.date(of: now) else { throw RPCError(.invalidArgument, "next_review \(review) must be after today") }
        let citation = RuleCatalogue.cite("MP-03")
        let task = CaseTask(
            taskID: "MP-03/plan-review/\(request.subjectId)",
            description: "Review the risk management plan; youth justice implements it and monitors compliance",
            owner: .mappa,
            deadline: Deadline(
                kind: .review, dueUnixMillis: LondonTime.endOfDay(review).unixMillis, ruleID: "MP-03",
                description: "next review, by \(review)"),
            ruleID: "MP-03", assignee: "mappa", subjectID: request.subjectId)
        let result = MappaV1.LevelRecord(
            recordId: ServiceResources.newID("mappa-level"), level: request.level, nextReview: request.nextReview,
            planSummary: request.planSummary,
            decision: Decision(
                outcome: "level \(request.level)", subjectIDs: [request.subjectId], tasks: [task], notify: [.youthJustice],
                citations: [RuleCitation(ruleID: citation.ruleID, source: citation.source)],
                rationale:
                    "MAPPA sets management at level \(request.level); the plan is reviewed by \(review); youth justice implements and monitors it [MP-03]",
                notices: [
                    Notice(
                        recipient: "youth-justice", agency: .youthJustice,
                        reason: "Implement the MAPPA risk management plan and monitor compliance", ruleID: "MP-03")
                ]),
            version: 1)
        return try await resources.storeNew(context, Self.levels, id: result.recordId, subjectID: request.subjectId, reply: result)
    }

    public func decideDisclosure(_ request: MappaV1.DecideDisclosureRequest, context: CallerContext) async throws -> MappaV1.DisclosureDecision {
        guard request.recipient != .unspecified else { throw RPCError(.invalidArgument, "recipient is unspecified") }
        // A newer release's agency: a disclosure is recorded only to an agency this release knows (MP-05).
        guard request.recipient.isRecognized else { throw RPCError.unrecognized("recipient", request.recipient.rawValue) }
        let result = MappaV1.DisclosureDecision(
            recordId: ServiceResources.newID("mappa-disclosure"), recipient: request.recipient, what: request.what, reason: request.reason)
        return try await resources.storeNew(context, Self.disclosures, id: result.recordId, subjectID: request.subjectId, reply: result)
    }

    public func getRecord(_ request: MappaV1.GetRecordRequest, context: CallerContext) async throws -> MappaV1.MappaView {
        let caller = context.caller.agency
        // MP-05: the forum reads every record in one transaction; another agency, the disclosures alone.
        let forum = Self.forum.contains(caller)
        let rows = try await resources.readRows(
            context, forum ? [Self.screenings.table, Self.levels.table, Self.disclosures.table] : [Self.disclosures.table],
            subjectID: request.subjectId)
        let disclosures = try Self.disclosures.replies(rows)
        if forum {
            return MappaV1.MappaView(
                subjectId: request.subjectId, screenings: try Self.screenings.replies(rows), levels: try Self.levels.replies(rows),
                disclosures: disclosures)
        }
        // MP-05: another agency sees only the disclosures the forum decided for it.
        return MappaV1.MappaView(
            subjectId: request.subjectId, disclosures: disclosures.filter { $0.recipient == caller },
            withheld: ["screenings", "levels", "disclosures to other agencies"])
    }

    static func notificationSentence(_ request: MappaV1.ScreenRequest) throws(RPCError) -> NotificationSentence? {
        switch request.sentence {
        case .unspecified: return nil
        case .unrecognized(let value): throw RPCError.unrecognized("sentence", value)
        case .imprisonmentForLifeOrAtLeast30Months: return .imprisonmentForLifeOrAtLeast30Months
        case .imprisonment:
            guard request.sentenceMonths > 0 else { throw RPCError(.invalidArgument, "sentence_months is required for imprisonment") }
            return .imprisonmentMonths(Int(request.sentenceMonths))
        case .caution: return .caution
        case .conditionalDischarge:
            guard request.sentenceMonths > 0 else { throw RPCError(.invalidArgument, "sentence_months is required for a conditional discharge") }
            return .conditionalDischarge(months: Int(request.sentenceMonths))
        case .other: return .other
        }
    }

}
