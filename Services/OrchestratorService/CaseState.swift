import Foundation
import HSBPathway
import HSBRuntime
import HSBWire

/// A step owed to an agency service: written before it is sent, delivered until it lands.
struct StepState: Codable, Equatable {
    var stepID: String
    var caseID: String
    var service: String
    var method: String
    var payload: Data
    var status: String
    var attempts: Int32
    var lastError: String
    var nextAttempt: Int64
    /// Why the step is sent, and for whom: the agency service logs it as the orchestrator's purpose,
    /// so its own access log says which agency and practitioner the orchestrator acted for (INF-05).
    var purpose: String? = nil
    /// The agency (raw value) and person the step relays an act for; nil for the orchestrator's
    /// own steps (optional, so steps an older version wrote as JSON still decode).
    var actingAgency: Int32? = nil
    var actingUser: String? = nil
    /// Attempts that reached the service without an answer (or with an internal error).
    var failuresAfterSend: Int32? = nil
    /// The acting agency's signature over the act (an encoded ``ActProof``), relayed with it.
    var actProof: Data? = nil

    /// Where the step stands, as the contract says it (the stored text is `status`).
    var state: OrchestratorV1.StepStatus { Self.states[status] ?? .unspecified }

    static let states: [String: OrchestratorV1.StepStatus] = [
        "pending": .pending, "delivered": .delivered, "refused": .refused, "dead": .dead, "discarded": .discarded,
    ]

    /// The relayed actor the step is signed for, if any.
    var acting: RelayedActor? {
        guard let raw = actingAgency, raw != 0 else { return nil }
        return RelayedActor(agency: Agency(rawValue: raw), user: actingUser ?? "", proof: actProof.flatMap { try? ActProof(decoding: [UInt8]($0)) })
    }
}

/// A case or step as its store record body. Written as protobuf (`StoredCase`, `StoredStep`),
/// base64 after a `pb1:` tag in the text column; records written before that, as JSON, are still
/// read (and become protobuf the next time they are written).
protocol StoredBody {
    associatedtype Stored: WireMessage
    init(stored: Stored)
    var stored: Stored { get }
}

extension StoredBody where Self: Codable {
    static var tag: String { "pb1:" }

    /// This value as a record body.
    var body: String {
        // Encoding fails only on a string holding U+0000; such a value is kept as JSON instead.
        guard let bytes = try? stored.encoded() else { return JSON.encode(self) }
        return Self.tag + Data(bytes).base64EncodedString()
    }

    /// The value a record body holds; nil when it is neither form.
    init?(body: String) {
        if body.hasPrefix(Self.tag) {
            guard let data = Data(base64Encoded: String(body.dropFirst(Self.tag.count))),
                let stored = try? Stored(decoding: [UInt8](data))
            else { return nil }
            self.init(stored: stored)
        } else if let legacy = JSON.decode(Self.self, body) {
            self = legacy
        } else {
            return nil
        }
    }
}

extension CaseState: StoredBody {
    init(stored: OrchestratorV1.StoredCase) {
        self.init(
            caseID: stored.caseId, childSubjectID: stored.childSubjectId, status: CaseStatus(rawValue: stored.status) ?? .screened,
            referrals: stored.referrals.map { Data($0.referral) }, referralTimes: stored.referrals.map(\.receivedUnixMs),
            screening: stored.hasScreening ? Data(stored.screening) : nil, alerts: stored.alerts, identity: stored.identity,
            chronology: stored.chronology.map { Entry(at: $0.atUnixMs, what: $0.what, ruleIDs: $0.ruleIds) },
            disclosures: stored.disclosures.map {
                DisclosureEntry(
                    at: $0.atUnixMs, toService: $0.toService, what: $0.what, purpose: $0.purpose, lawfulBasis: $0.lawfulBasis, consent: $0.consent,
                    parentsTold: $0.parentsTold.isEmpty ? nil : $0.parentsTold)
            },
            deadlines: stored.deadlines.map {
                DeadlineItem(
                    taskID: $0.taskId, description: $0.description, owner: $0.owner.rawValue, assignee: $0.assignee, due: $0.dueUnixMs,
                    ruleID: $0.ruleId, completedBy: $0.completed ? $0.completedBy : nil, completedAt: $0.completed ? $0.completedUnixMs : nil)
            })
        role = CaseRole(rawValue: stored.role) ?? .childDisplayingHSB
        linked = stored.linked.map {
            LinkedCaseRef(
                caseID: $0.caseId, subjectID: $0.subjectId, role: CaseRole(rawValue: $0.role) ?? .childDisplayingHSB, threshold: $0.threshold)
        }
        threshold = stored.threshold
        consent = stored.consent
        parentsTold = stored.parentsTold
        routes = stored.routes.map { RouteState(route: $0.route, lead: $0.lead, coWorker: $0.coWorker, ruleIDs: $0.ruleIds) }
    }

