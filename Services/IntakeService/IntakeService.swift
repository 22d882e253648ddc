import Foundation
public import HSBContract
public import HSBRuntime
public import HSBSafeguarding
public import HSBServiceKit
public import HSBStorage
public import HSBWire

/// How this partnership's intake screens: its procedure profile, its local authority, its calendar.
public struct IntakeConfiguration: Sendable {
    public var profile: ProcedureProfile
    /// This partnership's local authority (SCR-12 compares a child's home authority with it).
    public var localAuthority: String
    public var calendar: WorkingDayCalendar

    public init(profile: ProcedureProfile = .camden, localAuthority: String, calendar: WorkingDayCalendar = WorkingDayCalendar()) {
        self.profile = profile
        self.localAuthority = localAuthority
        self.calendar = calendar
    }
}

/// The contact service and MASH: referrals screened by the rules, stored durably, read on a
/// need-to-know basis; no-names consultations that store nothing.
public struct IntakeService: IntakeV1.Intake.ServiceProtocol {
    let resources: ServiceResources
    let configuration: IntakeConfiguration
    let screening: ReferralScreening
    let meetings: StrategyMeetingRules
    let events: CaseEventRules

    public init(resources: ServiceResources, configuration: IntakeConfiguration) {
        self.resources = resources
        self.configuration = configuration
        screening = ReferralScreening(profile: configuration.profile, deadlines: DeadlineCalculator(calendar: configuration.calendar))
        meetings = StrategyMeetingRules(deadlines: DeadlineCalculator(calendar: configuration.calendar), profile: configuration.profile)
        events = CaseEventRules(profile: configuration.profile, deadlines: DeadlineCalculator(calendar: configuration.calendar))
    }

    /// Intake's tables: each referral screened, kept as received (`referral`) with its screening
    /// (`screening`), both protobuf, beside the columns a person asks about; and each child or
    /// person harmed a referral named (`subjects`).
    static let referrals = RecordTable(
        kind: "referral", table: "referrals",
        columns: [
            .init("submitted_by", .text), .init("user_name", .text), .init("received_at_unix_ms", .integer), .init("outcome", .text),
            .init("persons_harmed", .text), .init("referral", .blob), .init("screening", .blob),
        ])
    static let subjects = RecordTable(kind: "subject", table: "subjects", subjectMeans: "the subject's own id", columns: [])

    /// The store's migrations for intake's tables (from the generic table of earlier releases).
    public static let migrations = [
        referrals.migration(version: 201) { record in
            guard let stored = try? JSONDecoder().decode(StoredReferral.self, from: Data(record.body.utf8)),
                let referral = try? IntakeV1.Referral(decoding: [UInt8](stored.referral)),
                let result = try? IntakeV1.ScreeningResult(decoding: [UInt8](stored.result))
            else { return nil }
            return referralValues(
                referral, as: [UInt8](stored.referral), result, as: [UInt8](stored.result), submittedBy: stored.submittedBy, user: stored.user)
        },
        subjects.migration(version: 202) { _ in [] },
        meetings.migration(version: 203),
        caseEvents.migration(version: 204),
    ]

    /// A referral's column values: the referral as received and its screening (each with its
    /// bytes, kept whole), and what a person asks about, read from them.
    static func referralValues(
        _ referral: IntakeV1.Referral, as bytes: [UInt8], _ result: IntakeV1.ScreeningResult, as screening: [UInt8], submittedBy: String,
        user: String
    ) -> [SQLValue] {
        [
            .text(submittedBy), .text(user), .integer(referral.receivedUnixMs), .text(result.decision?.outcome ?? result.outcome),
            .text(referral.personsHarmed.compactMap { $0.subject?.subjectID }.joined(separator: " ")), .blob(bytes), .blob(screening),
        ]
    }

    /// The referral as received, from its row.
    static func referral(of row: TableRow) -> IntakeV1.Referral? { row.bytes("referral").flatMap { try? IntakeV1.Referral(decoding: $0) } }

    /// What a referral was stored as by releases before the typed tables: the referral and its
    /// screening as sent on the wire, in JSON.
    struct StoredReferral: Codable {
        var referral: Data
        var result: Data
        var submittedBy: String
        var user: String
    }

    public static func handlers(_ resources: ServiceResources, _ configuration: IntakeConfiguration) -> [MethodHandler] {
        IntakeService(resources: resources, configuration: configuration)
            .methodHandlers(policy: MethodPolicies(callers: ServiceDescriptor.intake.callers).policy(for:))
    }

