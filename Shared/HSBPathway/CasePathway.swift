import Foundation
import HSBSafeguarding
public import HSBWire

/// Who did something on a case: an agency and the person at it.
public typealias CaseActor = RelayedActor

/// A request the pathway owes an agency service: the orchestrator writes it to its outbox and
/// delivers it (with an idempotency key of its own making).
public struct OutgoingStep: Sendable, Hashable {
    public var service: String
    public var method: String
    public var payload: [UInt8]
    /// Why it is sent and for whom (INF-05).
    public var purpose: String
    /// The agency the act is relayed for, when it is another agency's act.
    public var acting: CaseActor?

    public init(service: String, method: String, payload: [UInt8], purpose: String, acting: CaseActor? = nil) {
        self.service = service
        self.method = method
        self.payload = payload
        self.purpose = purpose
        self.acting = acting
    }
}

/// What the pathway asks the orchestrator to do beyond storing the case.
public enum PathwayEffect: Sendable, Hashable {
    /// Send a step to an agency through the outbox.
    case send(OutgoingStep)
    /// Add the case to the likely-duplicate index under its child's identity.
    case indexIdentity(identity: String, childID: String)
    /// Remove the case from the likely-duplicate index (its identity was forgotten).
    case forgetIdentity
    /// Clear the outbox step's copy of its request (it held a referral the case does not keep).
    case forgetRequest
    /// Open (or join) the case of a child harmed, linked to this one, with its own work (GEN-01).
    case openHarmedChildCase(HarmedChildCase)
}

/// The case a harmed child gets of their own: who, their threshold, their work.
public struct HarmedChildCase: Sendable, Hashable {
    public var subjectID: String
    public var threshold: String
    public var tasks: [CaseTask]
    /// The case of the child displaying HSB it is linked to.
    public var linkedTo: String

    public init(subjectID: String, threshold: String, tasks: [CaseTask], linkedTo: String) {
        self.subjectID = subjectID
        self.threshold = threshold
        self.tasks = tasks
        self.linkedTo = linkedTo
    }
}

/// A step of the outbox as the pathway sees it: what was sent, to whom, for whom.
public struct SentStep: Sendable, Hashable {
    public var stepID: String
    public var service: String
    public var method: String
    public var request: [UInt8]

    public init(stepID: String, service: String, method: String, request: [UInt8]) {
        self.stepID = stepID
        self.service = service
        self.method = method
        self.request = request
    }
}

/// One thing that happens to a case. The orchestrator loads the case, applies the event, stores
/// the result and hands the effects to its outbox; nothing here does I/O.
public enum PathwayEvent: Sendable {
    /// A referral arrives: it opens a case (`existing` nil) or joins the child's open one.
    /// `duplicates` are other children's cases with the same identity (from the store's index).
    case referralReceived(referral: IntakeV1.Referral, from: CaseActor, receivedAt: Int64, duplicates: [(caseID: String, childID: String)])
    /// A practitioner records an event for an agency: relayed to the agency that owns it.
    case eventRecorded(method: String, payload: [UInt8], by: CaseActor, purpose: String)
    /// An agency accepted a step and replied.
    case delivered(SentStep, reply: [UInt8], availableServices: Set<String>)
    /// An agency refused a step (invalid, not permitted): it is finished, never retried.
    case refused(SentStep, reason: String)
    /// A step reached its agency and failed without an answer too often: it is given up.
    case givenUp(SentStep, failures: Int32, error: String)
    /// An operator settled a given-up step: sent again, or given up for good.
    case settled(SentStep, retried: Bool, by: CaseActor, reason: String)
    /// A practitioner marks a task done.
    case taskCompleted(taskID: String, by: CaseActor, note: String)
}

/// Why the pathway refuses an event; nothing changes.
public struct PathwayRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case notFound
        case permissionDenied
        /// Not yet: something the procedure puts first has not happened.
        case failedPrecondition
    }
    public let kind: Kind
    public let message: String
    public var description: String { message }
}

