public import HSBRuntime
import HSBSafeguarding
public import HSBServiceKit
import HSBStorage
import HSBWire

/// CAMHS: referrals through the single point of access (MH-01, MH-03), a known child's new
/// concern as a notification (MH-02), recorded consultations (MH-03, MH-04), and the AIM
/// duplication prompt (MH-05).
public enum CamhsService {
    public static let refer = "hsb.camhs.v1.Camhs/Refer"
    public static let consult = "hsb.camhs.v1.Camhs/Consult"
    public static let agreeAssessment = "hsb.camhs.v1.Camhs/AgreeAssessment"

    static let referralKind = "camhs-referral"
    static let notificationKind = "camhs-notification"
    static let consultationKind = "camhs-consultation"
    static let assessmentKind = "camhs-assessment"

    public static func handlers(_ resources: ServiceResources) -> [MethodHandler] {
        let callers = AccessPolicy.agencies(ServiceDescriptor.camhs.callers)
        return [
            MethodHandler(method: refer, policy: RelayedActs.policy(refer)) { context, payload in
                let request = try decodePayload(CamhsV1.ReferRequest.self, payload)
                guard let birth = CivilDate(wire: request.dateOfBirth) else { throw RPCError(.invalidArgument, "date_of_birth is not a date") }
                let now = resources.clock.nowUnixMillis()
                let age = birth.age(on: LondonTime.date(of: Instant(unixMillis: now)))
                let caller = try context.requireCaller()
                // MH-02 is decided from CAMHS's own records, in the same transaction as the write.
                let reply = try await resources.write(idempotencyKey: context.idempotencyKey, caller: caller.agency.name, method: refer, now: now) {
                    tx throws(RecordStoreError) in
                    let known = try !tx.list(kind: referralKind, subjectID: request.childSubjectId).isEmpty
                    let (intake, citation) = CamhsRules.intake(
                        ageAtReferral: age, mentalHealthConcern: request.mentalHealthConcern, alreadyKnown: known)
                    let outcome: String
                    let reason: String
                    let kind: String
                    switch intake {
                    case .acceptReferral:
                        (outcome, reason, kind) = ("accepted", "accepted through the single point of access", referralKind)
                    case .notifyTeam:
                        (outcome, reason, kind) = (
                            "team-notified", "already known to CAMHS: the team is told of the new concern; no second referral", notificationKind
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
                    return bytes
                }.reply
                return reply
            },
            MethodHandler(method: consult, policy: callers) { context, payload in
                let request = try decodePayload(CamhsV1.ConsultRequest.self, payload)
                let citation = RuleCatalogue.cite("MH-03")
                let result = CamhsV1.ConsultationRecord(
                    recordId: ServiceResources.newID("camhs-consultation"), offers: CamhsRules.offers,
                    citation: RuleCitation(ruleID: citation.ruleID, source: citation.source))
                let reply = try result.encoded()
                return try await resources.storeNew(
                    context, method: consult, kind: consultationKind, id: result.recordId,
                    subjectID: request.childSubjectId.isEmpty ? "no-names" : request.childSubjectId,
                    body: StoredReply(reply: reply, recordedBy: (try context.requireCaller()).agency.name).json(), reply: reply)
            },
            MethodHandler(method: agreeAssessment, policy: callers) { context, payload in
                let request = try decodePayload(CamhsV1.AgreeAssessmentRequest.self, payload)
                let prompt = CamhsRules.aimDuplicationPrompt(camhsAssessmentAgreed: true, aimAssessmentComplete: request.aimAssessmentComplete)
                let citation = RuleCatalogue.cite("MH-05")
                let result = CamhsV1.AssessmentAgreement(
                    recordId: ServiceResources.newID("camhs-assessment"), prompt: prompt ?? "",
                    citations: prompt == nil ? [] : [RuleCitation(ruleID: citation.ruleID, source: citation.source)])
                let reply = try result.encoded()
                return try await resources.storeNew(
                    context, method: agreeAssessment, kind: assessmentKind, id: result.recordId, subjectID: request.childSubjectId,
                    body: StoredReply(reply: reply, recordedBy: (try context.requireCaller()).agency.name).json(), reply: reply)
            },
        ]
    }

}
