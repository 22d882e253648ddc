import HSBPathway
import HSBRuntime
import HSBServiceKit
import HSBStorage
import HSBWire

/// The outbox for its operators: what is still owed, what was given up, and an operator's retry
/// or discard of a dead step, each with a reason that goes on the case and the access log.
enum OutboxOperations {
    /// The partnership's operators, and social care, which leads every case.
    static let operators: Set<Agency> = [.ops, .socialCare]

    static func entry(_ step: StepState) -> OrchestratorV1.OutboxEntry {
        OrchestratorV1.OutboxEntry(
            stepId: step.stepID, caseId: step.caseID, service: step.service, method: step.method, status: step.status, attempts: step.attempts,
            failuresAfterSend: step.failuresAfterSend ?? 0, lastError: step.lastError, nextAttemptUnixMs: step.nextAttempt,
            actingFor: step.acting.map { $0.user.isEmpty ? $0.agency.name : "\($0.agency.name) (\($0.user))" } ?? "", state: step.state)
    }

    static func list(
        _ request: OrchestratorV1.ListOutboxRequest, context: CallerContext, resources: ServiceResources
    ) async throws -> OrchestratorV1.OutboxList {
        guard !context.purpose.isEmpty else {
            throw RPCError(.invalidArgument, "purpose is required to read the outbox: say why you need it (INF-05)")
        }
        let caller = context.caller
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let steps = try await resources.blocking {
            try store.read(now: now) { tx throws(RecordStoreError) -> [StepState] in
                var steps: [StepState] = []
                for status in ["dead"] + (request.deadOnly ? [] : ["pending"]) {
                    steps += try CaseTables.steps(status: status, limit: 1000, tx)
                }
                try tx.logAccess(
                    agency: caller.agency.name, user: caller.user, action: .read, kind: Deliverer.outboxKind,
                    recordID: request.deadOnly ? "dead" : "owed", purpose: context.purpose, requestID: String(context.requestID))
                return steps
            }
        }
        return OrchestratorV1.OutboxList(entries: steps.map(entry))
    }

    /// Sends a dead step again from scratch (its failures forgotten) or gives it up for good;
    /// only a dead step can be settled so, and the reason is written on its case.
    static func settle(
        _ request: OrchestratorV1.SettleStepRequest, retry: Bool, context: CallerContext, resources: ServiceResources
    ) async throws -> OrchestratorV1.OutboxEntry {
        let caller = context.caller
        let now = resources.clock.nowUnixMillis()
        let by = OrchestratorService.actor(caller)
        return try await resources.idempotentWrite(context, now: now) { tx throws(RecordStoreError) in
            guard let row = try CaseTables.getStep(request.stepId, tx) else {
                throw .notFound(kind: Deliverer.outboxKind, id: request.stepId)
            }
            var step = row.step
            guard step.status == "dead" else {
                throw .refused(
                    .failedPrecondition, "step \(step.stepID) is \(step.status); only a step in the dead letters can be retried or discarded")
            }
            if retry {
                step.status = "pending"
                step.failuresAfterSend = nil
                step.nextAttempt = now
            } else {
                step.status = "discarded"
            }
            step.lastError = "\(retry ? "retried" : "discarded") by \(by): \(request.reason)"
            try CaseTables.updateStep(step, version: row.version, tx)
            if let caseRow = try CaseTables.getCase(step.caseID, tx) {
                let found = caseRow.state
                let sent = SentStep(stepID: step.stepID, service: step.service, method: step.method, request: [UInt8](step.payload))
                let (state, _) = try Deliverer.applying(
                    .settled(sent, retried: retry, by: CaseActor(agency: caller.agency, user: caller.user), reason: request.reason), to: found,
                    now: now)
                try CaseTables.saveCase(state, over: caseRow, tx)
            }
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Deliverer.outboxKind, recordID: step.stepID,
                purpose: "\(retry ? "retry" : "discard"): \(request.reason)", requestID: String(context.requestID))
            return entry(step)
        }
    }
}
