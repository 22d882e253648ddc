import Foundation
public import HSBContract
import HSBPathway
public import HSBRuntime
import HSBSafeguarding
public import HSBServiceKit
import HSBStorage
public import HSBWire

/// The orchestrator's methods: take a referral, have intake screen it through the outbox, and
/// show each case with its deadlines, chronology and disclosures.
public struct OrchestratorService: OrchestratorV1.Orchestrator.ServiceProtocol {
    let resources: ServiceResources
    let deliverer: Deliverer

    public init(resources: ServiceResources, deliverer: Deliverer) {
        self.resources = resources
        self.deliverer = deliverer
    }

    public static func handlers(_ resources: ServiceResources, deliverer: Deliverer) -> [MethodHandler] {
        let outbox = AccessPolicy.agencies(OutboxOperations.operators)
        let policies = MethodPolicies(
            callers: ServiceDescriptor.orchestrator.callers,
            overrides: [
                OrchestratorV1.Orchestrator.Method.listOutbox.fullName: outbox, OrchestratorV1.Orchestrator.Method.retryStep.fullName: outbox,
                OrchestratorV1.Orchestrator.Method.discardStep.fullName: outbox,
            ])
        return OrchestratorService(resources: resources, deliverer: deliverer).methodHandlers(policy: policies.policy(for:))
    }