/// A case's pathway as a pure function: the case and one event give the new case and its effects.
public enum CasePathway {
    public static let intakeSubmitReferral = IntakeV1.Intake.Method.submitReferral.fullName
    public static let camhsRefer = CamhsV1.Camhs.Method.refer.fullName
    public static let mappaScreen = MappaV1.Mappa.Method.screen.fullName

    /// A new case, opened by a referral.
    public static func open(
        caseID: String, referral: IntakeV1.Referral, from: CaseActor, receivedAt: Int64, duplicates: [(caseID: String, childID: String)],
        now: Int64
    ) -> (CaseState, [PathwayEffect]) {
        let identity = CaseState.identity(of: referral.child)
        let childID = referral.child?.subjectID ?? ""
        let alerts = duplicates.filter { $0.childID != childID }.map {
            "Possible duplicate child: the same name, date of birth and postcode as \($0.childID) (case \($0.caseID)); a practitioner decides whether to merge"
        }
        var state = CaseState(
            caseID: caseID, childSubjectID: childID, status: .awaitingScreening, referrals: [], referralTimes: [], screening: nil,
            alerts: alerts, identity: identity, chronology: [], disclosures: [], deadlines: [])
        var effects = receive(referral, from: from, receivedAt: receivedAt, into: &state, now: now)
        if !identity.isEmpty { effects.insert(.indexIdentity(identity: identity, childID: childID), at: 0) }
        return (state, effects)
    }

    /// The case after `event`, and what the orchestrator must do about it.
    public static func apply(_ event: PathwayEvent, to state: CaseState, now: Int64) throws(PathwayRefusal) -> (CaseState, [PathwayEffect]) {
        var state = state
        var effects: [PathwayEffect] = []
        switch event {
        case .referralReceived(let referral, let from, let receivedAt, _):
            // A child has one open case: a further referral joins it, and one within 7 days of the
            // last is a repeat concern. A likely duplicate child is flagged, never merged.
            if let last = state.referralTimes.last, abs(receivedAt - last) <= 7 * 86_400_000 {
                state.alerts.append("Repeat concern: a further referral within 7 days of the last (\(referral.referrer))")
            }
            effects = receive(referral, from: from, receivedAt: receivedAt, into: &state, now: now)
        case .eventRecorded(let method, let payload, let by, let purpose):
            guard let entry = EventMethods.table[method] else {
                throw PathwayRefusal(kind: .notFound, message: "method \(method) cannot be recorded through the orchestrator")
            }
            // MP-02: MAPPA receives an under-18's details only after youth justice's internal
            // screening and the High Risk and Vulnerability Panel's discussion.
            if method == mappaScreen, let screen = try? MappaV1.ScreenRequest(decoding: payload), let birth = screen.dateOfBirth,
                let born = CivilDate(year: Int(birth.year), month: Int(birth.month), day: Int(birth.day)),
                born.age(on: LondonTime.date(of: Instant(unixMillis: now))) < AgeRules.adulthood,
                !(screen.youthJusticeScreeningDone && screen.panelDiscussed)
            {
                throw PathwayRefusal(
                    kind: .failedPrecondition,
                    message:
                        "MP-02: for an under-18, youth justice's internal screening and the High Risk and Vulnerability Panel's discussion come before MAPPA receives the child's details; record both first (youth_justice_screening_done, panel_discussed)"
                )
            }
            state.chronology.append(.init(at: now, what: "\(by.agency.name) recorded \(shortName(method))", ruleIDs: []))
            state.disclosures.append(
                .init(
                    at: now, toService: entry.service, what: shortName(method), purpose: purpose, lawfulBasis: entry.lawfulBasis,
                    consent: Sharing.consent(forShareFrom: state)))
            effects.append(
                .send(OutgoingStep(service: entry.service, method: method, payload: payload, purpose: "\(purpose), for \(by.name)", acting: by)))
        case .delivered(let step, let reply, let available):
            effects = delivered(step, reply: reply, available: available, to: &state, now: now)
        case .refused(let step, let reason):
            state.chronology.append(.init(at: now, what: "\(step.service) refused \(step.method): \(reason)", ruleIDs: []))
            if step.method == intakeSubmitReferral {
                // A referral intake refused is not kept: the case holds the refusal and its
                // reason, never the child's details from it.
                effects = forget(step, in: &state, status: .refused)
            }
        case .givenUp(let step, let failures, let error):
            state.chronology.append(
                .init(
                    at: now,
                    what:
                        "\(step.service) \(shortName(step.method)) given up after \(failures) failed attempts (\(error)); an operator retries or discards it (step \(step.stepID))",
                    ruleIDs: []))
        case .settled(let step, let retried, let by, let reason):
            state.chronology.append(
                .init(
                    at: now,
                    what: "\(step.service) \(shortName(step.method)) \(retried ? "sent again" : "given up for good") by \(by.name): \(reason)",
                    ruleIDs: []))
        case .taskCompleted(let taskID, let by, let note):
            guard let item = state.deadlines.first(where: { $0.taskID == taskID }) else {
                throw PathwayRefusal(kind: .notFound, message: "no task of \(state.caseID) with id \(taskID)")
            }
            // A task may be marked done only by the agency it falls to, or by social care, which leads the case.
            guard item.owner == by.agency.rawValue || by.agency == .socialCare else {
                throw PathwayRefusal(kind: .permissionDenied, message: "\(by.agency.name) may not mark \(taskID) done: it falls to another agency")
            }
            if item.isOpen {
                if let index = state.deadlines.firstIndex(where: { $0.taskID == taskID }) {
                    state.deadlines[index].completedBy = by.name
                    state.deadlines[index].completedAt = now
                }
                state.chronology.append(
                    .init(at: now, what: "Done: \(item.description) (\(by.name))\(note.isEmpty ? "" : ": \(note)")", ruleIDs: [item.ruleID]))
            }
        }
        return (state, effects)
    }