    public func submitReferral(_ request: IntakeV1.SubmitReferralRequest, context: CallerContext) async throws -> IntakeV1.ScreeningResult {
        let caller = context.caller
        let now = resources.clock.nowUnixMillis()
        let referral = request.referral!
        let received = try ReferralMapping.receivedAt(referral, now: now)
        let facts = try ReferralMapping.facts(referral, receivedAt: received, localAuthority: configuration.localAuthority)
        let decision: ScreeningDecision
        decision = try screening.screen(facts)
        let subjects = [facts.child.subjectID] + facts.personsHarmed.map(\.subjectID)
        // A retry with the same idempotency key gets the first reply, and so the first id.
        let referralID = "ref-\(UUID().uuidString.lowercased())"
        let stored = decision.outcome == .screened
        let result = ReferralMapping.result(decision, referralID: stored ? referralID : "", version: stored ? 1 : 0, subjects: subjects)
        let reply = try result.encoded()
        let referralBytes = try referral.encoded()
        return try await resources.idempotentWrite(context, now: now) { transaction throws(RecordStoreError) in
            guard stored else { return result }
            let values = Self.referralValues(referral, as: referralBytes, result, as: reply, submittedBy: caller.agency.name, user: caller.user)
            try transaction.insert(Self.referrals, id: referralID, subjectID: facts.child.subjectID, values: values)
            for subject in subjects { try transaction.insertIfAbsent(Self.subjects, id: subject, subjectID: subject, values: []) }
            try transaction.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Self.referrals.kind, recordID: referralID,
                purpose: context.purpose.isEmpty ? "referral" : context.purpose, requestID: String(context.requestID))
            return result
        }
    }

    public func getReferral(_ request: IntakeV1.GetReferralRequest, context: CallerContext) async throws -> IntakeV1.ReferralView {
        let caller = context.caller
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to read a referral: say why you need it (INF-05)")
        }
        let now = resources.clock.nowUnixMillis()
        let record = try await resources.blocking {
            try resources.store.read(now: now) { transaction throws(RecordStoreError) -> TableRow? in
                guard let record = try transaction.get(Self.referrals, id: request.referralId) else { return nil }
                try transaction.logAccess(
                    agency: caller.agency.name, user: caller.user, action: .read, kind: Self.referrals.kind, recordID: record.id,
                    purpose: context.purpose,
                    requestID: String(context.requestID))
                return record
            }
        }
        guard let record else { throw RPCError(.notFound, "no referral with id \(request.referralId)") }
        guard let referralBytes = record.bytes("referral"), let screening = record.bytes("screening") else {
            throw RPCError(.internal, "referral \(record.id) could not be read from the store")
        }
        var result = try IntakeV1.ScreeningResult(decoding: screening)
        result.version = record.version
        let view = IntakeV1.ReferralView(
            referralId: record.id, version: record.version, referral: try IntakeV1.Referral(decoding: referralBytes), screening: result)
        return NeedToKnow.filter(view, for: caller.agency)
    }

    /// SCR-21: screens a described situation and stores nothing (no record, no access log).
    public func consult(_ request: IntakeV1.ConsultationRequest, context: CallerContext) async throws -> IntakeV1.ScreeningResult {
        var problems: [String] = []
        guard (0...17).contains(request.age) else {
            throw RPCError(.invalidArgument, "age must be 0 to 17 for a consultation about a child (GEN-01); it is \(request.age)")
        }
        let now = Instant(unixMillis: resources.clock.nowUnixMillis())
        let today = LondonTime.date(of: now)
        var facts = ReferralFacts(
            receivedAt: now, localAuthority: configuration.localAuthority,
            child: ChildDisplayingHSB(subjectID: "consultation", dateOfBirth: today.adding(months: -12 * Int(request.age))))
        facts.behaviours = ReferralMapping.behaviours(request.behaviours, problems: &problems)
        facts.harmIndicators = ReferralMapping.harmIndicators(request.harmIndicators, problems: &problems)
        if !problems.isEmpty { throw RPCError(.invalidArgument, problems.joined(separator: "; ")) }
        facts.physicallyViolent = request.physicallyViolent
        facts.sexualActivity = request.sexualActivity
        facts.significantHarmSuspected = request.significantHarmSuspected
        facts.childDisplayingMayBeAbused = request.childDisplayingMayBeAbused
        facts.parentsTold = true
        if request.someoneHarmed {
            facts.personsHarmed = [PersonHarmed(subjectID: "consultation-harmed", dateOfBirth: nil)]
            facts.incidentDetails = "not given in a consultation"
            facts.victimVulnerability = "not given in a consultation"
            facts.coercionEvidence = "not given in a consultation"
            facts.referrerAssessedRisk = "not given in a consultation"
            facts.otherChildrenMayBeAtRisk = false
        }
        let decision: ScreeningDecision
        decision = try screening.screen(facts)
        var result = ReferralMapping.result(decision, referralID: "", version: 0, subjects: [])
        let citation = RuleCatalogue.cite("SCR-21")
        result.decision?.citations.append(RuleCitation(ruleID: citation.ruleID, source: citation.source))
        result.decision?.rationale += "\nA no-names consultation: nothing personal was stored; make a referral for any action [SCR-21]"
        return result
    }
}
