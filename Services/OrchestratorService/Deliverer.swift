import Foundation
public import HSBRuntime
public import HSBServiceKit
import HSBStorage
import HSBWire
import Logging
public import ServiceLifecycle
import Synchronization

/// Delivers the outbox: each pending step is sent with its step id as the idempotency key, so a
/// step delivered twice is applied once; a service that is down delays the step, never drops it.
public final class Deliverer: Service, Sendable {
    let resources: ServiceResources
    let clients: [String: RPCClient]
    /// Pause after attempt n: base * 2^(n-1), at most `maxBackoffMillis`.
    let baseBackoffMillis: Int64
    let maxBackoffMillis: Int64
    let pollInterval: Duration

    /// Overdue deadlines and undelivered steps, counted every few passes for the metrics.
    let overdue = Atomic<Int>(0)
    let pending = Atomic<Int>(0)

    public init(
        resources: ServiceResources, clients: [String: RPCClient], baseBackoffMillis: Int64 = 500, maxBackoffMillis: Int64 = 60_000,
        pollInterval: Duration = .milliseconds(250)
    ) {
        self.resources = resources
        self.clients = clients
        self.baseBackoffMillis = baseBackoffMillis
        self.maxBackoffMillis = maxBackoffMillis
        self.pollInterval = pollInterval
        resources.metrics.addGauges { [weak self] in
            guard let self else { return [] }
            return [
                (
                    name: "deadlines_overdue", help: "Deadlines past due across all cases, as of the last count.",
                    value: Double(self.overdue.load(ordering: .relaxed))
                ),
                (
                    name: "outbox_pending", help: "Steps written but not yet delivered to their agency.",
                    value: Double(self.pending.load(ordering: .relaxed))
                ),
            ]
        }
    }

    /// Counts overdue deadlines and undelivered steps (for `/metrics`).
    public func count() async {
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        guard
            let (late, waiting) = try? await resources.blocking({
                try store.read(now: now) { tx throws(RecordStoreError) in
                    let late = try tx.all(kind: Deliverer.caseKind).compactMap { JSON.decode(CaseState.self, $0.body) }.reduce(0) { sum, state in
                        sum + state.deadlines.filter { $0.isOpen && $0.due < now }.count
                    }
                    let waiting = try tx.all(kind: Deliverer.outboxKind).compactMap { JSON.decode(StepState.self, $0.body) }.filter {
                        $0.status == "pending"
                    }.count
                    return (late, waiting)
                }
            })
        else { return }
        overdue.store(late, ordering: .relaxed)
        pending.store(waiting, ordering: .relaxed)
    }

    static let outboxKind = "outbox"
    static let caseKind = "case"

    /// Delivers every step due now; returns how many landed.
    @discardableResult
    public func deliverDue() async -> Int {
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let due: [String]
        do {
            due = try await resources.blocking {
                try store.read(now: now) { tx throws(RecordStoreError) in
                    try tx.all(kind: Self.outboxKind).compactMap { record in
                        guard let step = JSON.decode(StepState.self, record.body), step.status == "pending", step.nextAttempt <= now else {
                            return nil
                        }
                        return step.stepID
                    }
                }
            }
        } catch {
            resources.logger.warning("outbox could not be read", metadata: ["error": "\(error)"])
            return 0
        }
        var delivered = 0
        for id in due where await deliver(stepID: id) { delivered += 1 }
        return delivered
    }

    /// Attempts one step; true when it landed.
    @discardableResult
    public func deliver(stepID: String) async -> Bool {
        let store = resources.store
        let now = resources.clock.nowUnixMillis()
        guard let (step, _) = try? await resources.blocking({ try Self.loadStep(store, stepID, now: now) }), step.status == "pending" else {
            return false
        }
        guard let client = clients[step.service] else {
            // A missing endpoint is a configuration gap: the step waits (and is retried) rather than being dropped.
            await record(step, outcome: .failure(RPCError(.unavailable, "no endpoint configured for \(step.service)")))
            return false
        }
        do throws(RPCError) {
            let reply = try await client.call(
                step.method, payload: [UInt8](step.payload), timeout: .seconds(10), idempotencyKey: step.stepID, purpose: "screening")
            return await record(step, outcome: .success(reply))
        } catch {
            return await record(step, outcome: .failure(error))
        }
    }

