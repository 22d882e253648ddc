public import HSBContract
public import HSBRuntime
import HSBSafeguarding
public import HSBServiceKit
import HSBStorage
public import HSBWire

/// CAMHS: referrals through the single point of access (MH-01, MH-03), a known child's new
/// concern as a notification (MH-02), recorded consultations (MH-03, MH-04), and the AIM
/// duplication prompt (MH-05).
public struct CamhsService: CamhsV1.Camhs.ServiceProtocol {
    static let referralKind = "camhs-referral"
    static let notificationKind = "camhs-notification"
    static let consultationKind = "camhs-consultation"
    static let assessmentKind = "camhs-assessment"

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
            let known = try !tx.list(kind: Self.referralKind, subjectID: request.childSubjectId).isEmpty
            let (intake, citation) = CamhsRules.intake(
                ageAtReferral: age, mentalHealthConcern: request.mentalHealthConcern, alreadyKnown: known)
            let outcome: String
            let reason: String
            let kind: String
            switch intake {
            case .acceptReferral:
                (outcome, reason, kind) = ("accepted", "accepted through the single point of access", Self.referralKind)
            case .notifyTeam:
                (outcome, reason, kind) = (
                    "team-notified", "already known to CAMHS: the team is told of the new concern; no second referral", Self.notificationKind
                )
            case .decline(let why):
                (outcome, reason, kind) = ("declined", why, "")
            }
            let id = kind.isEmpty ? "" : ServiceResources.newID(kind)
            let result = CamhsV1.ReferralOutcome(
                recordId: id, outcome: outcome, reason: reason, citation: RuleCitation(ruleID: citation.ruleID, source: citation.source),
                offers: CamhsRules.offers)
            let bytes: [UInt8]
            do throws(WireError) { bytes = try result.encoded() } catch {
                throw .storage(StorageError(operation: "encode", message: "\(error)"))
            }
            if !kind.isEmpty {
                _ = try tx.insert(
                    kind: kind, id: id, subjectID: request.childSubjectId,
                    body: StoredReply(reply: bytes, recordedBy: caller.agency.name).json())
                try tx.logAccess(
                    agency: caller.agency.name, user: caller.user, action: .write, kind: kind, recordID: id,
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
            context, kind: Self.consultationKind, id: result.recordId,
            subjectID: request.childSubjectId.isEmpty ? "no-names" : request.childSubjectId, reply: result)
    }

    public func agreeAssessment(_ request: CamhsV1.AgreeAssessmentRequest, context: CallerContext) async throws -> CamhsV1.AssessmentAgreement {
        let prompt = CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: true, aimAssessmentComplete: request.aimAssessmentComplete)
        let citation = RuleCatalogue.cite("MH-05")
        let result = CamhsV1.AssessmentAgreement(
            recordId: ServiceResources.newID("camhs-assessment"), prompt: prompt ?? "",
            citations: prompt == nil ? [] : [RuleCitation(ruleID: citation.ruleID, source: citation.source)])
        return try await resources.storeNew(context, kind: Self.assessmentKind, id: result.recordId, subjectID: request.childSubjectId, reply: result)
    }
}