    /// `RecordPoliceDecision` from `hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision`.
    public static func shortName(_ method: String) -> String {
        String(method.split(separator: "/").last ?? Substring(method))
    }

    /// A referral joins the case and is sent to intake for screening (SCR-10); its disclosure is
    /// on the ledger with the consent position (INF-01, INF-02).
    static func receive(
        _ referral: IntakeV1.Referral, from: CaseActor, receivedAt: Int64, into state: inout CaseState, now: Int64
    )
        -> [PathwayEffect]
    {
        let bytes = (try? referral.encoded()) ?? []
        state.referrals.append(Data(bytes))
        state.referralTimes.append(receivedAt)
        state.chronology.append(.init(at: now, what: "Referral received from \(from.agency.name) (\(referral.referrer))", ruleIDs: ["SCR-10"]))
        // INF-01 to INF-03: the consent position (who gave it, by the child's age; or the grounds
        // for sharing without it), and, separately, whether the parents were told (SCR-20).
        let grounds = Sharing.grounds(referral)
        state.consent = Sharing.consent(referral, age: age(of: referral, at: receivedAt))
        state.parentsTold = Sharing.parentsTold[referral.parentsTold] ?? "not recorded"
        state.disclosures.append(
            .init(
                at: now, toService: "intake", what: "the referral", purpose: "screening by the contact service / MASH", lawfulBasis: grounds,
                consent: state.consent, parentsTold: state.parentsTold))
        let request = (try? IntakeV1.SubmitReferralRequest(referral: referral).encoded()) ?? []
        return [.send(OutgoingStep(service: "intake", method: intakeSubmitReferral, payload: request, purpose: "screening, for \(from.name)"))]
    }

    /// Removes a referral the case will not keep (refused by intake, or returned to the referrer),
    /// and, when it was the case's only one, everything personal: the screening, the child's
    /// identity and its index row. The case keeps what happened and why.
    static func forget(_ step: SentStep, in state: inout CaseState, status: CaseStatus) -> [PathwayEffect] {
        if let request = try? IntakeV1.SubmitReferralRequest(decoding: step.request), let referral = request.referral,
            let bytes = try? referral.encoded(), let index = state.referrals.lastIndex(of: Data(bytes))
        {
            state.referrals.remove(at: index)
            if index < state.referralTimes.count { state.referralTimes.remove(at: index) }
        }
        guard state.referrals.isEmpty else { return [.forgetRequest] }
        state.status = status
        state.screening = nil
        guard !state.identity.isEmpty else { return [.forgetRequest] }
        state.identity = ""
        return [.forgetRequest, .forgetIdentity]
    }

