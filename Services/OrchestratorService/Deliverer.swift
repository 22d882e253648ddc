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
    /// Attempts that may reach the service and fail without an answer (the connection dropped,
    /// the deadline passed, an internal error) before the step is moved to the dead letters. A
    /// service that cannot be reached at all does not count: its steps wait, however long.
    let maxFailuresAfterSend: Int32

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

    public init(
        resources: ServiceResources, clients: [String: RPCClient], baseBackoffMillis: Int64 = 500, maxBackoffMillis: Int64 = 60_000,
        pollInterval: Duration = .milliseconds(250), maxFailuresAfterSend: Int32 = 5
    ) {
        self.maxFailuresAfterSend = maxFailuresAfterSend
        self.resources = resources
        self.clients = clients
        self.baseBackoffMillis = baseBackoffMillis
        self.maxBackoffMillis = maxBackoffMillis
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
                owner: Agency(rawValue: item.owner).map(\.name) ?? "unspecified")
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

    /// Delivers every step due now; returns how many landed.
    @discardableResult
    public func deliverDue() async -> Int {
        let now = resources.clock.nowUnixMillis()
        let store = resources.store
        let due: [String]
        do {
            due = try await resources.blocking {
                try store.snapshot(now: now) { tx throws(RecordStoreError) in
                    try tx.list(kind: Self.dueKind, subjectID: Self.pendingMark).compactMap { marker in
                        (Int64(marker.body) ?? 0) <= now ? marker.id : nil
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

    static func loadStep(_ store: RecordStore, _ id: String, now: Int64) throws -> (StepState, Int64)? {
        try store.snapshot(now: now) { tx throws(RecordStoreError) in
            guard let record = try tx.get(kind: outboxKind, id: id), let step = StepState(body: record.body) else { return nil }
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
        let base = baseBackoffMillis
        let maxBackoff = maxBackoffMillis
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
                    if !error.neverSent {
                        // It reached the service and got no answer: a step that crashes or hangs
                        // its receiver must not be sent again for ever.
                        let failures = (step.failuresAfterSend ?? 0) + 1
                        step.failuresAfterSend = failures
                        if failures >= maxFailures {
                            step.status = "dead"
                            state.chronology.append(
                                .init(
                                    at: now,
                                    what:
                                        "\(step.service) \(OrchestratorService.shortName(step.method)) given up after \(failures) failed attempts (\(error.message)); an operator retries or discards it (step \(step.stepID))",
                                    ruleIDs: []))
                        }
                    }
                case .failure(let error):
                    step.status = "refused"
                    step.lastError = "\(error)"
                    state.chronology.append(.init(at: now, what: "\(step.service) refused \(step.method): \(error.message)", ruleIDs: []))
                    if step.method == OrchestratorService.intakeSubmitReferral {
                        // A referral intake refused is not kept: the case holds the refusal and its
                        // reason, never the child's details from it (the step's copy goes too).
                        try Deliverer.forgetRefusedReferral(&step, in: &state, tx)
                    }
                }
                _ = try tx.update(kind: Deliverer.outboxKind, id: step.stepID, expectedVersion: stepRecord.version, body: step.body)
                try tx.remove(kind: Deliverer.dueKind, id: step.stepID)
                if step.status == "pending" {
                    _ = try tx.insert(kind: Deliverer.dueKind, id: step.stepID, subjectID: Deliverer.pendingMark, body: String(step.nextAttempt))
                } else if step.status == "dead" {
                    _ = try tx.insert(kind: Deliverer.dueKind, id: step.stepID, subjectID: Deliverer.deadMark, body: String(now))
                }
                try Deliverer.saveCase(state, version: caseRecord.version, tx)
                for followUp in followUps { try Deliverer.enqueue(followUp, tx) }
                return [landed]
            }.reply == [1]
        } catch {
            resources.logger.warning(
                "a delivery could not be recorded; it will be tried again", metadata: ["step": "\(attempted.stepID)", "error": "\(error)"])
            return false
        }
    }

    /// Removes a refused referral's personal data from its case and step: the referral itself,
    /// and, when it was the case's only one, the child's identity and its duplicate-finding row.
    static func forgetRefusedReferral(_ step: inout StepState, in state: inout CaseState, _ tx: RecordTransaction) throws(RecordStoreError) {
        if let request = try? IntakeV1.SubmitReferralRequest(decoding: [UInt8](step.payload)), let referral = request.referral,
            let bytes = try? referral.encoded(), let index = state.referrals.lastIndex(of: Data(bytes))
        {
            state.referrals.remove(at: index)
            if index < state.referralTimes.count { state.referralTimes.remove(at: index) }
        }
        step.payload = Data()
        if state.referrals.isEmpty {
            state.status = "refused"
            state.screening = nil
            if !state.identity.isEmpty {
                _ = try? tx.remove(kind: identityKind, id: state.caseID)
                state.identity = ""
            }
        }
    }

    /// What a delivered step means for its case.
    /// Returns the steps it sets going (routes the orchestrator opens itself).
    static func apply(reply: [UInt8], of step: StepState, to state: inout CaseState, now: Int64, available: Set<String>) -> [StepState] {
        if let entry = EventMethods.table[step.method] {
            guard let (decision, summary) = entry.read(reply) else { return [] }
            state.chronology.append(.init(at: now, what: "\(step.service): \(summary)", ruleIDs: decision?.citations.map(\.ruleID) ?? []))
            // Work the event answers is done before its own new work joins the case.
            state.complete(
                prefixes: EventMethods.completes(method: step.method, reply: reply, request: [UInt8](step.payload)), by: step.service, at: now)
            merge(decision?.tasks ?? [], into: &state)
            noteMappaRoute(decision?.tasks ?? [], state: &state, now: now)
            // INF-07, INF-01: the minutes owed to each agency that attended or reported go on the ledger.
            for notice in decision?.notices ?? [] where notice.ruleID == "INF-07" {
                state.disclosures.append(
                    .init(
                        at: now, toService: notice.recipient, what: notice.reason, purpose: "minutes to an agency that attended or reported (INF-07)",
                        lawfulBasis: entry.lawfulBasis, consent: "not sought: shared for the case's multi-agency plan"))
            }
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
        noteMappaRoute(result.decision?.tasks ?? [], state: &state, now: now)
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

    public func run() async throws {
        await buildIndexIfMissing()
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
