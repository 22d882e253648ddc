import CamhsService
import Foundation
import HSBPathway
import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import IntakeService
import MappaService
import NIOPosix
import OrchestratorService
import Synchronization
import Testing
import YouthJusticeService

@testable import OrchestratorService

/// An orchestrator whose outbox delivers to intake at `intakePort`.
struct OrchestratorHost {
    let server: TestServiceHost
    let deliverer: Deliverer

    /// The child's cases as the store holds them.
    func cases(ofChild child: String) throws -> [CaseState] {
        try server.host.store.snapshot(now: 0) { tx throws(RecordStoreError) in try CaseTables.cases(ofChild: child, tx).map(\.state) }
    }

    /// The steps written for a case, as the store holds them.
    func steps(ofCase caseID: String) throws -> [StepState] {
        try server.host.store.snapshot(now: 0) { tx throws(RecordStoreError) in try CaseTables.steps(ofCase: caseID, tx) }
    }

    /// Rows of one of the orchestrator's tables, each column as text (blobs as hex).
    func rows(_ sql: String, _ parameters: [SQLValue] = []) throws -> [[String?]] {
        try server.host.store.snapshot(now: 0) { tx throws(RecordStoreError) in
            do throws(StorageError) { return try tx.sql.query(sql, parameters) } catch { throw .storage(error) }
        }
    }

    static func client(_ port: Int, tls: TLSMaterial? = nil, expecting agency: Agency? = nil) -> RPCClient {
        RPCClient(
            configuration: RPCClientConfiguration(
                host: "127.0.0.1", port: port, connectTimeout: .seconds(1), retry: .none, tls: tls, expectedAgency: agency),
            signer: tls == nil
                ? RequestSigner(agency: .orchestrator, secret: TestServiceHost.testSecrets[.orchestrator]!) : RequestSigner(agency: .orchestrator),
            group: MultiThreadedEventLoopGroup.singleton)
    }

    static func start(
        _ store: TestStore, intakePort: Int, youthJusticePort: Int? = nil, camhsPort: Int? = nil, mappaPort: Int? = nil, dataDir: String? = nil,
        clock: any WallClock = SystemWallClock(), idempotencyWindowDays: Int = 7, databaseURL: String? = nil, replica: String? = nil,
        leaseSeconds: Int = 30, tls: TLSMaterial? = nil, promptWait: Duration = .seconds(30)
    ) async throws
        -> OrchestratorHost
    {
        var clients = ["intake": client(intakePort, tls: tls, expecting: tls.map { _ in .socialCare })]
        if let youthJusticePort { clients["youth-justice"] = client(youthJusticePort, tls: tls, expecting: tls.map { _ in .youthJustice }) }
        if let camhsPort { clients["camhs"] = client(camhsPort, tls: tls, expecting: tls.map { _ in .camhs }) }
        if let mappaPort { clients["mappa"] = client(mappaPort, tls: tls, expecting: tls.map { _ in .mappa }) }
        let agencyClients = clients
        let box = Mutex<Deliverer?>(nil)
        let server = try await TestServiceHost.start(
            .orchestrator, store: store, dataDir: dataDir, clock: clock, databaseURL: databaseURL, migrations: CaseTables.migrations, tls: tls
        ) { resources in
            let deliverer = Deliverer(
                resources: resources, clients: agencyClients, baseBackoffMillis: 1, maxBackoffMillis: 5, idempotencyWindowDays: idempotencyWindowDays,
                replica: replica ?? Deliverer.replicaName(), leaseSeconds: leaseSeconds, promptWait: promptWait)
            box.withLock { $0 = deliverer }
            return OrchestratorService.handlers(resources, deliverer: deliverer)
        }
        return OrchestratorHost(server: server, deliverer: box.withLock { $0 }!)
    }
}

func startIntake(_ store: TestStore, port: Int = 0, dataDir: String? = nil, tls: TLSMaterial? = nil) async throws -> TestServiceHost {
    let configuration = IntakeConfiguration(localAuthority: "Camden")
    return try await TestServiceHost.start(.intake, store: store, dataDir: dataDir, port: port, migrations: IntakeService.migrations, tls: tls) {
        IntakeService.handlers($0, configuration)
    }
}