    /// The child's age in whole years on the day the referral was received.
    static func age(of referral: IntakeV1.Referral, at receivedAt: Int64) -> Int? {
        guard let birth = referral.child?.dateOfBirth,
            let date = CivilDate(year: Int(birth.year), month: Int(birth.month), day: Int(birth.day))
        else { return nil }
        return date.age(on: LondonTime.date(of: Instant(unixMillis: receivedAt)))
    }

    /// INF-01: every notice a decision sends goes on the ledger, with the lawful basis of the rule
    /// that caused it and the case's consent position (or the grounds for sharing without it).
    static func ledger(_ notices: [Notice], state: inout CaseState, now: Int64) {
        for notice in notices where notice.recipient != "contact-service" || notice.ruleID == "INF-06" {
            let (basis, purpose) = Sharing.byRule[notice.ruleID] ?? (Sharing.childrenAct, "a notice under \(notice.ruleID)")
            state.disclosures.append(
                .init(
                    at: now, toService: notice.recipient, what: notice.reason, purpose: "\(purpose) (\(notice.ruleID))", lawfulBasis: basis,
                    consent: Sharing.consent(forShareFrom: state)))
        }
    }

    /// What a delivered step means for its case, and the steps it sets going (the routes the
    /// orchestrator opens itself).
    static func delivered(_ step: SentStep, reply: [UInt8], available: Set<String>, to state: inout CaseState, now: Int64) -> [PathwayEffect] {
        if let entry = EventMethods.table[step.method] {
            guard let (decision, summary) = entry.read(reply) else { return [] }
            state.chronology.append(.init(at: now, what: "\(step.service): \(summary)", ruleIDs: decision?.citations.map(\.ruleID) ?? []))
            // Work the event answers is done before its own new work joins the case.
            state.complete(EventMethods.completes(method: step.method, reply: reply, request: step.request), by: step.service, at: now)
            merge(decision?.tasks ?? [], into: &state)
            noteMappaRoute(decision?.tasks ?? [], state: &state, now: now)
            // INF-01, INF-07: every notice the event sends (the minutes owed to each agency that
            // attended or reported, youth justice telling the contact service) goes on the ledger.
            ledger(decision?.notices ?? [], state: &state, now: now)
            // YJ-02, YJ-04: a charge or an out-of-court disposal puts the case on the criminal justice
            // route, with its AIM lead and co-worker, in place of the concern route.
            if routeMethods.contains(step.method), let plan = try? YouthjusticeV1.PlanResult(decoding: reply) {
                applyRoutes(plan, to: &state)
            }
            // STR-07: a recorded multi-agency closure closes the case; a new referral opens a new one.
            if decision?.citations.contains(where: { $0.ruleID == "STR-07" }) == true { state.status = .closed }
            return []
        }
        guard step.method == intakeSubmitReferral, let result = try? IntakeV1.ScreeningResult(decoding: reply) else { return [] }
        if result.outcome == CaseStatus.returnedIncomplete.rawValue {
            // SCR-10: a referral returned to the referrer is not kept; the case holds that it was
            // returned and why (the items missing), nothing personal from it.
            state.chronology.append(
                .init(
                    at: now, what: "Returned to the referrer: the referral lacks \(result.missing.joined(separator: "; "))",
                    ruleIDs: result.decision?.citations.map(\.ruleID) ?? ["SCR-10"]))
            return forget(step, in: &state, status: .returnedIncomplete)
        }
        state.screening = Data(reply)
        state.status = CaseStatus(rawValue: result.outcome) ?? .screened
        state.routes = screeningRoutes(result)
        let citations = result.decision?.citations.map(\.ruleID) ?? []
        state.chronology.append(
            .init(
                at: now,
                what:
                    "Screened by intake: \(result.outcome)\(result.threshold.isEmpty ? "" : ", \(result.threshold)")\(result.missing.isEmpty ? "" : "; missing: \(result.missing.joined(separator: "; "))")",
                ruleIDs: citations))
        // GEN-01: the work for each child harmed goes to that child's own case, not this one.
        let harmed = Set(result.harmedChildren.map(\.subjectId))
        let tasks = result.decision?.tasks ?? []
        merge(tasks.filter { !harmed.contains($0.subjectID) }, into: &state)
        noteMappaRoute(tasks, state: &state, now: now)
        ledger(result.decision?.notices ?? [], state: &state, now: now)
        var effects = openRoutes(result, state: &state, available: available, now: now)
        for child in result.harmedChildren where !child.threshold.isEmpty {
            effects.append(
                .openHarmedChildCase(
                    HarmedChildCase(
                        subjectID: child.subjectId, threshold: child.threshold, tasks: tasks.filter { $0.subjectID == child.subjectId },
                        linkedTo: state.caseID)))
            state.chronology.append(
                .init(at: now, what: "\(child.subjectId), the child harmed, has a case of their own: \(child.threshold)", ruleIDs: ["GEN-01"]))
        }
        return effects
    }