    public func submitReferral(_ request: OrchestratorV1.SubmitReferralRequest, context: CallerContext) async throws -> OrchestratorV1.CaseView {
        let caller = context.caller
        let actor = CaseActor(agency: caller.agency, user: caller.user)
        let now = resources.clock.nowUnixMillis()
        let referral = request.referral!
        // When social care received it (as recorded), which the repeat-concern window counts from.
        let receivedAt = try ReferralReceipt.receivedAt(referral.receivedUnixMs, now: now)
        let newCaseID = ServiceResources.newID("case")
        let childID = referral.child?.subjectID ?? ""
        let identity = CaseState.identity(of: referral.child)
        // The case and its step are durable before anything is sent (the outbox). The
        // pathway decides whether the referral joins the child's open case or opens one.
        // The steps are claimed by this replica, which sends them at once.
        let claim = (replica: deliverer.replica, until: now + deliverer.leaseMillis)
        let accepted = try await resources.idempotentWriteOutcome(context, now: now) { tx throws(RecordStoreError) in
            let existing = try CaseTables.cases(ofChild: childID, tx).last { $0.state.isOpen }
            let caseID: String
            let steps: [StepState]
            if let existing {
                caseID = existing.state.caseID
                var (state, effects) = try Deliverer.applying(
                    .referralReceived(referral: referral, from: actor, receivedAt: receivedAt, duplicates: []), to: existing.state, now: now)
                steps = try Deliverer.execute(effects, state: &state, now: now, claim: claim, tx)
                try CaseTables.saveCase(state, over: existing, tx)
            } else {
                caseID = newCaseID
                let duplicates = identity.isEmpty ? [] : try CaseTables.identityMatches(identity, tx)
                var (state, effects) = CasePathway.open(
                    caseID: caseID, referral: referral, from: actor, receivedAt: receivedAt, duplicates: duplicates, now: now)
                steps = try Deliverer.execute(effects, state: &state, now: now, claim: claim, tx)
                try CaseTables.saveCase(state, over: nil, tx)
            }
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Deliverer.caseKind, recordID: caseID,
                purpose: context.purpose.isEmpty ? "referral" : context.purpose, requestID: String(context.requestID))
            return OrchestratorV1.WriteReceipt(caseId: caseID, stepIds: steps.map(\.stepID))
        }
        if !accepted.replayed {
            // The steps just written, sent at once; the outbox retries any that fail. The reply
            // waits for them a short while, then shows any still owed as waiting.
            await deliverer.deliverPromptly(accepted.output.stepIds)
        }
        return try await Self.view(caseID: accepted.output.caseId, resources: resources, context: context.request, logRead: false)
    }

    public func recordEvent(_ request: OrchestratorV1.RecordEventRequest, context: CallerContext) async throws -> OrchestratorV1.CaseView {
        guard let entry = EventMethods.table[request.method] else {
            throw RPCError(
                .invalidArgument,
                "method \(request.method) cannot be recorded through the orchestrator; accepted: \(EventMethods.table.keys.sorted().joined(separator: ", "))"
            )
        }
        let caller = context.caller
        // The act is authorised here for the agency that does it, with the owning service's
        // own table; the step then carries that agency, and the owner checks it again.
        guard RelayedActs.permits(caller.agency, request.method) else {
            let allowed = (RelayedActs.actors[request.method] ?? []).map(\.name).sorted().joined(separator: ", ")
            throw RPCError(
                .permissionDenied,
                "\(caller.agency.name) may not record \(Self.shortName(request.method)): only \(allowed) may, directly or through the orchestrator"
            )
        }
        // The payload must be the owning method's request: what would be refused there is
        // refused here, before a step is written (and never becomes a step that cannot land).
        do throws(WireError) {
            _ = try entry.request.init(decoding: request.payload, limits: .default)
        } catch {
            throw RPCError(.invalidArgument, "payload of \(Self.shortName(request.method)): \(error)")
        }
        // On mutual TLS the act must carry the agency's own signature over it, which goes with the
        // step to the owning service (it checks it again): the orchestrator can relay an act, never make one.
        var signed = CaseActor(agency: caller.agency, user: caller.user)
        if let tls = resources.tls {
            try await ActSignature.verify(
                request.actorProof, actor: signed, caseID: request.caseId, method: request.method, payload: request.payload,
                trusted: tls.trustedCAs, now: Date(timeIntervalSince1970: Double(resources.clock.nowUnixMillis()) / 1000))
            signed.proof = request.actorProof
        }
        let actor = signed
        let now = resources.clock.nowUnixMillis()
        let purpose = context.purpose.isEmpty ? "case event" : context.purpose
        let claim = (replica: deliverer.replica, until: now + deliverer.leaseMillis)
        let accepted = try await resources.idempotentWriteOutcome(context, now: now) { tx throws(RecordStoreError) in
            guard let found = try CaseTables.getCase(request.caseId, tx) else {
                throw .notFound(kind: Deliverer.caseKind, id: request.caseId)
            }
            var (state, effects) = try Deliverer.applying(
                .eventRecorded(method: request.method, payload: request.payload, by: actor, purpose: purpose), to: found.state, now: now)
            let steps = try Deliverer.execute(effects, state: &state, now: now, claim: claim, tx)
            try CaseTables.saveCase(state, over: found, tx)
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Deliverer.caseKind, recordID: state.caseID,
                purpose: purpose,
                requestID: String(context.requestID))
            return OrchestratorV1.WriteReceipt(caseId: state.caseID, stepIds: steps.map(\.stepID))
        }
        // A retried call answers with the step its first attempt wrote.
        let written = accepted.output.stepIds.first ?? ""
        if !accepted.replayed { await deliverer.deliverPromptly([written]) }
        var recorded = try await Self.view(caseID: request.caseId, resources: resources, context: context.request, logRead: false)
        recorded.stepId = written
        return recorded
    }

    public func completeTask(_ request: OrchestratorV1.CompleteTaskRequest, context: CallerContext) async throws -> OrchestratorV1.CaseView {
        let caller = context.caller
        let now = resources.clock.nowUnixMillis()
        let actor = CaseActor(agency: caller.agency, user: caller.user)
        _ = try await resources.idempotentWrite(context, now: now) { tx throws(RecordStoreError) in
            guard let row = try CaseTables.getCase(request.caseId, tx) else {
                throw .notFound(kind: Deliverer.caseKind, id: request.caseId)
            }
            let found = row.state
            guard found.deadlines.contains(where: { $0.taskID == request.taskId }) else {
                throw .notFound(kind: "task of \(request.caseId)", id: request.taskId)
            }
            let (state, _) = try Deliverer.applying(
                .taskCompleted(taskID: request.taskId, by: actor, note: request.note), to: found, now: now)
            if state != found {
                try CaseTables.saveCase(state, over: row, tx)
                try tx.logAccess(
                    agency: caller.agency.name, user: caller.user, action: .write, kind: Deliverer.caseKind, recordID: state.caseID,
                    purpose: context.purpose.isEmpty ? "task done" : context.purpose, requestID: String(context.requestID))
            }
            return OrchestratorV1.WriteReceipt(caseId: state.caseID)
        }
        return try await Self.view(caseID: request.caseId, resources: resources, context: context.request, logRead: false)
    }

    public func listDisclosures(
        _ request: OrchestratorV1.ListDisclosuresRequest, context: CallerContext
    ) async throws -> OrchestratorV1.DisclosureList {
        let caller = context.caller
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to read records: say why you need them (INF-05)")
        }
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let (purpose, requestID, child) = (context.purpose, String(context.requestID), request.childSubjectId)
        let cases = try await resources.blocking {
            try store.read(now: now) { tx throws(RecordStoreError) in
                let rows = try CaseTables.cases(ofChild: child, tx)
                for row in rows {
                    try tx.logAccess(
                        agency: caller.agency.name, user: caller.user, action: .read, kind: Deliverer.caseKind, recordID: row.state.caseID,
                        purpose: purpose, requestID: requestID)
                }
                return rows.map(\.state)
            }
        }
        // Need to know (INF-04): the agencies that see whole cases see every disclosure; any
        // other agency sees what was shared with it.
        let mine = Set([caller.agency.name, Self.serviceName(of: caller.agency)])
        return OrchestratorV1.DisclosureList(
            items: cases.flatMap { state in
                state.disclosures.filter { Self.wholeCaseReaders.contains(caller.agency) || mine.contains($0.toService) }.map { entry in
                    OrchestratorV1.DisclosureEntryWithCase(
                        caseId: state.caseID,
                        disclosure: OrchestratorV1.Disclosure(
                            atUnixMs: entry.at, toService: entry.toService, what: entry.what, purpose: entry.purpose,
                            lawfulBasis: entry.lawfulBasis,
                            consent: entry.consent, parentsTold: entry.parentsTold ?? ""))
                }
            })
    }

    public func getCase(_ request: OrchestratorV1.GetCaseRequest, context: CallerContext) async throws -> OrchestratorV1.CaseView {
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to read a case: say why you need it (INF-05)")
        }
        return try await Self.view(caseID: request.caseId, resources: resources, context: context.request, logRead: true)
    }

    public func listDeadlines(_ request: OrchestratorV1.ListDeadlinesRequest, context: CallerContext) async throws -> OrchestratorV1.DeadlineList {
        try await Self.listDeadlines(request, context: context.request, resources: resources)
    }

    public func listOutbox(_ request: OrchestratorV1.ListOutboxRequest, context: CallerContext) async throws -> OrchestratorV1.OutboxList {
        try await OutboxOperations.list(request, context: context, resources: resources)
    }

    public func retryStep(_ request: OrchestratorV1.SettleStepRequest, context: CallerContext) async throws -> OrchestratorV1.OutboxEntry {
        try await OutboxOperations.settle(request, retry: true, context: context, resources: resources)
    }

    public func discardStep(_ request: OrchestratorV1.SettleStepRequest, context: CallerContext) async throws -> OrchestratorV1.OutboxEntry {
        try await OutboxOperations.settle(request, retry: false, context: context, resources: resources)
    }

    /// The entries one page of ListDeadlines holds when the caller names no size.
    static let defaultPageSize = 200

    /// The deadlines `context`'s agency may see, due by the horizon, soonest first, one page at a
    /// time; each case listed is an access-log line (INF-05).
    static func listDeadlines(
        _ request: OrchestratorV1.ListDeadlinesRequest, context: RequestContext, resources: ServiceResources
    ) async throws -> OrchestratorV1.DeadlineList {
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to list deadlines: say why you need them (INF-05)")
        }
        let caller = try context.requireCaller()
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let horizon = now + Int64(request.withinDays) * 86_400_000
        let pageSize = request.pageSize == 0 ? defaultPageSize : Int(request.pageSize)
        let seesAll = wholeCaseReaders.contains(caller.agency)
        var after: (due: Int64, caseID: String, position: Int64)?
        if !request.pageToken.isEmpty {
            guard let token = CaseTables.OpenDeadline.parse(token: request.pageToken) else {
                throw RPCError(.invalidArgument, "page_token is not one this service gave: send the next_page_token of the page before, unchanged")
            }
            after = token
        }
        let start = after
        // The open deadlines due by the horizon, in due order, after the previous page's last row:
        // one page and one row more (to know whether another page follows), by index.
        let (page, more) = try await resources.blocking {
            try store.read(now: now) { tx throws(RecordStoreError) -> ([CaseTables.OpenDeadline], Bool) in
                let rows = try CaseTables.openDeadlines(
                    dueBefore: horizon + 1, owner: seesAll ? nil : caller.agency, after: start, limit: pageSize + 1, tx)
                let page = Array(rows.prefix(pageSize))
                var logged = Set<String>()
                for row in page where logged.insert(row.caseID).inserted {
                    try tx.logAccess(
                        agency: caller.agency.name, user: caller.user, action: .read, kind: "deadlines", recordID: row.caseID,
                        purpose: context.purpose, requestID: String(context.requestID))
                }
                return (page, rows.count > page.count)
            }
        }
        let entries = page.map { $0.task.entry(caseID: $0.caseID, now: now) }
        return OrchestratorV1.DeadlineList(
            overdue: entries.filter { $0.status == "overdue" }, dueSoon: entries.filter { $0.status == "open" },
            nextPageToken: more ? (page.last?.pageToken ?? "") : "")
    }

    /// The suite service an agency runs, as disclosures name it (social care runs intake).
    static func serviceName(of agency: Agency) -> String {
        ServiceDescriptor.all.first { $0.agency == agency }?.name ?? agency.name
    }

    /// Who the orchestrator acts for: `police (J Smith)`, or the agency alone.
    static func actor(_ caller: AuthenticatedCaller) -> String { RelayedActor(agency: caller.agency, user: caller.user).name }

    static func shortName(_ method: String) -> String { CasePathway.shortName(method) }

    static func view(caseID: String, resources: ServiceResources, context: RequestContext, logRead: Bool) async throws -> OrchestratorV1.CaseView {
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let caller = try context.requireCaller()
        let found: (CaseTables.Row, [StepState])? = try await resources.blocking {
            // A read a person asked for is logged (a write); the view a write returns is a snapshot.
            let body = { (tx: RecordTransaction) throws(RecordStoreError) -> (CaseTables.Row, [StepState])? in
                guard let row = try CaseTables.getCase(caseID, tx) else { return nil }
                if logRead {
                    try tx.logAccess(
                        agency: caller.agency.name, user: caller.user, action: .read, kind: Deliverer.caseKind, recordID: caseID,
                        purpose: context.purpose,
                        requestID: String(context.requestID))
                }
                return (row, try CaseTables.steps(ofCase: caseID, tx))
            }
            return logRead ? try store.read(now: now, body) : try store.snapshot(now: now, body)
        }
        guard let (row, steps) = found else {
            throw RPCError(.notFound, "no case with id \(caseID)")
        }
        return needToKnow(row.state.view(steps: steps, version: row.version, now: now), for: caller.agency)
    }

    /// Agencies that see a whole case: social care leads it; police and youth justice investigate and
    /// assess it (INF-04). Every other caller sees its status, its own work and its own deadlines.
    static let wholeCaseReaders: Set<Agency> = [.socialCare, .police, .youthJustice, .orchestrator]

    static func needToKnow(_ view: OrchestratorV1.CaseView, for agency: Agency) -> OrchestratorV1.CaseView {
        guard !wholeCaseReaders.contains(agency) else { return view }
        var out = view
        if var screening = out.screening {
            if var decision = screening.decision {
                decision.rationale = ""
                decision.tasks = decision.tasks.filter { $0.owner == agency }
                decision.notices = decision.notices.filter { $0.agency == agency }
                screening.decision = decision
            }
            screening.notices = screening.notices.filter { notice in Recipient(rawValue: notice.recipient).map(DecisionWire.agency(for:)) == agency }
            screening.forPractitionerJudgement = []
            out.screening = screening
        }
        out.deadlines = view.deadlines.filter { $0.owner == agency }
        out.chronology = []
        out.disclosures = []
        out.alerts = []
        // GEN-01: the other child's case stays with the agencies that see whole cases; so do the
        // routes (a school is not told a child is on the criminal justice route).
        out.linked = []
        out.routes = []
        // Steps go to other agencies (a school is not shown what was sent to youth justice).
        out.steps = view.steps.filter { $0.service == serviceName(of: agency) }
        out.withheld = [
            "the screening's rationale", "other agencies' work and deadlines", "the chronology", "the disclosure ledger", "alerts",
            "the linked case of the other child", "the routes and who leads them", "the steps sent to other agencies",
        ]
        return out
    }
}
