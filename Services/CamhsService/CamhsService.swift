public import HSBContract
public import HSBRuntime
import HSBSafeguarding
public import HSBServiceKit
public import HSBStorage
public import HSBWire

/// CAMHS: referrals through the single point of access (MH-01, MH-03), a known child's new
/// concern as a notification (MH-02), recorded consultations (MH-03, MH-04), and the AIM
/// duplication prompt (MH-05).
public struct CamhsService: CamhsV1.Camhs.ServiceProtocol {
    /// CAMHS's tables: referrals accepted (MH-01), teams told of a known child (MH-02),
    /// consultations (MH-03) and assessments agreed (MH-05).
    static let referrals = ReplyTable<CamhsV1.ReferralOutcome>(
        kind: "camhs-referral", table: "camhs_referrals", columns: [(.init("outcome", .text), { .text($0.outcome) })])
    static let notifications = ReplyTable<CamhsV1.ReferralOutcome>(
        kind: "camhs-notification", table: "camhs_notifications", columns: [(.init("outcome", .text), { .text($0.outcome) })])
    static let consultations = ReplyTable<CamhsV1.ConsultationRecord>(
        kind: "camhs-consultation", table: "camhs_consultations", subjectMeans: "the child's subject id, or no-names for an anonymous consultation")
    static let assessments = ReplyTable<CamhsV1.AssessmentAgreement>(
        kind: "camhs-assessment", table: "camhs_assessments", columns: [(.init("prompt", .text), { .text($0.prompt) })])

    /// The store's migrations for CAMHS's tables (from the generic table of earlier releases).
    public static let migrations = [
        referrals.migration(version: 201), notifications.migration(version: 202), consultations.migration(version: 203),
        assessments.migration(version: 204),
    ]

    let resources: ServiceResources

    public init(resources: ServiceResources) {
        self.resources = resources
    }

    public static func handlers(_ resources: ServiceResources) -> [MethodHandler] {
        CamhsService(resources: resources).methodHandlers(policy: MethodPolicies(callers: ServiceDescriptor.camhs.callers).policy(for:))
    }

    public func refer(_ request: CamhsV1.ReferRequest, context: CallerContext) async throws -> CamhsV1.ReferralOutcome {
        guard let birth = CivilDate(wire: request.dateOfBirth) else { throw RPCError(.invalidArgument, "date_of_birth is not a date") }
        let now = resources.clock.nowUnixMillis()
        let age = birth.age(on: LondonTime.date(of: Instant(unixMillis: now)))
        let caller = context.caller
        // MH-02 is decided from CAMHS's own records, in the same transaction as the write.
        return try await resources.idempotentWrite(context, now: now) { tx throws(RecordStoreError) in
            let known = try !tx.list(Self.referrals.table, subjectID: request.childSubjectId).isEmpty
            let (intake, citation) = CamhsRules.intake(
                ageAtReferral: age, mentalHealthConcern: request.mentalHealthConcern, alreadyKnown: known)
            let outcome: String
            let reason: String
            let table: ReplyTable<CamhsV1.ReferralOutcome>?
            switch intake {
            case .acceptReferral:
                (outcome, reason, table) = ("accepted", "accepted through the single point of access", Self.referrals)
            case .notifyTeam:
                (outcome, reason, table) = (
                    "team-notified", "already known to CAMHS: the team is told of the new concern; no second referral", Self.notifications
                )
            case .decline(let why):
                (outcome, reason, table) = ("declined", why, nil)
            }
            let id = table.map { ServiceResources.newID($0.table.kind) } ?? ""
            let result = CamhsV1.ReferralOutcome(
                recordId: id, outcome: outcome, reason: reason, citation: RuleCitation(ruleID: citation.ruleID, source: citation.source),
                offers: CamhsRules.offers)
            if let table {
                try tx.insert(
                    table.table, id: id, subjectID: request.childSubjectId, values: try table.values(result, recordedBy: caller.agency.name))
                try tx.logAccess(
                    agency: caller.agency.name, user: caller.user, action: .write, kind: table.table.kind, recordID: id,
                    purpose: context.purpose.isEmpty ? "referral" : context.purpose, requestID: String(context.requestID))
            }
            return result
        }
    }

    public func consult(_ request: CamhsV1.ConsultRequest, context: CallerContext) async throws -> CamhsV1.ConsultationRecord {
        let citation = RuleCatalogue.cite("MH-03")
        let result = CamhsV1.ConsultationRecord(
            recordId: ServiceResources.newID("camhs-consultation"), offers: CamhsRules.offers,
            citation: RuleCitation(ruleID: citation.ruleID, source: citation.source))
        return try await resources.storeNew(
            context, Self.consultations, id: result.recordId,
            subjectID: request.childSubjectId.isEmpty ? "no-names" : request.childSubjectId, reply: result)
    }

    public func agreeAssessment(_ request: CamhsV1.AgreeAssessmentRequest, context: CallerContext) async throws -> CamhsV1.AssessmentAgreement {
        let prompt = CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: true, aimAssessmentComplete: request.aimAssessmentComplete)
        let citation = RuleCatalogue.cite("MH-05")
        let result = CamhsV1.AssessmentAgreement(
            recordId: ServiceResources.newID("camhs-assessment"), prompt: prompt ?? "",
            citations: prompt == nil ? [] : [RuleCitation(ruleID: citation.ruleID, source: citation.source)])
        return try await resources.storeNew(context, Self.assessments, id: result.recordId, subjectID: request.childSubjectId, reply: result)
    }
}