    /// The case of a child harmed, opened for them (GEN-01, GEN-02, STR-03): their threshold and
    /// own work, linked to the case of the child displaying HSB.
    public static func openHarmedChild(_ opening: HarmedChildCase, caseID: String, linkedCase: CaseState, now: Int64) -> CaseState {
        var state = CaseState(
            caseID: caseID, childSubjectID: opening.subjectID, status: .screened, referrals: [], referralTimes: [], screening: nil, alerts: [],
            identity: "", chronology: [], disclosures: [], deadlines: [])
        state.role = .personHarmed
        state.threshold = opening.threshold
        join(opening, linkedCase: linkedCase, into: &state, now: now)
        return state
    }

    /// A harmed child's work and link joining their case (a new one, or their open one).
    public static func join(_ opening: HarmedChildCase, linkedCase: CaseState, into state: inout CaseState, now: Int64) {
        if !state.linked.contains(where: { $0.caseID == linkedCase.caseID }) {
            let threshold = (linkedCase.screening.flatMap { try? IntakeV1.ScreeningResult(decoding: [UInt8]($0)) })?.threshold ?? ""
            state.linked.append(
                .init(caseID: linkedCase.caseID, subjectID: linkedCase.childSubjectID, role: linkedCase.role, threshold: threshold))
        }
        state.chronology.append(
            .init(
                at: now,
                what:
                    "Harmed by the child in case \(linkedCase.caseID): \(opening.threshold) for this child in their own right, with their own social worker and plan",
                ruleIDs: ["GEN-01", "GEN-02"]))
        merge(opening.tasks, into: &state)
    }

    /// The youth justice methods whose reply names the routes the case is on.
    static let routeMethods: Set<String> = [
        YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName,
    ]

    /// The routes a screening puts the case on: social care leads the child protection, child in
    /// need and early help routes (SCR-05); the concern route's AIM lead follows the profile (YJ-04).
    static func screeningRoutes(_ result: IntakeV1.ScreeningResult) -> [CaseState.RouteState] {
        (result.decision?.routes ?? []).map { route in
            if route == "concern" {
                return .init(route: route, lead: result.aimLead, coWorker: result.aimCoWorker, ruleIDs: ["YJ-03", "YJ-04"])
            }
            return .init(route: route, lead: route == "early-help" ? "early-help" : "social-care", coWorker: "", ruleIDs: ["SCR-05"])
        }
    }

    /// A police decision's routes: the criminal justice route replaces the concern route (YJ-02),
    /// with youth justice's AIM lead and co-worker (YJ-04); the welfare routes stay.
    static func applyRoutes(_ plan: YouthjusticeV1.PlanResult, to state: inout CaseState) {
        let named = plan.decision?.routes ?? []
        guard !named.isEmpty else { return }
        if named.contains("criminal-justice") { state.routes.removeAll { $0.route == "concern" || $0.route == "criminal-justice" } }
        for route in named where !state.routes.contains(where: { $0.route == route }) {
            state.routes.append(
                .init(
                    route: route, lead: plan.aimLead, coWorker: plan.aimCoWorker,
                    ruleIDs: route == "criminal-justice" ? ["YJ-02", "YJ-04"] : ["YJ-14", "YJ-04"]))
        }
    }

