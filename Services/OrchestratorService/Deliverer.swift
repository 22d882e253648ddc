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
    /// Attempts that may reach the service and fail without an answer (the connection dropped,
    /// the deadline passed, an internal error) before the step is moved to the dead letters. A
    /// service that cannot be reached at all does not count: its steps wait, however long.
    let maxFailuresAfterSend: Int32
    /// How long the agencies keep an idempotency key (`--idempotency-window`). A step that may have
    /// landed (an attempt reached the service and no answer came) is not sent again once it is
    /// older than this: the agency may have forgotten the key and would apply it twice. It goes to
    /// the dead letters for an operator to check with the agency instead.
    let idempotencyWindow: Int64

    /// Overdue deadlines by kind, and undelivered steps, counted every few passes for the metrics.
    let overdue = Mutex<[OverdueKind: Int]>([:])
    let pending = Atomic<Int>(0)
    let dead = Atomic<Int>(0)

    /// What ops group overdue work by: the rule behind the task, the task, and the agency it falls to.
    struct OverdueKind: Hashable {
        var ruleID: String
        var task: String
        var owner: String
    }

    /// Failures after sending (the step reached its service, no answer came) before a step is dead.
    public static let defaultDeadAfter: Int32 = 5

    /// `--dead-after` (`HSB_DEAD_AFTER`): a whole number from 1 to 1,000; anything else is named.
    public static func deadAfter(parsing text: String) throws(ConfigurationError) -> Int32 {
        guard let value = Int32(text.trimmingCharacters(in: .whitespaces)), (1...1000).contains(value) else {
            throw ConfigurationError(
                "--dead-after (HSB_DEAD_AFTER) must be a whole number of failures from 1 to 1000, not '\(text.prefix(40))'")
        }
        return value
    }

    public init(
        resources: ServiceResources, clients: [String: RPCClient], baseBackoffMillis: Int64 = 500, maxBackoffMillis: Int64 = 60_000,
        pollInterval: Duration = .milliseconds(250), maxFailuresAfterSend: Int32 = Deliverer.defaultDeadAfter, idempotencyWindowDays: Int = 7
    ) {
        self.maxFailuresAfterSend = maxFailuresAfterSend
        self.idempotencyWindow = Int64(idempotencyWindowDays) * 86_400_000
        self.resources = resources
        self.clients = clients
        self.backoff = Backoff(initial: .milliseconds(baseBackoffMillis), maximum: .milliseconds(maxBackoffMillis))
        self.pollInterval = pollInterval
        resources.metrics.addGauges { [weak self] in
            guard let self else { return [] }
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
                    name: "outbox_dead",
                    help: "Steps given up after repeated failures, waiting for an operator to retry or discard them (hsbctl outbox --dead).",
                    value: Double(self.dead.load(ordering: .relaxed))),
            ]
        }
    }

    /// Overdue open deadlines at `now`, by kind.
    static func overdueByKind(_ open: [OpenDeadline], now: Int64) -> [OverdueKind: Int] {
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

    /// Counts overdue deadlines and undelivered steps (for `/metrics`), as of `now` (default: the clock).
    /// Reads the overdue rows of the open-deadline index and the due markers, on the reader
    /// connection: never the cases, never the deadlines still to come, never holding up a write.
    public func count(asOf now: Int64? = nil) async {
        let now = now ?? resources.clock.nowUnixMillis()
        let store = resources.store
        guard
            let (late, waiting, given) = try? await resources.blocking({
                try store.snapshot(now: now) { tx throws(RecordStoreError) in
                    (
                        Deliverer.overdueByKind(try Deliverer.openDeadlines(tx, dueBefore: now), now: now),
                        try tx.list(kind: Deliverer.dueKind, subjectID: Deliverer.pendingMark).count,
                        try tx.list(kind: Deliverer.dueKind, subjectID: Deliverer.deadMark).count
                    )
                }
            })
        else { return }
        overdue.withLock { $0 = late }
        pending.store(waiting, ordering: .relaxed)
        dead.store(given, ordering: .relaxed)
    }

    /// An open deadline as the index keeps it: one small row per open, dated task of a case.
    struct OpenDeadline {
        var caseID: String
        var task: CaseState.DeadlineItem

        /// The row's id: the due time zero-padded to 19 digits, then the case and the task, so the
        /// rows due before a time are a range of the store's key.
        var id: String { "\(Self.sortable(task.due))|\(caseID)|\(task.taskID)" }

        /// `time` as 19 digits, zero-padded: ids that sort in byte order as the times do.
        static func sortable(_ time: Int64) -> String {
            let digits = String(max(0, time))
            return String(repeating: "0", count: max(0, 19 - digits.count)) + digits
        }

        /// `due<TAB>owner<TAB>rule<TAB>task<TAB>assignee<TAB>description` (tabs in text become spaces).
        var body: String {
            [String(task.due), String(task.owner), task.ruleID, task.taskID, task.assignee, task.description].map(Self.untabbed)
                .joined(separator: "\t")
        }

        /// `text` with each tab a space. Most text has none and is returned as it is: the generic
        /// `replacing` searched every field through the string-processing library on every case write.
        static func untabbed(_ text: String) -> String {
            guard text.utf8.contains(UInt8(ascii: "\t")) else { return text }
            return String(decoding: text.utf8.map { $0 == UInt8(ascii: "\t") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        }

        init(caseID: String, item: CaseState.DeadlineItem) {
            self.caseID = caseID
            task = item
        }

        /// The open task a row holds (the index keeps open tasks only).
        init?(record: StoredRecord) {
            let fields = record.body.split(separator: "\t", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count == 6, let due = Int64(fields[0]), let owner = Int32(fields[1]) else { return nil }
            caseID = record.subjectID
            task = CaseState.DeadlineItem(
                taskID: String(fields[3]), description: String(fields[5]), owner: owner, assignee: String(fields[4]), due: due,
                ruleID: String(fields[2]), completedBy: nil, completedAt: nil)
        }
    }

    /// The open, dated deadlines across cases that fall due before `time`, from the index, soonest first.
    static func openDeadlines(_ tx: RecordTransaction, dueBefore time: Int64) throws(RecordStoreError) -> [OpenDeadline] {
        try tx.list(kind: openDeadlineKind, idBefore: OpenDeadline.sortable(time)).compactMap(OpenDeadline.init(record:))
    }

    /// Writes a case (a new one when `version` is nil) and brings its rows of the open-deadline
    /// index in line with it, in the caller's transaction.
    static func saveCase(_ state: CaseState, version: Int64?, _ tx: RecordTransaction) throws(RecordStoreError) {
        if let version {
            _ = try tx.update(kind: caseKind, id: state.caseID, expectedVersion: version, body: state.body)
        } else {
            _ = try tx.insert(kind: caseKind, id: state.caseID, subjectID: state.childSubjectID, body: state.body)
        }
        try syncIndex(state, tx)
    }

    static func syncIndex(_ state: CaseState, _ tx: RecordTransaction) throws(RecordStoreError) {
        var wanted: [String: OpenDeadline] = [:]
        for item in state.deadlines where item.isOpen && item.due > 0 {
            let row = OpenDeadline(caseID: state.caseID, item: item)
            wanted[row.id] = row
        }
        for row in try tx.list(kind: openDeadlineKind, subjectID: state.caseID) {
            if wanted.removeValue(forKey: row.id) == nil { try tx.remove(kind: openDeadlineKind, id: row.id) }
        }
        for (id, item) in wanted.sorted(by: { $0.key < $1.key }) {
            _ = try tx.insert(kind: openDeadlineKind, id: id, subjectID: state.caseID, body: item.body)
        }
    }

    /// Builds the open-deadline index for a store written before it existed, or before its rows
    /// were keyed by due time (once, at start): rows of the older form are replaced.
    public func buildIndexIfMissing() async {
        let now = resources.clock.nowUnixMillis()
        do {
            _ = try await resources.write(idempotencyKey: "", caller: "orchestrator", method: "index", now: now) { tx throws(RecordStoreError) in
                guard try tx.get(kind: Deliverer.indexMarkKind, id: Deliverer.openDeadlineIndexVersion) == nil else { return [] }
                for row in try tx.all(kind: Deliverer.openDeadlineKind) { try tx.remove(kind: Deliverer.openDeadlineKind, id: row.id) }
                for record in try tx.all(kind: Deliverer.caseKind) {
                    if let state = CaseState(body: record.body) { try Deliverer.syncIndex(state, tx) }
                }
                _ = try tx.insert(kind: Deliverer.indexMarkKind, id: Deliverer.openDeadlineIndexVersion, subjectID: "", body: "built")
                return []
            }
        } catch {
            resources.logger.error("the open-deadline index could not be built", metadata: ["error": "\(error)"])
        }
    }

    static let outboxKind = "outbox"
    static let caseKind = "case"
    /// One marker per undelivered step (subject `pending`, body: when to try next), so the
    /// deliverer reads the steps still owed, not every step ever written.
    static let dueKind = "outbox-due"
    static let pendingMark = "pending"
    /// The same marker for a step in the dead letters (body: when it was given up).
    static let deadMark = "dead"
    /// Each case's child identity (normalised name, date of birth, postcode), for finding likely duplicates by index.
    static let identityKind = "case-identity"
    /// One row per open, dated deadline of a case (subject: the case), so the overdue and due-soon
    /// lists and the gauges read small rows instead of decoding every case.
    static let openDeadlineKind = "open-deadline"
    /// The index-built mark of the open-deadline index keyed by due time (the first form, marked
    /// `open-deadline`, was keyed by case and read whole for every count).
    static let openDeadlineIndexVersion = "open-deadline/by-due"
    /// Which indexes a store has built.
    static let indexMarkKind = "index-built"

    /// Writes a step and its due marker (inside the caller's transaction: the step is durable before it is sent).
    static func enqueue(_ step: StepState, _ tx: RecordTransaction) throws(RecordStoreError) {
        _ = try tx.insert(kind: outboxKind, id: step.stepID, subjectID: step.caseID, body: step.body)
        _ = try tx.insert(kind: dueKind, id: step.stepID, subjectID: pendingMark, body: String(step.nextAttempt))
    }

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
                    var found: [(when: Int64, service: String, stepID: String)] = []
                    for marker in try tx.list(kind: Self.dueKind, subjectID: Self.pendingMark) {
                        guard let when = Int64(marker.body), when <= now, let record = try tx.get(kind: Self.outboxKind, id: marker.id),
                            let step = StepState(body: record.body)
                        else { continue }
                        found.append((when, step.service, marker.id))
                    }
                    return found.sorted { ($0.when, $0.stepID) < ($1.when, $1.stepID) }.map { (service: $0.service, stepID: $0.stepID) }
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
                    for id in steps where await self.deliver(stepID: id) { delivered += 1 }
                    return delivered
                }
            }
            return await group.reduce(0, +)
        }
    }

    /// Attempts one step; true when it landed.
    @discardableResult
    public func deliver(stepID: String) async -> Bool {
        let store = resources.store
        let now = resources.clock.nowUnixMillis()
        guard let (step, _, created) = try? await resources.blocking({ try Self.loadStep(store, stepID, now: now) }), step.status == "pending"
        else {
            return false
        }
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

    /// A step as stored, its record's version, and when it was written.
    static func loadStep(_ store: RecordStore, _ id: String, now: Int64) throws -> (StepState, Int64, Int64)? {
        try store.snapshot(now: now) { tx throws(RecordStoreError) in
            guard let record = try tx.get(kind: outboxKind, id: id), let step = StepState(body: record.body) else { return nil }
            return (step, record.version, record.createdAtUnixMillis)
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
        do {
            return try await resources.write(idempotencyKey: "", caller: "orchestrator", method: "deliver", now: now) {
                tx throws(RecordStoreError) -> [UInt8] in
                guard let stepRecord = try tx.get(kind: Deliverer.outboxKind, id: attempted.stepID),
                    var step = StepState(body: stepRecord.body), step.status == "pending",
                    let caseRecord = try tx.get(kind: Deliverer.caseKind, id: step.caseID),
                    var state = CaseState(body: caseRecord.body)
                else { return [0] }
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
                _ = try tx.update(kind: Deliverer.outboxKind, id: step.stepID, expectedVersion: stepRecord.version, body: step.body)
                try tx.remove(kind: Deliverer.dueKind, id: step.stepID)
                if step.status == "pending" {
                    _ = try tx.insert(kind: Deliverer.dueKind, id: step.stepID, subjectID: Deliverer.pendingMark, body: String(step.nextAttempt))
                } else if step.status == "dead" {
                    _ = try tx.insert(kind: Deliverer.dueKind, id: step.stepID, subjectID: Deliverer.deadMark, body: String(now))
                }
                try Deliverer.saveCase(state, version: caseRecord.version, tx)
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
    static func execute(
        _ effects: [PathwayEffect], state: inout CaseState, now: Int64, _ tx: RecordTransaction
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
                    actingAgency: outgoing.acting?.agency.rawValue, actingUser: outgoing.acting?.user)
                try enqueue(step, tx)
                written.append(step)
            case .indexIdentity(let identity, let childID):
                // One entry per case (subject: the identity, body: the child), read by index.
                _ = try tx.insert(kind: identityKind, id: caseID, subjectID: identity, body: childID)
            case .forgetIdentity:
                _ = try? tx.remove(kind: identityKind, id: caseID)
            case .forgetRequest:
                break  // the caller clears the step it holds
            case .openHarmedChildCase(let opening):
                // GEN-01: the harmed child's own case: their open one if they have one, else a new
                // one; linked both ways.
                let open = try tx.list(kind: caseKind, subjectID: opening.subjectID).compactMap { record -> (StoredRecord, CaseState)? in
                    CaseState(body: record.body).map { (record, $0) }
                }.last { $0.1.isOpen }
                let harmedCase: CaseState
                if let (record, found) = open {
                    var joined = found
                    CasePathway.join(opening, linkedCase: state, into: &joined, now: now)
                    try saveCase(joined, version: record.version, tx)
                    harmedCase = joined
                } else {
                    harmedCase = CasePathway.openHarmedChild(opening, caseID: ServiceResources.newID("case"), linkedCase: state, now: now)
                    try saveCase(harmedCase, version: nil, tx)
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
        await buildIndexIfMissing()
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