    static func loadStep(_ store: RecordStore, _ id: String, now: Int64) throws -> (StepState, Int64)? {
        try store.read(now: now) { tx throws(RecordStoreError) in
            guard let record = try tx.get(kind: outboxKind, id: id), let step = JSON.decode(StepState.self, record.body) else { return nil }
            return (step, record.version)
        }
    }

    static func retryable(_ code: StatusCode) -> Bool {
        [.unavailable, .deadlineExceeded, .resourceExhausted, .aborted, .internal].contains(code)
    }

    /// Applies an attempt's outcome to the step and its case, in one transaction.
    @discardableResult
    func record(_ attempted: StepState, outcome: Result<[UInt8], RPCError>) async -> Bool {
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let base = baseBackoffMillis
        let maxBackoff = maxBackoffMillis
        let available = Set(clients.keys)
        do {
            return try await resources.blocking {
                try store.perform(idempotencyKey: "", caller: "orchestrator", method: "deliver", now: now) { tx throws(RecordStoreError) -> [UInt8] in
                    guard let stepRecord = try tx.get(kind: Deliverer.outboxKind, id: attempted.stepID),
                        var step = JSON.decode(StepState.self, stepRecord.body), step.status == "pending",
                        let caseRecord = try tx.get(kind: Deliverer.caseKind, id: step.caseID),
                        var state = JSON.decode(CaseState.self, caseRecord.body)
                    else { return [0] }
                    step.attempts += 1
                    var landed: UInt8 = 0
                    var followUps: [StepState] = []
                    switch outcome {
                    case .success(let reply):
                        step.status = "delivered"
                        step.lastError = ""
                        landed = 1
                        followUps = Deliverer.apply(reply: reply, of: step, to: &state, now: now, available: available)
                    case .failure(let error) where Deliverer.retryable(error.code):
                        let pause = min(maxBackoff, base << Int64(min(Int(step.attempts) - 1, 20)))
                        step.nextAttempt = now + pause
                        step.lastError = "\(error)"
                    case .failure(let error):
                        step.status = "refused"
                        step.lastError = "\(error)"
                        // A refused screening leaves the case refused; a refused event is recorded and the case goes on.
                        if step.method == OrchestratorService.intakeSubmitReferral { state.status = "refused" }
                        state.chronology.append(.init(at: now, what: "\(step.service) refused \(step.method): \(error.message)", ruleIDs: []))
                    }
                    _ = try tx.update(kind: Deliverer.outboxKind, id: step.stepID, expectedVersion: stepRecord.version, body: JSON.encode(step))
                    _ = try tx.update(kind: Deliverer.caseKind, id: state.caseID, expectedVersion: caseRecord.version, body: JSON.encode(state))
                    for followUp in followUps {
                        _ = try tx.insert(kind: Deliverer.outboxKind, id: followUp.stepID, subjectID: followUp.caseID, body: JSON.encode(followUp))
                    }
                    return [landed]
                }.reply == [1]
            }
        } catch {
            resources.logger.warning(
                "a delivery could not be recorded; it will be tried again", metadata: ["step": "\(attempted.stepID)", "error": "\(error)"])
            return false
        }
    }