    /// The routes a screening names that the orchestrator opens itself: a CAMHS referral through the
    /// outbox (MH-01, MH-02: CAMHS decides from its own records whether the child is already known),
    /// and notices owed to services outside the suite (GEN-06, SCR-12, SCR-16), kept on the chronology.
    static func openRoutes(_ result: IntakeV1.ScreeningResult, state: inout CaseState, available: Set<String>, now: Int64) -> [PathwayEffect] {
        var effects: [PathwayEffect] = []
        let decision = result.decision
        let wantsCAMHS =
            (decision?.tasks.contains { $0.ruleID == "MH-01" } ?? false) || (decision?.notices.contains { $0.ruleID == "MH-02" } ?? false)
        if wantsCAMHS, let latest = state.referrals.last, let referral = try? IntakeV1.Referral(decoding: [UInt8](latest)) {
            if available.contains("camhs") {
                let request = CamhsV1.ReferRequest(
                    childSubjectId: referral.child?.subjectID ?? "", dateOfBirth: referral.child?.dateOfBirth, mentalHealthConcern: true,
                    concern: "Referred through the HSB procedure: \(result.threshold)")
                if let payload = try? request.encoded() {
                    effects.append(.send(OutgoingStep(service: "camhs", method: camhsRefer, payload: payload, purpose: "CAMHS referral")))
                    state.chronology.append(.init(at: now, what: "CAMHS route opened: referral to CAMHS", ruleIDs: ["MH-01"]))
                    let basis = "Children Act 2004 (safeguarding); medical purpose"
                    state.disclosures.append(
                        .init(
                            at: now, toService: "camhs", what: "the child's identity and the concern", purpose: "CAMHS referral (MH-01)",
                            lawfulBasis: basis, consent: Sharing.consent(forShareFrom: state)))
                }
            } else {
                state.chronology.append(.init(at: now, what: "A CAMHS referral is owed, but no CAMHS endpoint is configured", ruleIDs: ["MH-01"]))
            }
        }
        for notice in decision?.notices ?? [] where ["GEN-06", "SCR-12", "SCR-16"].contains(notice.ruleID) && notice.recipient != "contact-service" {
            state.chronology.append(.init(at: now, what: "Notice owed to \(notice.recipient): \(notice.reason)", ruleIDs: [notice.ruleID]))
        }
        return effects
    }

    /// MP-04, MP-02: a task to consider MAPPA opens the MAPPA screening route. The orchestrator does not
    /// send the child's details to MAPPA itself: for an under-18, youth justice screens internally and the
    /// High Risk and Vulnerability Panel discusses first (MP-02), and MAPPA shares only as its forum decides
    /// (MP-05). The screening reaches MAPPA when it is recorded through the orchestrator (`Mappa/Screen`).
    static func noteMappaRoute(_ tasks: [CaseTask], state: inout CaseState, now: Int64) {
        for task in tasks where task.ruleID == "MP-04" {
            let what =
                "MAPPA screening route opened (\(task.description)): \(task.owner.name) screens first; MAPPA receives the screening when it is recorded"
            guard !state.chronology.contains(where: { $0.what == what }) else { continue }
            state.chronology.append(.init(at: now, what: what, ruleIDs: ["MP-04", "MP-02"]))
        }
    }

    /// New tasks join the case's work, with their deadlines where they have one; none is dropped or
    /// doubled (a task without a time limit is not added again while the same task is still open).
    static func merge(_ tasks: [CaseTask], into state: inout CaseState) {
        for task in tasks {
            let due = task.deadline?.dueUnixMillis ?? 0
            guard !state.deadlines.contains(where: { $0.taskID == task.taskID && $0.due == due && (due > 0 || $0.isOpen) }) else { continue }
            state.deadlines.append(
                .init(
                    taskID: task.taskID, description: task.description, owner: task.owner.rawValue, assignee: task.assignee, due: due,
                    ruleID: task.ruleID))
        }
    }
}
