import Foundation
import HSBPathway
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
    /// The pause after each failed attempt (the client's own backoff type).
    let backoff: Backoff
    let pollInterval: Duration
    /// How long a call waits for the steps it wrote before answering with them owed (`promptDeliveryWait`).
    let promptWait: Duration
    /// Attempts that may reach the service and fail without an answer (the connection dropped,
    /// the deadline passed, an internal error) before the step is moved to the dead letters. A
    /// service that cannot be reached at all does not count: its steps wait, however long.
    let maxFailuresAfterSend: Int32
    /// How long the agencies keep an idempotency key (`--idempotency-window`). A step that may have
    /// landed (an attempt reached the service and no answer came) is not sent again once it is
    /// older than this: the agency may have forgotten the key and would apply it twice. It goes to
    /// the dead letters for an operator to check with the agency instead.
    let idempotencyWindow: Int64
    /// This process among the orchestrator's replicas (host, process and a random part): what its
    /// claims on steps and leases are held under.
    public let replica: String
    /// How long a claim on a step (or the gauges' lease) holds before another replica may take it
    /// over: longer than one attempt (10 s), short enough that a dead replica's steps soon move on.
    let leaseMillis: Int64
    /// Whether this replica counted the partnership's overdue deadlines and steps last time: only
    /// the holder of the `gauges` lease counts them and shows them, so a sum over replicas is right.
    let countsGauges = Atomic<Bool>(false)

    /// Overdue deadlines by kind, and undelivered steps, counted every few passes for the metrics.
    let overdue = Mutex<[OverdueKind: Int]>([:])
    let pending = Atomic<Int>(0)
    /// How long the oldest undelivered step has waited, as of the last count (0 when none waits).
    let oldestPendingMillis = Atomic<Int64>(0)
    let dead = Atomic<Int>(0)

    /// What ops group overdue work by: the rule behind the task, the task, and the agency it falls to.
    struct OverdueKind: Hashable {
        var ruleID: String
        var task: String
        var owner: String
    }

    /// Failures after sending (the step reached its service, no answer came) before a step is dead.
    public static let defaultDeadAfter: Int32 = 5

    /// `--outbox-lease` (`HSB_OUTBOX_LEASE`): seconds from 11 (longer than one attempt) to 3,600.
    public static func lease(parsing text: String) throws(ConfigurationError) -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (11...3600).contains(value) else {
            throw ConfigurationError(
                "--outbox-lease (HSB_OUTBOX_LEASE) must be a whole number of seconds from 11 (longer than one attempt, 10 s) to 3600, not \(ProtoJSON.quotedExcerpt(text))"
            )
        }
        return value
    }

    /// `--step-wait` (`HSB_STEP_WAIT`): whole seconds from 0 (answer at once) to 60.
    public static func stepWait(parsing text: String) throws(ConfigurationError) -> Duration {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (0...60).contains(value) else {
            throw ConfigurationError(
                "--step-wait (HSB_STEP_WAIT) must be a whole number of seconds from 0 to 60, not \(ProtoJSON.quotedExcerpt(text))")
        }
        return .seconds(value)
    }

    /// `--dead-after` (`HSB_DEAD_AFTER`): a whole number from 1 to 1,000; anything else is named.
    public static func deadAfter(parsing text: String) throws(ConfigurationError) -> Int32 {
        guard let value = Int32(text.trimmingCharacters(in: .whitespaces)), (1...1000).contains(value) else {
            throw ConfigurationError(
                "--dead-after (HSB_DEAD_AFTER) must be a whole number of failures from 1 to 1000, not \(ProtoJSON.quotedExcerpt(text))")
        }
        return value
    }

    public init(
        resources: ServiceResources, clients: [String: RPCClient], baseBackoffMillis: Int64 = 500, maxBackoffMillis: Int64 = 60_000,
        pollInterval: Duration = .milliseconds(250), maxFailuresAfterSend: Int32 = Deliverer.defaultDeadAfter, idempotencyWindowDays: Int = 7,
        replica: String = Deliverer.replicaName(), leaseSeconds: Int = 30, promptWait: Duration = Deliverer.promptDeliveryWait
    ) {
        self.promptWait = promptWait
        self.replica = replica
        self.leaseMillis = Int64(leaseSeconds) * 1000
        self.maxFailuresAfterSend = maxFailuresAfterSend
        self.idempotencyWindow = Int64(idempotencyWindowDays) * 86_400_000
        self.resources = resources
        self.clients = clients
        self.backoff = Backoff(initial: .milliseconds(baseBackoffMillis), maximum: .milliseconds(maxBackoffMillis))
        self.pollInterval = pollInterval
        resources.metrics.addGauges { [weak self] in
            guard let self, self.countsGauges.load(ordering: .relaxed) else { return [] }
            let byKind = self.overdue.withLock { $0 }.sorted {
                ($0.key.ruleID, $0.key.task, $0.key.owner) < ($1.key.ruleID, $1.key.task, $1.key.owner)
            }
            return [
                .init(
                    name: "deadlines_overdue", help: "Deadlines past due across all cases, as of the last count.",
                    value: Double(byKind.reduce(0) { $0 + $1.value })),
                .init(
                    name: "deadlines_overdue_by_kind",
                    help: "Deadlines past due across all cases, by the rule behind the task, the task and the agency it falls to.",
                    series: byKind.map {
                        (labels: [("rule", $0.key.ruleID), ("task", $0.key.task), ("owner", $0.key.owner)], value: Double($0.value))
                    }),
                .init(
                    name: "outbox_pending", help: "Steps written but not yet delivered to their agency.",
                    value: Double(self.pending.load(ordering: .relaxed))),
                .init(
                    name: "outbox_oldest_pending_seconds", help: "How long the oldest step not yet delivered has waited (0 when none waits).",
                    value: Double(self.oldestPendingMillis.load(ordering: .relaxed)) / 1000),
                .init(
                    name: "outbox_dead",
                    help: "Steps given up after repeated failures, waiting for an operator to retry or discard them (hsbctl outbox --dead).",
                    value: Double(self.dead.load(ordering: .relaxed))),
            ]
        }
    }

    /// Overdue open deadlines at `now`, by kind.
    static func overdueByKind(_ open: [CaseTables.OpenDeadline], now: Int64) -> [OverdueKind: Int] {
        var counts: [OverdueKind: Int] = [:]
        for item in open.map(\.task) where item.isOverdue(at: now) {
            // Task ids read RULE/task/… (e.g. SCR-18/assessment/child-1).
            let parts = item.taskID.split(separator: "/", omittingEmptySubsequences: false)
            let key = OverdueKind(
                ruleID: item.ruleID, task: parts.count > 1 ? String(parts[1]) : item.taskID,
                owner: Agency(rawValue: item.owner).name)
            counts[key, default: 0] += 1
        }
        return counts
    }

    /// Counts overdue deadlines and undelivered steps (for `/metrics`), as of `now` (default: the
    /// clock), when this replica holds the `gauges` lease (or takes it over): one replica counts for
    /// the partnership. Reads the open deadlines already due, and counts steps, by index.
    public func count(asOf now: Int64? = nil) async {
        let now = now ?? resources.clock.nowUnixMillis()
        let store = resources.store
        // The lease outlasts a few counting rounds (every 20 passes), so its holder keeps it while it lives.
        let pass = pollInterval.components.seconds * 1000 + pollInterval.components.attoseconds / 1_000_000_000_000_000
        let (replica, until) = (self.replica, now + max(leaseMillis, 4 * 20 * pass))
        guard
            let holds = try? await resources.write(
                idempotencyKey: "", caller: "orchestrator", method: "lease", now: now,
                { tx throws(RecordStoreError) in
                    [try CaseTables.holdLease("gauges", replica: replica, until: until, tx) ? 1 : 0]
                }
            ).reply == [1]
        else { return }
        countsGauges.store(holds, ordering: .relaxed)
        guard holds,
            let (late, waiting, given, oldest) = try? await resources.blocking({
                try store.snapshot(now: now) { tx throws(RecordStoreError) in
                    (
                        Deliverer.overdueByKind(try CaseTables.openDeadlines(dueBefore: now, tx), now: now),
                        try CaseTables.stepCount(status: "pending", tx), try CaseTables.stepCount(status: "dead", tx),
                        try CaseTables.oldestPendingStep(tx)
                    )
                }
            })
        else { return }
        overdue.withLock { $0 = late }
        pending.store(waiting, ordering: .relaxed)
        oldestPendingMillis.store(oldest.map { max(0, now - $0) } ?? 0, ordering: .relaxed)
        dead.store(given, ordering: .relaxed)
    }

    /// A name for this process among the replicas: host, process id and a random part.
    public static func replicaName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        let name =
            gethostname(&host, host.count) == 0 ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "host"
        return "\(name)/\(getpid())/\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The record kinds the access log names for cases and steps.
    static let outboxKind = "outbox"
    static let caseKind = "case"

    /// Steps read for one pass of the poller: the rest wait for the next pass.
    static let duePerPass = 1000

    /// The agencies whose lane is delivering now. Each agency's due steps go out one at a time, in
    /// the order they fell due, on a lane of its own: an agency that takes connections and never
    /// answers holds up only its own steps, never another agency's.
    let busyLanes = Mutex<Set<String>>([])

    /// Delivers every step due now, each agency's on its own lane (a lane already delivering is
    /// left to finish its own); returns how many landed once the lanes it started are done.
    @discardableResult
    public func deliverDue() async -> Int {
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let due: [(service: String, stepID: String)]
        do {
            due = try await resources.blocking {
                try store.snapshot(now: now) { tx throws(RecordStoreError) in
                    try CaseTables.dueSteps(now: now, limit: Self.duePerPass, tx).map { (service: $0.service, stepID: $0.stepID) }
                }
            }
        } catch {
            resources.logger.warning("outbox could not be read", metadata: ["error": "\(error)"])
            return 0
        }
        let lanes = Dictionary(grouping: due, by: \.service).mapValues { $0.map(\.stepID) }
        let started = busyLanes.withLock { busy in
            lanes.filter { busy.insert($0.key).inserted }
        }
        return await withTaskGroup(of: Int.self) { group in
            for (service, steps) in started {
                group.addTask {
                    defer { _ = self.busyLanes.withLock { $0.remove(service) } }
                    var delivered = 0
                    for id in steps where await self.deliver(stepID: id, claimed: false) { delivered += 1 }
                    return delivered
                }
            }
            return await group.reduce(0, +)
        }
    }

    /// How long a practitioner's call waits for the steps it wrote to land before it answers
    /// with them still owed: an agency that cannot be reached (its link cut, its host down)
    /// costs the caller this long, not the attempt's 10 s deadline and retries.
    public static let promptDeliveryWait: Duration = .seconds(2)

    /// Sends the steps a call just wrote, and waits for them at most `budget`. Past it the call
    /// answers and the attempts go on (their outcome is recorded as ever; the outbox retries
    /// any that fail): the steps are durable, only the wait is cut short.
    public func deliverPromptly(_ stepIDs: [String]) async {
        guard !stepIDs.isEmpty else { return }
        let budget = promptWait
        let waiter = PromptWaiter()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiter.set(continuation)
            let timer = Task {
                try? await Task.sleep(for: budget)
                waiter.resume()
            }
            Task {
                for stepID in stepIDs { await self.deliver(stepID: stepID) }
                timer.cancel()
                waiter.resume()
            }
        }
    }

    /// Resumes a waiting call once, by whichever comes first: the deliveries or the budget.
    private final class PromptWaiter: Sendable {
        private let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)
        func set(_ value: CheckedContinuation<Void, Never>) { continuation.withLock { $0 = value } }
        func resume() { continuation.withLock { $0.take() }?.resume() }
    }

    /// Attempts one step; true when it landed. `claimed`: this replica claimed it when it wrote it
    /// (a step sent at once); otherwise it is claimed first, and left alone if another replica holds it.
    @discardableResult
    public func deliver(stepID: String, claimed: Bool = true) async -> Bool {
        let store = resources.store
        let now = resources.clock.nowUnixMillis()
        let (replica, until) = (self.replica, now + leaseMillis)
        let loaded: CaseTables.StepRow?
        if claimed {
            loaded = try? await resources.blocking {
                try store.snapshot(now: now) { tx throws(RecordStoreError) in try CaseTables.getStep(stepID, tx) }
            }
        } else {
            // The claim is a write (through the group commit): two replicas never send a step at once
            // unless one's claim has lapsed, and then the step's id as idempotency key applies it once.
            let claim = try? await resources.write(idempotencyKey: "", caller: "orchestrator", method: "claim", now: now) {
                tx throws(RecordStoreError) in
                try CaseTables.claimStep(stepID, replica: replica, until: until, tx) ? [1] : [0]
            }
            guard claim?.reply == [1] else { return false }
            loaded = try? await resources.blocking {
                try store.snapshot(now: now) { tx throws(RecordStoreError) in try CaseTables.getStep(stepID, tx) }
            }
        }
        guard let loaded, loaded.step.status == "pending" else { return false }
        let (step, created) = (loaded.step, loaded.createdAt)
        if (step.failuresAfterSend ?? 0) > 0, now - created > idempotencyWindow {
            let days = idempotencyWindow / 86_400_000
            await record(
                step,
                outcome: .failure(
                    RPCError(
                        .internal,
                        "not sent again: an earlier attempt may have landed and the step is older than the \(days)-day idempotency window, so \(step.service) may apply it twice; check its records, then retry or discard"
                    )),
                forceDead: true)
            return false
        }
        return await deliver(step)
    }

    /// Attempts `step` as written; true when it landed. Its outcome is recorded against the stored
    /// step, which must still be pending (a step another attempt already settled is left alone).
    @discardableResult
    func deliver(_ step: StepState) async -> Bool {
        guard let client = clients[step.service] else {
            // A missing endpoint is a configuration gap: the step waits (and is retried) rather than being dropped.
            await record(step, outcome: .failure(RPCError.unreachable("no endpoint configured for \(step.service)")))
            return false
        }
        do throws(RPCError) {
            // A relayed act is signed for the agency that did it, which the owning service authorises.
            let reply = try await client.call(
                step.method, payload: [UInt8](step.payload), timeout: .seconds(10), idempotencyKey: step.stepID,
                purpose: step.purpose ?? "screening", acting: step.acting)
            return await record(step, outcome: .success(reply))
        } catch {
            return await record(step, outcome: .failure(error))
        }
    }

    static func retryable(_ code: StatusCode) -> Bool {
        [.unavailable, .deadlineExceeded, .resourceExhausted, .aborted, .internal].contains(code)
    }

    /// Applies an attempt's outcome to the step and its case, in one transaction.
    /// `forceDead`: give the step up now, whatever its count (the idempotency window passed).
    @discardableResult
    func record(_ attempted: StepState, outcome: Result<[UInt8], RPCError>, forceDead: Bool = false) async -> Bool {
        let now = resources.clock.nowUnixMillis()
        let backoff = self.backoff
        let maxFailures = maxFailuresAfterSend
        let available = Set(clients.keys)
        let replica = self.replica
        do {
            return try await resources.write(idempotencyKey: "", caller: "orchestrator", method: "deliver", now: now) {
                tx throws(RecordStoreError) -> [UInt8] in
                guard let stepRow = try CaseTables.getStep(attempted.stepID, tx), stepRow.step.status == "pending",
                    let caseRow = try CaseTables.getCase(stepRow.step.caseID, tx)
                else { return [0] }
                var step = stepRow.step
                var state = caseRow.state
                step.attempts += 1
                var landed: UInt8 = 0
                let sent = SentStep(stepID: step.stepID, service: step.service, method: step.method, request: [UInt8](step.payload))
                var event: PathwayEvent? = nil
                switch outcome {
                case .success(let reply):
                    step.status = "delivered"
                    step.lastError = ""
                    landed = 1
                    event = .delivered(sent, reply: reply, availableServices: available)
                case .failure(let error) where Deliverer.retryable(error.code):
                    step.nextAttempt = now + backoff.milliseconds(afterAttempt: Int(step.attempts))
                    step.lastError = "\(error)"
                    if !error.neverSent {
                        // It reached the service and got no answer: a step that crashes or hangs
                        // its receiver must not be sent again for ever.
                        let failures = (step.failuresAfterSend ?? 0) + 1
                        step.failuresAfterSend = failures
                        if failures >= maxFailures || forceDead {
                            step.status = "dead"
                            event = .givenUp(sent, failures: failures, error: error.message)
                        }
                    }
                case .failure(let error):
                    step.status = "refused"
                    step.lastError = "\(error)"
                    event = .refused(sent, reason: error.message)
                }
                if let event {
                    // The pathway decides what the outcome means for the case; the steps it owes
                    // are written in this transaction and delivered by the poller.
                    let (next, effects) = try Deliverer.applying(event, to: state, now: now)
                    state = next
                    // A referral the case does not keep goes from the step's copy too.
                    if effects.contains(.forgetRequest) { step.payload = Data() }
                    _ = try Deliverer.execute(effects, state: &state, now: now, tx)
                }
                try CaseTables.updateStep(step, version: stepRow.version, attemptedBy: replica, tx)
                try CaseTables.saveCase(state, over: caseRow, tx)
                return [landed]
            }.reply == [1]
        } catch {
            resources.logger.warning(
                "a delivery could not be recorded; it will be tried again", metadata: ["step": "\(attempted.stepID)", "error": "\(error)"])
            return false
        }
    }

    /// The pathway's answer to `event`, with its refusals as the store's (nothing is written).
    static func applying(_ event: PathwayEvent, to state: CaseState, now: Int64) throws(RecordStoreError) -> (CaseState, [PathwayEffect]) {
        do throws(PathwayRefusal) {
            return try CasePathway.apply(event, to: state, now: now)
        } catch {
            switch error.kind {
            case .notFound: throw .refused(.invalidArgument, error.message)
            case .permissionDenied: throw .refused(.permissionDenied, error.message)
            case .failedPrecondition: throw .refused(.failedPrecondition, error.message)
            }
        }
    }

    /// Carries out what the pathway asked, inside the caller's transaction: each step it owes is
    /// written to the outbox (durable before it is sent); returns the steps written, to send at once.
    /// `claim`: the replica that sends the steps at once, and until when no other replica takes them.
    static func execute(
        _ effects: [PathwayEffect], state: inout CaseState, now: Int64, claim: (replica: String, until: Int64)? = nil, _ tx: RecordTransaction
    ) throws(RecordStoreError)
        -> [StepState]
    {
        let caseID = state.caseID
        var written: [StepState] = []
        for effect in effects {
            switch effect {
            case .send(let outgoing):
                let step = StepState(
                    stepID: ServiceResources.newID("step"), caseID: caseID, service: outgoing.service, method: outgoing.method,
                    payload: Data(outgoing.payload), status: "pending", attempts: 0, lastError: "", nextAttempt: now, purpose: outgoing.purpose,
                    actingAgency: outgoing.acting?.agency.rawValue, actingUser: outgoing.acting?.user,
                    actProof: (try? outgoing.acting?.proof?.encoded()).map { Data($0) })
                try CaseTables.insertStep(step, claimedBy: claim?.replica, until: claim?.until, tx)
                written.append(step)
            case .indexIdentity(let identity, let childID):
                try CaseTables.indexIdentity(caseID: caseID, identity: identity, childID: childID, tx)
            case .forgetIdentity:
                try CaseTables.forgetIdentity(caseID: caseID, tx)
            case .forgetRequest:
                break  // the caller clears the step it holds
            case .openHarmedChildCase(let opening):
                // GEN-01: the harmed child's own case: their open one if they have one, else a new
                // one; linked both ways.
                let open = try CaseTables.cases(ofChild: opening.subjectID, tx).last { $0.state.isOpen }
                let harmedCase: CaseState
                if let open {
                    var joined = open.state
                    CasePathway.join(opening, linkedCase: state, into: &joined, now: now)
                    try CaseTables.saveCase(joined, over: open, tx)
                    harmedCase = joined
                } else {
                    harmedCase = CasePathway.openHarmedChild(opening, caseID: ServiceResources.newID("case"), linkedCase: state, now: now)
                    try CaseTables.saveCase(harmedCase, over: nil, tx)
                }
                if !state.linked.contains(where: { $0.caseID == harmedCase.caseID }) {
                    state.linked.append(
                        .init(caseID: harmedCase.caseID, subjectID: opening.subjectID, role: .personHarmed, threshold: opening.threshold))
                }
            }
        }
        return written
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // Each pass starts the lanes that are idle and does not wait for a busy one: a lane
            // stuck on an agency that does not answer leaves the others polled on time.
            // (A discarding group: a finished pass leaves nothing behind.)
            await withDiscardingTaskGroup { passes in
                var pass = 0
                while !Task.isCancelled {
                    passes.addTask { _ = await self.deliverDue() }
                    if pass % 20 == 0 { await self.count() }
                    pass += 1
                    try? await Task.sleep(for: self.pollInterval)
                }
                passes.cancelAll()
            }
        }
    }
}