func referral(child: String = "child-1") -> IntakeV1.Referral {
    let year = Int32(Calendar(identifier: .gregorian).component(.year, from: Date()))
    return IntakeV1.Referral(
        child: Subject(subjectID: child, role: .childDisplayingHSB, givenName: "Sam", dateOfBirth: CalendarDate(year: year - 15, month: 1, day: 1)),
        personsHarmed: [
            IntakeV1.PersonHarmed(
                subject: Subject(subjectID: "harmed-1", role: .personHarmed, dateOfBirth: CalendarDate(year: year - 12, month: 12, day: 31)))
        ],
        behaviours: [IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8")], referrer: "DSL, Hill School", incidentDetails: "changing rooms",
        victimVulnerability: "younger", coercionEvidence: "threats", referrerAssessedRisk: "high", otherChildrenMayBeAtRisk: .no, parentsTold: .yes,
        significantHarmSuspected: true)
}

@Suite("The orchestrator over loopback with a real intake", .timeLimit(.minutes(2)))
struct OrchestratorTests {
    @Test(
        "SCR-08 INF-01: a referral is screened through the outbox; its deadlines, chronology and disclosure are on the case",
        arguments: TestStore.allCases)
    func pathway(_ store: TestStore) async throws {
        let intake = try await startIntake(store)
        let orchestrator = try await OrchestratorHost.start(store, intakePort: intake.port)
        let school = orchestrator.server.client(.socialCare)
        let view = try await school.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()),
            options: CallOptions(idempotencyKey: "school-1"))
        #expect(view.status == "screened")
        #expect(view.steps.map(\.status) == ["delivered"])
        #expect(view.screening?.threshold == "child protection")
        #expect(view.deadlines.contains { $0.taskId == "SCR-08/strategy-meeting/child-1" && $0.ruleId == "SCR-08" })
        #expect(view.chronology.count == 3 && view.chronology[1].ruleIds.contains("SCR-08"))
        #expect(view.chronology[2].ruleIds == ["GEN-01"] && view.chronology[2].what.hasPrefix("harmed-1, the child harmed, has a case of their own"))
        // INF-01 to INF-03: consent and "parents told" are different things, each recorded.
        #expect(view.disclosures.first?.toService == "intake" && view.disclosures.first?.parentsTold == "told")
        #expect(view.disclosures.first?.consent == "not sought; shared on its lawful basis (INF-02)")
        #expect(view.disclosures.first?.lawfulBasis == "Children Act 2004 (safeguarding); risk of significant harm")
        let again = try await school.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()),
            options: CallOptions(idempotencyKey: "school-1"))
        #expect(again.caseId == view.caseId, "a retried submission is the same case")
        #expect(try intake.records("referral", subjectID: "child-1").count == 1)
        let deadlines = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 60),
            options: CallOptions(purpose: "deadlines due"))
        #expect(deadlines.dueSoon.contains { $0.caseId == view.caseId && $0.ruleId == "SCR-18" })
        #expect(deadlines.overdue.isEmpty)
        await #expect(throws: RPCError(.invalidArgument, "purpose is required to read a case: say why you need it (INF-05)")) {
            try await school.call(OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: view.caseId))
        }
        // A task is marked done by the agency it falls to (or social care); it leaves the lists.
        await #expect(throws: RPCError(.permissionDenied, "education may not mark SCR-18/assessment/child-1 done: it falls to another agency")) {
            try await orchestrator.server.client(.education).call(
                OrchestratorV1.Orchestrator.Method.completeTask,
                OrchestratorV1.CompleteTaskRequest(caseId: view.caseId, taskId: "SCR-18/assessment/child-1"))
        }
        await #expect(throws: RPCError(.notFound, "no task of \(view.caseId) with id nope")) {
            try await school.call(
                OrchestratorV1.Orchestrator.Method.completeTask, OrchestratorV1.CompleteTaskRequest(caseId: view.caseId, taskId: "nope"))
        }
        let done = try await school.call(
            OrchestratorV1.Orchestrator.Method.completeTask,
            OrchestratorV1.CompleteTaskRequest(caseId: view.caseId, taskId: "SCR-18/assessment/child-1", note: "assessment signed off"))
        #expect(done.deadlines.first { $0.taskId == "SCR-18/assessment/child-1" }?.status == "done")
        #expect(done.chronology.last?.what.hasPrefix("Done: Complete the child and family assessment") == true)
        let afterDone = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 60),
            options: CallOptions(purpose: "deadlines due"))
        #expect(!afterDone.dueSoon.contains { $0.taskId == "SCR-18/assessment/child-1" })
        // INF-04: a school sees the case's status and its own work, not the rest.
        let schoolView = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: view.caseId),
            options: CallOptions(purpose: "safety plan"))
        #expect(schoolView.status == "screened" && schoolView.screening?.threshold == "child protection")
        #expect(schoolView.chronology.isEmpty && schoolView.disclosures.isEmpty && schoolView.deadlines.allSatisfy { $0.owner == .education })
        #expect(schoolView.screening?.decision?.rationale == "" && schoolView.withheld.contains("the chronology"))
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("A service that is down delays the step and never drops it; a restarted orchestrator resumes; nothing is doubled")
    func outageAndRestart() async throws {
        // Find a port for intake, then take intake away.
        let first = try await startIntake(.sqlite)
        let intakePort = first.port
        let intakeData = first.dataDir
        await first.stopKeepingData()
        // Held while intake is away, so that no other test's server takes its port meanwhile.
        let held = try BoundPort(port: intakePort, attempts: 30)

        var orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intakePort)
        let orchestratorData = orchestrator.server.dataDir
        let view = try await orchestrator.server.client(.police).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        #expect(view.status == "awaiting-screening")
        #expect(view.steps.first?.status == "pending" && view.steps.first?.attempts == 1)
        #expect(view.steps.first?.lastError.hasPrefix("UNAVAILABLE") == true)

        // The orchestrator restarts on its own records, and intake comes back.
        await orchestrator.server.stopKeepingData()
        orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intakePort, dataDir: orchestratorData)
        held.close()
        let intake = try await startIntake(.sqlite, port: intakePort, dataDir: intakeData)
        try await Task.sleep(for: .milliseconds(20))
        #expect(await orchestrator.deliverer.deliverDue() == 1)
        #expect(await orchestrator.deliverer.deliverDue() == 0, "a delivered step is not sent again")
        let resumed = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: view.caseId),
            options: CallOptions(purpose: "case review"))
        #expect(resumed.status == "screened" && resumed.steps.first?.status == "delivered" && resumed.steps.first?.attempts == 2)
        #expect(try intake.records("referral", subjectID: "child-1").count == 1)

        // A step delivered twice (a reply lost on the way back) is applied once: intake answers the same key with its first reply.
        let stepID = resumed.steps.first!.stepId
        let client = RPCClient(
            configuration: RPCClientConfiguration(host: "127.0.0.1", port: intakePort, retry: .none),
            signer: RequestSigner(agency: .orchestrator, secret: TestServiceHost.testSecrets[.orchestrator]!),
            group: MultiThreadedEventLoopGroup.singleton)
        let replay = try await client.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral()), options: CallOptions(idempotencyKey: stepID))
        #expect(replay.referralId == resumed.screening?.referralId)
        #expect(try intake.records("referral", subjectID: "child-1").count == 1)
        await client.close()
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("A hung agency does not hold the practitioner's call: the reply comes with the step still being sent, and the attempt's outcome is kept")
    func hungAgencyDoesNotHoldTheCall() async throws {
        // Intake's host takes the connection and never answers (a hung host, or a link cut after the handshake).
        let silent = try BoundPort()
        try silent.listenSilently()
        // The tests' hosts wait 30 s for a step by default; this one waits 200 ms, as a deployment waits 2 s.
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: silent.port, promptWait: .milliseconds(200))
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        // Answered while the attempt was still in flight (its deadline is 10 s): durable, owed, not yet tried out.
        #expect(view.status == "awaiting-screening")
        #expect(view.steps.map(\.status) == ["pending"] && view.steps.first?.attempts == 0)
        // The host goes away (its queued connections reset): the attempt that went on after the reply is recorded.
        silent.close()
        var attempted: OrchestratorV1.CaseView? = nil
        for _ in 0..<200 {
            let now = try await orchestrator.server.client(.socialCare).call(
                OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: view.caseId),
                options: CallOptions(purpose: "case review"))
            if now.steps.first?.attempts == 1 {
                attempted = now
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(attempted?.steps.first?.status == "pending", "the failed attempt leaves the step owed")
        #expect(attempted?.steps.first?.lastError.hasPrefix("UNAVAILABLE") == true)
        // Intake comes back on that port: the outbox delivers the step, once.
        let intake = try await startIntake(.sqlite, port: silent.port)
        var delivered = 0
        for _ in 0..<200 where delivered == 0 {
            delivered = await orchestrator.deliverer.deliverDue()
            if delivered == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(delivered == 1)
        #expect(try intake.records("referral", subjectID: "child-1").count == 1)
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("One open case per child: a second referral within 7 days joins it as a repeat concern; a likely duplicate child is flagged, not merged")
    func repeatAndDuplicate() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let school = orchestrator.server.client(.socialCare)
        var first = referral()
        first.child?.familyName = "O'Neil"
        first.child?.postcode = "NW5 1AA"
        let opened = try await school.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: first))
        var second = first
        second.referrer = "GP surgery"
        let joined = try await orchestrator.server.client(.police).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: second))
        #expect(joined.caseId == opened.caseId && joined.referrals == 2)
        #expect(joined.alerts.contains { $0.hasPrefix("Repeat concern") })
        #expect(joined.steps.count == 2 && joined.steps.allSatisfy { $0.status == "delivered" })
        #expect(joined.chronology.filter { $0.what.hasPrefix("Referral received") }.count == 2)

        var twin = first
        twin.child?.subjectID = "child-9"
        twin.child?.familyName = "oneil"
        twin.child?.postcode = "nw51aa"
        let flagged = try await school.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: twin))
        #expect(flagged.caseId != opened.caseId, "never merged automatically")
        #expect(flagged.alerts.contains { $0.hasPrefix("Possible duplicate child") && $0.contains("child-1") })
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test(
        "YJ-02 YJ-08 INF-01 INF-07: events recorded through the orchestrator reach youth justice; their deadlines join the case",
        arguments: TestStore.allCases)
    func events(_ store: TestStore) async throws {
        let intake = try await startIntake(store)
        let youthJustice = try await TestServiceHost.start(.youthJustice, store: store, migrations: YouthJusticeService.migrations) {
            YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar())
        }
        let orchestrator = try await OrchestratorHost.start(store, intakePort: intake.port, youthJusticePort: youthJustice.port)
        let social = orchestrator.server.client(.socialCare)
        let opened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let person = YouthjusticeV1.YoungPerson(subjectId: "child-1", dateOfBirth: referral().child?.dateOfBirth)
        let charge = try YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: person, decision: .charge).encoded()
        let afterCharge = try await orchestrator.server.client(.police).call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(
                caseId: opened.caseId, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: charge),
            options: CallOptions(purpose: "police decision"))
        #expect(afterCharge.chronology.last?.what.hasPrefix("youth-justice: police-decision: charge") == true)
        // The reply names the step this call wrote, and that step landed.
        #expect(
            !afterCharge.stepId.isEmpty
                && afterCharge.steps.first { $0.stepId == afterCharge.stepId }?.method
                    == YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName
        )
        #expect(afterCharge.steps.first { $0.stepId == afterCharge.stepId }?.status == "delivered")
        #expect(afterCharge.chronology.last?.ruleIds.contains("YJ-02") == true)
        // YJ-02 YJ-04: the case now shows the criminal justice route, led by youth justice with a
        // social care co-worker, in place of intake's concern route.
        #expect(opened.routes.contains { $0.route == "concern" })
        let criminal = try #require(afterCharge.routes.first { $0.route == "criminal-justice" })
        #expect(criminal.lead == "youth-justice" && criminal.coWorker == "social-care" && criminal.ruleIds == ["YJ-02", "YJ-04"])
        #expect(!afterCharge.routes.contains { $0.route == "concern" } && afterCharge.routes.contains { $0.route == "child-protection" })
        #expect(afterCharge.disclosures.contains { $0.toService == "youth-justice" && $0.lawfulBasis.contains("s115") })
        // INF-06: youth justice telling the contact service the child entered the criminal justice system is on the ledger too.
        #expect(afterCharge.disclosures.contains { $0.toService == "contact-service" && $0.purpose.contains("(INF-06)") })
        let court = try YouthjusticeV1.RecordCourtOutcomeRequest(youngPerson: person, plea: .guilty).encoded()
        let afterCourt = try await social.call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(
                caseId: opened.caseId, method: YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName, payload: court))
        #expect(afterCourt.deadlines.contains { $0.ruleId == "YJ-08" && $0.taskId == "YJ-08/pre-sentence-report/child-1" })
        #expect(afterCourt.deadlines.contains { $0.ruleId == "SCR-08" }, "the screening's deadlines are kept")
        #expect(try youthJustice.records("youth-justice-plan", subjectID: "child-1").count == 2)
        // A strategy meeting recorded through the orchestrator completes the strategy meeting task.
        let referralID = try #require(afterCourt.screening?.referralId)
        let meeting = try IntakeV1.RecordStrategyMeetingRequest(
            referralId: referralID, subjectIds: ["child-1"], chairRole: "social-care",
            invitees: [
                IntakeV1.Invitee(role: "social-care", attended: true), IntakeV1.Invitee(role: "youth-justice", attended: true),
                IntakeV1.Invitee(role: "police", attended: true), IntakeV1.Invitee(role: "health", writtenReport: true),
            ],
            outcome: .section47Joint, significantHarm: true, safetyPlanAgreed: true, mappaReferralConsidered: true,
            exploitationReferralConsidered: true
        ).encoded()
        let afterMeeting = try await social.call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(caseId: opened.caseId, method: IntakeV1.Intake.Method.recordStrategyMeeting.fullName, payload: meeting))
        #expect(afterMeeting.deadlines.first { $0.taskId == "SCR-08/strategy-meeting/child-1" }?.status == "done")
        // INF-07: minutes go to each agency that attended or reported, and each share is on the ledger.
        let minutes = afterMeeting.disclosures.filter { $0.purpose.contains("INF-07") }
        #expect(Set(minutes.map(\.toService)) == ["social-care", "youth-justice", "police", "health"])
        #expect(minutes.allSatisfy { $0.what.hasPrefix("Minutes of the strategy meeting") && $0.lawfulBasis.contains("Children Act 2004") })
        #expect(afterMeeting.deadlines.first { $0.taskId == "SCR-08/strategy-meeting/child-1" }?.completedBy == "intake")
        // STR-07: closure recorded through the orchestrator closes the case; a new referral opens a new one.
        let closure = try IntakeV1.RecordCaseEventRequest(
            referralId: referralID, kind: .closure, levelOfRisk: "low", outcomesAchieved: "plan completed", carersCapacity: "good",
            ongoingSupport: "school mentor", agreedBy: ["social-care", "youth-justice"], longTermMonitoringConsidered: true
        ).encoded()
        let closed = try await social.call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(caseId: opened.caseId, method: IntakeV1.Intake.Method.recordCaseEvent.fullName, payload: closure))
        #expect(closed.status == "closed")
        let reopened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        #expect(reopened.caseId != opened.caseId)
        await #expect(throws: RPCError.self) {
            try await social.call(
                OrchestratorV1.Orchestrator.Method.recordEvent,
                OrchestratorV1.RecordEventRequest(caseId: opened.caseId, method: MappaV1.Mappa.Method.recordLevel.fullName, payload: []))
        }
        await #expect(throws: RPCError(.notFound, "no case with id case-nope")) {
            try await social.call(
                OrchestratorV1.Orchestrator.Method.recordEvent,
                OrchestratorV1.RecordEventRequest(
                    caseId: "case-nope", method: YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName, payload: court))
        }
        await orchestrator.server.stop()
        await youthJustice.stop()
        await intake.stop()
    }

    @Test(
        "MP-04 MP-02 INF-05: a conviction opens the MAPPA screening route; the screening recorded through the orchestrator reaches MAPPA and answers the task; overdue work is gauged by kind"
    )
    func mappaRouteAndOverdueByKind() async throws {
        let intake = try await startIntake(.sqlite)
        let youthJustice = try await TestServiceHost.start(.youthJustice, store: .sqlite, migrations: YouthJusticeService.migrations) {
            YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar())
        }
        let mappa = try await TestServiceHost.start(.mappa, store: .sqlite, migrations: MappaService.migrations) { MappaService.handlers($0) }
        let orchestrator = try await OrchestratorHost.start(
            .sqlite, intakePort: intake.port, youthJusticePort: youthJustice.port, mappaPort: mappa.port)
        let youthJusticeClient = orchestrator.server.client(.youthJustice)
        let opened = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let person = YouthjusticeV1.YoungPerson(subjectId: "child-1", dateOfBirth: referral().child?.dateOfBirth)
        let court = try YouthjusticeV1.RecordCourtOutcomeRequest(youngPerson: person, plea: .guilty).encoded()
        let convicted = try await youthJusticeClient.call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(
                caseId: opened.caseId, method: YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName, payload: court),
            options: CallOptions(purpose: "court outcome"))
        let task = try #require(convicted.deadlines.first { $0.ruleId == "MP-04" })
        #expect(task.owner == .youthJustice && task.status == "open")
        #expect(convicted.chronology.contains { $0.what.hasPrefix("MAPPA screening route opened") && $0.ruleIds == ["MP-04", "MP-02"] })
        #expect(try mappa.records("mappa-screening", subjectID: "child-1").isEmpty, "nothing reaches MAPPA before youth justice screens")

        // Overdue work by kind: counted as of a day long after every deadline.
        await orchestrator.deliverer.count(asOf: Int64(Date().timeIntervalSince1970 * 1000) + 400 * 86_400_000)
        let metrics = orchestrator.server.host.metrics.prometheusText()
        let dated = convicted.deadlines.filter { $0.status != "done" && $0.dueUnixMs > 0 }
        #expect(metrics.contains("hsb_orchestrator_deadlines_overdue \(Double(dated.count))\n"))
        #expect(!metrics.contains("rule=\"MP-04\""), "work without a time limit is never overdue")
        #expect(
            metrics.contains("hsb_orchestrator_deadlines_overdue_by_kind{rule=\"YJ-08\",task=\"pre-sentence-report\",owner=\"youth-justice\"} 1.0"))

        let screening = try MappaV1.ScreenRequest(
            subjectId: "child-1", dateOfBirth: referral().child?.dateOfBirth, subjectToNotificationRequirements: true,
            youthJusticeScreeningDone: true, panelDiscussed: true, sentence: .other
        ).encoded()
        let screened = try await youthJusticeClient.call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(caseId: opened.caseId, method: MappaV1.Mappa.Method.screen.fullName, payload: screening),
            options: CallOptions(purpose: "MAPPA screening"))
        #expect(screened.steps.last?.status == "delivered", "\(screened.steps.last?.lastError ?? "")")
        #expect(screened.deadlines.first { $0.taskId == task.taskId }?.status == "done")
        #expect(screened.chronology.last?.what.hasPrefix("mappa: MAPPA screening: category 1") == true)
        let screenings = try mappa.records("mappa-screening", subjectID: "child-1")
        #expect(screenings.count == 1)
        let record = try #require(screenings.first)
        // INF-05: MAPPA's own access log says whom the orchestrator acted for, and why.
        #expect(
            try mappa.accessLog("mappa-screening", recordID: record.id).map { "\($0.agency): \($0.purpose)" } == [
                "orchestrator: MAPPA screening, for youth-justice (youth-justice.worker)"
            ])
        await orchestrator.server.stop()
        await mappa.stop()
        await youthJustice.stop()
        await intake.stop()
    }

    @Test("Overdue lists and gauges read an index of open deadlines, kept with every case write and rebuilt for a store without one")
    func openDeadlineIndex() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let social = orchestrator.server.client(.socialCare)
        let opened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let dated = opened.deadlines.filter { $0.dueUnixMs > 0 && $0.status != "done" }
        #expect(!dated.isEmpty)
        let later = Int64(Date().timeIntervalSince1970 * 1000) + 400 * 86_400_000
        func overdueTotal() async -> String? {
            await orchestrator.deliverer.count(asOf: later)
            return orchestrator.server.host.metrics.prometheusText().split(separator: "\n").first {
                $0.hasPrefix("hsb_orchestrator_deadlines_overdue ")
            }.map(String.init)
        }
        #expect(await overdueTotal() == "hsb_orchestrator_deadlines_overdue \(Double(dated.count))")
        // Marking a task done takes it out of the index.
        let done = try await social.call(
            OrchestratorV1.Orchestrator.Method.completeTask, OrchestratorV1.CompleteTaskRequest(caseId: opened.caseId, taskId: dated[0].taskId))
        #expect(done.deadlines.first { $0.taskId == dated[0].taskId }?.status == "done")
        #expect(await overdueTotal() == "hsb_orchestrator_deadlines_overdue \(Double(dated.count - 1))")
        // The deadlines table holds every deadline of the case; the done one has who and when.
        let rows = try orchestrator.rows(
            "SELECT task_id, completed_by, completed_at_unix_ms FROM case_deadlines WHERE case_id = ? AND due_unix_ms > 0 ORDER BY position",
            [.text(opened.caseId)])
        #expect(rows.filter { $0[2] == nil }.count == dated.count - 1)
        #expect(rows.first { $0[0] == dated[0].taskId }.map { $0[1] != nil && $0[2] != nil } == true)
        // ListDeadlines reads the same rows: everything is overdue a little over a year from now.
        let listed = try await social.call(
            OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 500),
            options: CallOptions(purpose: "deadlines due"))
        #expect(listed.dueSoon.count + listed.overdue.count == dated.count - 1)
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("A case is a row of the cases table with its document; its deadlines, disclosures and steps are rows a person can query")
    func typedTables() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let social = orchestrator.server.client(.socialCare)
        let opened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let caseRow = try #require(
            try orchestrator.rows("SELECT child_subject_id, status, version, document FROM cases WHERE case_id = ?", [.text(opened.caseId)]).first)
        #expect(caseRow[0] == "child-1" && caseRow[1] == opened.status && caseRow[2] == String(opened.version))
        let state = try #require(try orchestrator.cases(ofChild: "child-1").first)
        #expect(try caseRow[3].flatMap { SQLValue.bytes(fromHex: $0) } == state.stored.encoded())
        #expect(state.screening != nil && !state.referrals.isEmpty && !state.deadlines.isEmpty && !state.chronology.isEmpty)
        let deadlines = try orchestrator.rows(
            "SELECT task_id, rule_id, owner, due_unix_ms FROM case_deadlines WHERE case_id = ? ORDER BY position", [.text(opened.caseId)])
        #expect(deadlines.map { $0[0] ?? "" } == state.deadlines.map(\.taskID))
        #expect(deadlines.map { $0[2] ?? "" } == state.deadlines.map { Agency(rawValue: $0.owner).name })
        let disclosures = try orchestrator.rows(
            "SELECT to_service, lawful_basis, seq FROM disclosures WHERE case_id = ? ORDER BY position", [.text(opened.caseId)])
        #expect(disclosures.count == state.disclosures.count && !disclosures.isEmpty)
        #expect(disclosures.map { $0[0] ?? "" } == state.disclosures.map(\.toService))
        let steps = try orchestrator.rows("SELECT agency, method, status, payload FROM outbox WHERE case_id = ?", [.text(opened.caseId)])
        #expect(steps.count == opened.steps.count && steps.allSatisfy { $0[0] == "intake" && $0[2] == "delivered" })
        #expect(try orchestrator.steps(ofCase: opened.caseId).map(\.stepID) == opened.steps.map(\.stepId))
        // The ledger's chain is whole.
        let report = try orchestrator.server.host.store.snapshot(now: 0) { tx throws(RecordStoreError) in
            do throws(StorageError) { return try CaseTables.disclosureChain.verify(tx.sql) } catch { throw .storage(error) }
        }
        #expect(report.broken == nil && report.rows == disclosures.count)
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("A case with every field set survives its protobuf record whole (no field is dropped on the way to the store)")
    func everyFieldStored() throws {
        var state = CaseState(
            caseID: "case-1", childSubjectID: "child-1", status: .screened, referrals: [Data([1, 2])], referralTimes: [5], screening: Data([3]),
            alerts: ["alert"], identity: "id", chronology: [.init(at: 1, what: "w", ruleIDs: ["R-1"])],
            disclosures: [.init(at: 2, toService: "s", what: "w", purpose: "p", lawfulBasis: "b", consent: "c", parentsTold: "told")],
            deadlines: [.init(taskID: "t", description: "d", owner: 1, assignee: "a", due: 3, ruleID: "R", completedBy: "x", completedAt: 4)])
        state.role = .personHarmed
        state.linked = [.init(caseID: "case-2", subjectID: "child-2", role: .childDisplayingHSB, threshold: "child protection")]
        state.threshold = "child in need"
        state.consent = "given by the parents (INF-03)"
        state.parentsTold = "told"
        state.routes = [.init(route: "criminal-justice", lead: "youth-justice", coWorker: "social-care", ruleIDs: ["YJ-02"])]
        #expect(state.body.hasPrefix("pb1:"))
        #expect(CaseState(body: state.body) == state)
    }

    @Test("INF-01: an agency asks what was shared about a child and with whom; overdue work and the outbox show in /metrics")
    func disclosuresAndMetrics() async throws {
        let intake = try await startIntake(.sqlite)
        let intakePort = intake.port
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intakePort)
        let opened = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let shared = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.listDisclosures, OrchestratorV1.ListDisclosuresRequest(childSubjectId: "child-1"),
            options: CallOptions(purpose: "subject access request"))
        // INF-01: the referral to intake, and every notice the screening sent, each with its basis.
        #expect(Set(shared.items.map(\.caseId)) == [opened.caseId] && shared.items.count > 1)
        #expect(shared.items.contains { $0.disclosure?.toService == "police" && $0.disclosure?.purpose.contains("(STR-01)") == true })
        #expect(
            shared.items.first?.disclosure?.toService == "intake" && shared.items.first?.disclosure?.lawfulBasis.contains("Children Act 2004") == true
        )
        let downPort = intake.port
        await intake.stopKeepingData()
        // Held while intake is away, so that no other test's server takes its port meanwhile.
        let held = try BoundPort(port: downPort, attempts: 30)
        defer { held.close() }
        _ = try await orchestrator.server.client(.police).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral(child: "child-2")))
        try await Task.sleep(for: .milliseconds(1100))
        await orchestrator.deliverer.count()
        let metrics = orchestrator.server.host.metrics.prometheusText()
        #expect(metrics.contains("hsb_orchestrator_outbox_pending 1.0"))
        #expect(metrics.contains("hsb_orchestrator_deadlines_overdue 0.0"))
        // The step intake has not received has waited since it was written (the alert's input).
        let waited = metrics.split(separator: "\n").first { $0.hasPrefix("hsb_orchestrator_outbox_oldest_pending_seconds ") }
        #expect(waited.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 1 && $0 < 60 } == true, "\(String(describing: waited))")
        await orchestrator.server.stop()
        try? FileManager.default.removeItem(atPath: intake.dataDir)
    }

    @Test(
        "MH-01 MH-02 SCR-12: the orchestrator opens the CAMHS route itself; a second concern notifies CAMHS; notices owed outside the suite are on the chronology"
    )
    func camhsRoute() async throws {
        let intake = try await startIntake(.sqlite)
        let camhs = try await TestServiceHost.start(.camhs, store: .sqlite, migrations: CamhsService.migrations) { CamhsService.handlers($0) }
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port, camhsPort: camhs.port)
        var concern = referral()
        concern.mentalHealthConcern = true
        concern.child?.homeAuthority = "Barnet"
        let opened = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: concern))
        #expect(await orchestrator.deliverer.deliverDue() == 1)
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: opened.caseId), options: CallOptions(purpose: "review"))
        #expect(view.steps.map(\.service) == ["intake", "camhs"] && view.steps.allSatisfy { $0.status == "delivered" })
        #expect(view.chronology.contains { $0.what == "CAMHS route opened: referral to CAMHS" })
        #expect(view.chronology.contains { $0.what.contains("camhs: CAMHS referral: accepted") })
        #expect(view.chronology.contains { $0.what.hasPrefix("Notice owed to home-authority") && $0.ruleIds == ["SCR-12"] })
        #expect(try camhs.records("camhs-referral", subjectID: "child-1").count == 1)
        _ = try await orchestrator.server.client(.health).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: concern))
        await orchestrator.deliverer.deliverDue()
        #expect(try camhs.records("camhs-notification", subjectID: "child-1").count == 1, "the second concern notifies the team")
        await orchestrator.server.stop()
        await camhs.stop()
        await intake.stop()
    }

    @Test("An agency's refusal is recorded on the case, not retried for ever")
    func refusal() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        var bad = referral()
        bad.behaviours = [IntakeV1.Behaviour(catalogueId: "brook/0-5/red/1")]
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: bad))
        #expect(view.status == "refused")
        #expect(view.steps.first?.status == "refused")
        #expect(view.chronology.last?.what.contains("is for the 0-5 band") == true)
        #expect(await orchestrator.deliverer.deliverDue() == 0)
        // Nothing personal from a refused referral stays: not the referral, not the child's
        // identity for duplicate finding, not the step's copy of the request.
        let stored = try #require(try orchestrator.cases(ofChild: "child-1").first)
        #expect(stored.referrals.isEmpty && stored.identity.isEmpty && stored.screening == nil)
        let steps = try orchestrator.steps(ofCase: view.caseId)
        #expect(!steps.isEmpty && steps.allSatisfy { $0.payload.isEmpty })
        #expect(try orchestrator.rows("SELECT case_id FROM case_identities").isEmpty)
        await orchestrator.server.stop()
        await intake.stop()
    }
}