    var stored: OrchestratorV1.StoredCase {
        OrchestratorV1.StoredCase(
            caseId: caseID, childSubjectId: childSubjectID, status: status.rawValue,
            referrals: zip(referrals, referralTimes).map { OrchestratorV1.StoredReferral(referral: [UInt8]($0), receivedUnixMs: $1) },
            hasScreening: screening != nil, screening: screening.map { [UInt8]($0) } ?? [], alerts: alerts, identity: identity,
            chronology: chronology.map { OrchestratorV1.ChronologyEntry(atUnixMs: $0.at, what: $0.what, ruleIds: $0.ruleIDs) },
            disclosures: disclosures.map {
                OrchestratorV1.Disclosure(
                    atUnixMs: $0.at, toService: $0.toService, what: $0.what, purpose: $0.purpose, lawfulBasis: $0.lawfulBasis, consent: $0.consent,
                    parentsTold: $0.parentsTold ?? "")
            },
            deadlines: deadlines.map {
                OrchestratorV1.StoredDeadline(
                    taskId: $0.taskID, description: $0.description, owner: Agency(rawValue: $0.owner), assignee: $0.assignee,
                    dueUnixMs: $0.due, ruleId: $0.ruleID, completed: $0.completedAt != nil, completedBy: $0.completedBy ?? "",
                    completedUnixMs: $0.completedAt ?? 0)
            }, role: role == .childDisplayingHSB ? "" : role.rawValue,
            linked: linked.map {
                OrchestratorV1.LinkedCase(caseId: $0.caseID, subjectId: $0.subjectID, role: $0.role.rawValue, threshold: $0.threshold)
            },
            threshold: threshold, consent: consent, parentsTold: parentsTold,
            routes: routes.map { OrchestratorV1.CaseRoute(route: $0.route, lead: $0.lead, coWorker: $0.coWorker, ruleIds: $0.ruleIDs) })
    }
}

extension StepState: StoredBody {
    init(stored: OrchestratorV1.StoredStep) {
        self.init(
            stepID: stored.stepId, caseID: stored.caseId, service: stored.service, method: stored.method, payload: Data(stored.payload),
            status: stored.status, attempts: stored.attempts, lastError: stored.lastError, nextAttempt: stored.nextAttemptUnixMs,
            purpose: stored.hasPurpose ? stored.purpose : nil,
            actingAgency: stored.actingAgency == .unspecified ? nil : stored.actingAgency.rawValue,
            actingUser: stored.actingUser.isEmpty ? nil : stored.actingUser,
            failuresAfterSend: stored.failuresAfterSend == 0 ? nil : stored.failuresAfterSend)
    }

    var stored: OrchestratorV1.StoredStep {
        OrchestratorV1.StoredStep(
            stepId: stepID, caseId: caseID, service: service, method: method, payload: [UInt8](payload), status: status, attempts: attempts,
            lastError: lastError, nextAttemptUnixMs: nextAttempt, hasPurpose: purpose != nil, purpose: purpose ?? "",
            actingAgency: actingAgency.map { Agency(rawValue: $0) } ?? .unspecified, actingUser: actingUser ?? "",
            failuresAfterSend: failuresAfterSend ?? 0)
    }
}

/// The JSON form of records written before the protobuf one.
enum JSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension CaseState {
    func view(steps: [StepState], version: Int64, now: Int64) -> OrchestratorV1.CaseView {
        OrchestratorV1.CaseView(
            caseId: caseID, childSubjectId: childSubjectID, status: status.rawValue,
            screening: screening.flatMap { try? IntakeV1.ScreeningResult(decoding: [UInt8]($0)) },
            steps: steps.map {
                OrchestratorV1.Step(
                    stepId: $0.stepID, service: $0.service, method: $0.method, status: $0.status, attempts: $0.attempts, lastError: $0.lastError,
                    nextAttemptUnixMs: $0.nextAttempt, state: $0.state)
            },
            deadlines: deadlines.map { $0.entry(caseID: caseID, now: now) },
            chronology: chronology.map { OrchestratorV1.ChronologyEntry(atUnixMs: $0.at, what: $0.what, ruleIds: $0.ruleIDs) },
            disclosures: disclosures.map {
                OrchestratorV1.Disclosure(
                    atUnixMs: $0.at, toService: $0.toService, what: $0.what, purpose: $0.purpose, lawfulBasis: $0.lawfulBasis, consent: $0.consent,
                    parentsTold: $0.parentsTold ?? "")
            },
            version: version, alerts: alerts, referrals: Int32(referrals.count), role: role.rawValue,
            linked: linked.map {
                OrchestratorV1.LinkedCase(caseId: $0.caseID, subjectId: $0.subjectID, role: $0.role.rawValue, threshold: $0.threshold)
            },
            routes: routes.map { OrchestratorV1.CaseRoute(route: $0.route, lead: $0.lead, coWorker: $0.coWorker, ruleIds: $0.ruleIDs) })
    }
}

extension CaseState.DeadlineItem {
    /// This task of case `caseID` as a reply lists it, with its status as of `now`.
    func entry(caseID: String, now: Int64) -> OrchestratorV1.DeadlineEntry {
        OrchestratorV1.DeadlineEntry(
            caseId: caseID, taskId: taskID, description: description, owner: Agency(rawValue: owner),
            assignee: assignee, dueUnixMs: due, ruleId: ruleID,
            status: completedAt != nil ? "done" : isOverdue(at: now) ? "overdue" : "open", completedBy: completedBy ?? "",
            completedUnixMs: completedAt ?? 0)
    }
}