    /// What a delivered step means for its case.
    /// Returns the steps it sets going (routes the orchestrator opens itself).
    static func apply(reply: [UInt8], of step: StepState, to state: inout CaseState, now: Int64, available: Set<String>) -> [StepState] {
        if let entry = EventMethods.table[step.method] {
            guard let (decision, summary) = entry.read(reply) else { return [] }
            state.chronology.append(.init(at: now, what: "\(step.service): \(summary)", ruleIDs: decision?.citations.map(\.ruleID) ?? []))
            // Work the event answers is done before its own new work joins the case.
            state.complete(prefixes: EventMethods.completes(method: step.method, reply: reply), by: step.service, at: now)
            merge(decision?.tasks ?? [], into: &state)
            // STR-07: a recorded multi-agency closure closes the case; a new referral opens a new one.
            if decision?.citations.contains(where: { $0.ruleID == "STR-07" }) == true { state.status = "closed" }
            return []
        }
        guard step.method == OrchestratorService.intakeSubmitReferral, let result = try? IntakeV1.ScreeningResult(decoding: reply) else { return [] }
        state.screening = Data(reply)
        state.status = result.outcome
        let citations = result.decision?.citations.map(\.ruleID) ?? []
        state.chronology.append(
            .init(
                at: now,
                what:
                    "Screened by intake: \(result.outcome)\(result.threshold.isEmpty ? "" : ", \(result.threshold)")\(result.missing.isEmpty ? "" : "; missing: \(result.missing.joined(separator: "; "))")",
                ruleIDs: citations))
        merge(result.decision?.tasks ?? [], into: &state)
        return openRoutes(result, state: &state, caseID: step.caseID, now: now, available: available)
    }

    /// The routes a screening names that the orchestrator opens itself: a CAMHS referral through the
    /// outbox (MH-01, MH-02: CAMHS decides from its own records whether the child is already known),
    /// and notices owed to services outside the suite (GEN-06, SCR-12, SCR-16), kept on the chronology.
    static func openRoutes(
        _ result: IntakeV1.ScreeningResult, state: inout CaseState, caseID: String, now: Int64, available: Set<String>
    ) -> [StepState] {
        var followUps: [StepState] = []
        let decision = result.decision
        let wantsCAMHS =
            (decision?.tasks.contains { $0.ruleID == "MH-01" } ?? false) || (decision?.notices.contains { $0.ruleID == "MH-02" } ?? false)
        if wantsCAMHS, let latest = state.referrals.last, let referral = try? IntakeV1.Referral(decoding: [UInt8](latest)) {
            if available.contains("camhs") {
                let request = CamhsV1.ReferRequest(
                    childSubjectId: referral.child?.subjectID ?? "", dateOfBirth: referral.child?.dateOfBirth, mentalHealthConcern: true,
                    concern: "Referred through the HSB procedure: \(result.threshold)")
                if let payload = try? request.encoded() {
                    followUps.append(
                        StepState(
                            stepID: "step-\(UUID().uuidString.lowercased())", caseID: caseID, service: "camhs", method: "hsb.camhs.v1.Camhs/Refer",
                            payload: Data(payload), status: "pending", attempts: 0, lastError: "", nextAttempt: now))
                    state.chronology.append(.init(at: now, what: "CAMHS route opened: referral to CAMHS", ruleIDs: ["MH-01"]))
                    state.disclosures.append(
                        .init(
                            at: now, toService: "camhs", what: "the child's identity and the concern", purpose: "CAMHS referral",
                            lawfulBasis: "Children Act 2004 (safeguarding); medical purposes", consent: "not sought: shared for the child's care"))
                }
            } else {
                state.chronology.append(.init(at: now, what: "A CAMHS referral is owed, but no CAMHS endpoint is configured", ruleIDs: ["MH-01"]))
            }
        }
        for notice in decision?.notices ?? [] where ["GEN-06", "SCR-12", "SCR-16"].contains(notice.ruleID) && notice.recipient != "contact-service" {
            state.chronology.append(.init(at: now, what: "Notice owed to \(notice.recipient): \(notice.reason)", ruleIDs: [notice.ruleID]))
        }
        return followUps
    }

    /// New tasks' deadlines join the case's; none is dropped or doubled.
    static func merge(_ tasks: [CaseTask], into state: inout CaseState) {
        for task in tasks {
            guard let deadline = task.deadline, !state.deadlines.contains(where: { $0.taskID == task.taskID && $0.due == deadline.dueUnixMillis })
            else { continue }
            state.deadlines.append(
                .init(
                    taskID: task.taskID, description: task.description, owner: task.owner.rawValue, assignee: task.assignee,
                    due: deadline.dueUnixMillis,
                    ruleID: task.ruleID))
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var passes = 0
            while !Task.isCancelled {
                await self.deliverDue()
                if passes % 20 == 0 { await self.count() }
                passes += 1
                try? await Task.sleep(for: self.pollInterval)
            }
        }
    }
}
