import CamhsService
import Foundation
import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import IntakeService
import Logging
import MappaService
import NIOPosix
import Synchronization
import Testing
import YouthJusticeService

@testable import HSBRuntime
@testable import OrchestratorService

/// A flag shared with the listener's thread.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func store(_ flag: Bool) { value.store(flag, ordering: .relaxed) }
}

/// A loopback socket listening on a free port.
func listeningSocket() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound, listen(fd, 16) == 0 else { throw RPCError(.internal, "listener could not bind") }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A count shared with a listener's thread.
final class Tally: Sendable {
    private let value = Atomic<Int>(0)
    var count: Int { value.load(ordering: .relaxed) }
    func add() { value.wrappingAdd(1, ordering: .relaxed) }
}

/// Sockets a listener's thread holds open.
final class Sockets: Sendable {
    private let fds = Mutex<[Int32]>([])
    func keep(_ fd: Int32) { fds.withLock { $0.append(fd) } }
    var all: [Int32] { fds.withLock { $0 } }
}

/// A TCP listener that reads a request and drops the connection without answering: a receiver
/// that crashes on the step it is sent.
final class DroppingListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let stopped = StopFlag()
    private let accepted = Tally()
    /// Connections taken so far.
    var connections: Int { accepted.count }

    init() throws {
        let (fd, port) = try listeningSocket()
        self.fd = fd
        self.port = port
        let stopped = self.stopped
        let accepted = self.accepted
        Thread.detachNewThread {
            while !stopped.isSet {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                accepted.add()
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                close(client)
            }
        }
    }

    func stop() {
        stopped.store(true)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// A TCP listener that takes connections and reads from them, and never answers nor closes: an
/// agency service that hangs.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let stopped = StopFlag()
    private let held = Sockets()

    init() throws {
        let (fd, port) = try listeningSocket()
        self.fd = fd
        self.port = port
        let stopped = self.stopped
        let held = self.held
        Thread.detachNewThread {
            while !stopped.isSet {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                held.keep(client)
            }
        }
    }

    func stop() {
        stopped.store(true)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for client in held.all { close(client) }
    }
}

@Suite("Hardening of the orchestrator and the agency services", .timeLimit(.minutes(2)))
struct OrchestratorHardeningTests {
    /// Every relayable act, for every agency that may call the orchestrator: refused up front
    /// unless the owning service's table lets that agency do it.
    @Test("The orchestrator refuses up front, for every event kind and every agency, what the owning service would refuse")
    func relayedActsRefusedUpFront() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        for agency in ServiceDescriptor.orchestrator.callers.sorted(by: { $0.rawValue < $1.rawValue }) {
            let client = orchestrator.server.client(agency)
            for method in RelayedActs.actors.keys.sorted() {
                do {
                    _ = try await client.call(
                        OrchestratorV1.Orchestrator.Method.recordEvent,
                        OrchestratorV1.RecordEventRequest(caseId: "case-none", method: method, payload: [0x08]), options: CallOptions(purpose: "test")
                    )
                    Issue.record("\(agency.name) \(method) succeeded on a case that does not exist")
                } catch {
                    if RelayedActs.permits(agency, method) {
                        // Past authorisation: then the (deliberately bad) payload is refused, naming the method's message.
                        #expect(error.code == .invalidArgument, "\(agency.name) may do \(method): \(error)")
                        #expect(error.message.hasPrefix("payload of "))
                    } else {
                        #expect(error.code == .permissionDenied, "\(agency.name) may not do \(method)")
                        #expect(error.message.hasPrefix("\(agency.name) may not record"))
                    }
                }
            }
            await client.close()
        }
        // The attack as found: a school recording a charge, a guilty outcome and a MAPPA screening.
        #expect(!RelayedActs.permits(.education, YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName))
        #expect(!RelayedActs.permits(.health, YouthjusticeV1.YouthJustice.Method.recordCourtOutcome.fullName))
        #expect(!RelayedActs.permits(.camhs, MappaV1.Mappa.Method.screen.fullName))
        await orchestrator.server.stop()
        await intake.stop()
    }

    /// The owning service's own check: the acting agency inside the orchestrator's credential is
    /// authorised with the method's policy, for every relayable method and every agency.
    @Test("The owning service authorises a relayed act for the agency that did it, with its own table")
    func owningServiceAuthorisesTheActor() throws {
        let secrets: [Agency: AgencySecret] = [.orchestrator: AgencySecret.random(), .police: AgencySecret.random()]
        let authenticator = Authenticator(secrets: secrets)
        for method in RelayedActs.actors.keys.sorted() {
            let policy = RelayedActs.policy(method)
            for agency in Agency.allCases where agency != .unspecified {
                var request = RequestEnvelope(requestID: 1, method: method, payload: [1])
                RequestSigner(agency: .orchestrator, secret: secrets[.orchestrator]!)
                    .sign(&request, acting: RelayedActor(agency: agency, user: "worker"))
                do {
                    let caller = try authenticator.authenticate(request, policy: policy)
                    #expect(RelayedActs.permits(agency, method), "\(agency.name) was let do \(method) through the orchestrator")
                    #expect(caller?.actingAgency == agency && caller?.actingFor?.user == "worker")
                } catch {
                    #expect(!RelayedActs.permits(agency, method) || agency == .orchestrator, "\(agency.name) \(method): \(error)")
                    #expect(error.code == .permissionDenied)
                }
            }
        }
        // Only the orchestrator relays; the acting agency cannot be changed after signing.
        var byPolice = RequestEnvelope(requestID: 2, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: [1])
        RequestSigner(agency: .police, secret: secrets[.police]!).sign(&byPolice, acting: RelayedActor(agency: .youthJustice, user: "x"))
        #expect(throws: RPCError(.permissionDenied, "agency police may not relay acts for another agency")) {
            try authenticator.authenticate(byPolice, policy: RelayedActs.policy(YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName))
        }
        var forged = RequestEnvelope(requestID: 3, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: [1])
        RequestSigner(agency: .orchestrator, secret: secrets[.orchestrator]!).sign(&forged, acting: RelayedActor(agency: .education, user: "x"))
        forged.credential?.actingAgency = .police
        #expect(throws: RPCError(.unauthenticated, "signature does not match for agency orchestrator; check the shared secret")) {
            try authenticator.authenticate(forged, policy: RelayedActs.policy(YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName))
        }
    }

    @Test("Extreme dates and counts are INVALID_ARGUMENT at intake, youth justice and MAPPA, and each service keeps serving")
    func extremeValuesAtEveryService() async throws {
        let intake = try await startIntake(.sqlite)
        let youthJustice = try await TestServiceHost.start(.youthJustice, store: .sqlite, migrations: YouthJusticeService.migrations) {
            YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar())
        }
        let mappa = try await TestServiceHost.start(.mappa, store: .sqlite, migrations: MappaService.migrations) { MappaService.handlers($0) }
        var ancient = referral()
        ancient.child?.dateOfBirth = CalendarDate(year: .min, month: 1, day: 1)
        let social = intake.client(.socialCare)
        await #expect(
            throws: RPCError(.invalidArgument, "request payload: hsb.common.v1.Subject.date_of_birth year -2147483648 is outside 1900-2200")
        ) {
            try await social.call(IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: ancient))
        }
        // Dates of birth that are real dates but cannot be a child's, and blank or over-long fields.
        let year = Int32(Calendar(identifier: .gregorian).component(.year, from: Date()))
        let cases: [(String, (inout IntakeV1.Referral) -> Void)] = [
            (
                "referral.child.date_of_birth \(year + 1)-01-01 is after the referral was received",
                { $0.child?.dateOfBirth = .init(year: year + 1, month: 1, day: 1) }
            ),
            (
                "is after the incident",
                {
                    $0.incidentDate = .init(year: year - 14, month: 1, day: 1); $0.child?.dateOfBirth = .init(year: year - 13, month: 1, day: 1)
                }
            ),
            ("is more than 25 years before the referral was received", { $0.child?.dateOfBirth = .init(year: 1950, month: 1, day: 1) }),
            ("referral.child.subject_id must not be blank", { $0.child?.subjectID = "   " }),
            ("referral.child.given_name is 101 characters; at most 100 are allowed", { $0.child?.givenName = String(repeating: "a", count: 101) }),
            (
                "referral.behaviours has 101 entries; at most 100 are allowed",
                {
                    $0.behaviours = Array(repeating: IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8"), count: 101)
                }
            ),
        ]
        for (expected, change) in cases {
            var bad = referral()
            change(&bad)
            do {
                _ = try await social.call(
                    IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: bad))
                Issue.record("accepted: \(expected)")
            } catch {
                #expect(error.code == .invalidArgument && error.message.contains(expected), "\(error)")
            }
        }
        #expect(try intake.records("referral", subjectID: "child-1").isEmpty)
        let person = YouthjusticeV1.YoungPerson(subjectId: "child-1", dateOfBirth: CalendarDate(year: year - 15, month: 1, day: 1))
        await #expect(
            throws: RPCError(.invalidArgument, "request payload: hsb.youthjustice.v1.PlanReleaseRequest.date year 2147483647 is outside 1900-2200")
        ) {
            try await youthJustice.client(.youthJustice).call(
                YouthjusticeV1.YouthJustice.Method.planRelease,
                YouthjusticeV1.PlanReleaseRequest(youngPerson: person, date: CalendarDate(year: .max, month: 1, day: 1)))
        }
        await #expect(
            throws: RPCError(.invalidArgument, "request payload: hsb.mappa.v1.RecordLevelRequest.next_review year 2147483647 is outside 1900-2200")
        ) {
            try await mappa.client(.mappa).call(
                MappaV1.Mappa.Method.recordLevel,
                MappaV1.RecordLevelRequest(subjectId: "child-1", level: 2, nextReview: CalendarDate(year: .max, month: 1, day: 1), planSummary: "p"))
        }
        // An enum value only a newer peer knows, where it must be acted on: that request is refused, naming it.
        await #expect(throws: RPCError(.invalidArgument, "decision has value 42, which this version of the service does not know")) {
            try await youthJustice.client(.police).call(
                YouthjusticeV1.YouthJustice.Method.recordPoliceDecision,
                YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: person, decision: .unrecognized(42)))
        }
        // Each service still answers a real request.
        let fine = try await social.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral()))
        #expect(fine.outcome == "screened")
        await intake.stop()
        await youthJustice.stop()
        await mappa.stop()
    }

    @Test("A step that may have landed is not sent again once older than the idempotency window: it goes to the dead letters, saying why")
    func stepsPastTheIdempotencyWindowAreNotResent() async throws {
        let intake = try await startIntake(.sqlite)
        let dropping = try DroppingListener()
        let clock = SettableClock()
        let orchestrator = try await OrchestratorHost.start(
            .sqlite, intakePort: intake.port, youthJusticePort: dropping.port, clock: clock, idempotencyWindowDays: 1)
        let opened = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let person = YouthjusticeV1.YoungPerson(subjectId: "child-1", dateOfBirth: referral().child?.dateOfBirth)
        let charge = try YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: person, decision: .charge).encoded()
        // The first attempt reaches youth justice, which drops the connection: it may have landed.
        let recorded = try await orchestrator.server.client(.police).call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(
                caseId: opened.caseId, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: charge),
            options: CallOptions(purpose: "police decision"))
        let ops = orchestrator.server.client(.ops)
        func entry() async throws -> OrchestratorV1.OutboxEntry? {
            try await ops.call(
                OrchestratorV1.Orchestrator.Method.listOutbox, OrchestratorV1.ListOutboxRequest(), options: CallOptions(purpose: "triage")
            ).entries.first { $0.stepId == recorded.stepId }
        }
        #expect(try await entry()?.failuresAfterSend == 1)
        let sent = dropping.connections
        // Two days on, past the one-day window: the agency may have forgotten the key.
        clock.advance(by: .seconds(2 * 86_400))
        _ = await orchestrator.deliverer.deliverDue()
        let given = try #require(try await entry())
        #expect(given.state == .dead)
        #expect(given.lastError.contains("older than the 1-day idempotency window"), "\(given.lastError)")
        #expect(dropping.connections == sent, "it was not sent again")
        dropping.stop()
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test("An agency that takes connections and never answers holds up only its own steps: each agency's steps go out on a lane of their own")
    func lanesPerAgency() async throws {
        let intakeData = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-lanes-\(UUID().uuidString)").path
        let intake = try await startIntake(.sqlite, dataDir: intakeData)
        let intakePort = intake.port
        let silent = try SilentListener()
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intakePort, youthJusticePort: silent.port)
        let social = orchestrator.server.client(.socialCare)
        let opened = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let referralID = try #require(opened.screening?.referralId)
        // A police decision for youth justice, which hangs: its first attempt waits out its deadline.
        let person = YouthjusticeV1.YoungPerson(subjectId: "child-1", dateOfBirth: referral().child?.dateOfBirth)
        let charge = try YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: person, decision: .charge).encoded()
        let police = orchestrator.server.client(.police)
        let hanging = Task {
            try await police.call(
                OrchestratorV1.Orchestrator.Method.recordEvent,
                OrchestratorV1.RecordEventRequest(
                    caseId: opened.caseId, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: charge),
                options: CallOptions(purpose: "police decision"))
        }
        func steps() async throws -> [OrchestratorV1.OutboxEntry] {
            try await orchestrator.server.client(.ops).call(
                OrchestratorV1.Orchestrator.Method.listOutbox, OrchestratorV1.ListOutboxRequest(), options: CallOptions(purpose: "test")
            ).entries
        }
        var waiting: [OrchestratorV1.OutboxEntry] = []
        for _ in 0..<200 where waiting.isEmpty {
            waiting = try await steps().filter { $0.service == "youth-justice" }
            if waiting.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        let hung = try #require(waiting.first)
        // While intake is down, a case event for intake waits in the outbox too.
        await intake.stopKeepingData()
        // Held while intake is away, so that no other test's server takes its port meanwhile.
        let held = try BoundPort(port: intakePort, attempts: 30)
        let followUp = try IntakeV1.RecordCaseEventRequest(referralId: referralID, kind: .writtenFollowUpReceived).encoded()
        let recorded = try await social.call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(caseId: opened.caseId, method: IntakeV1.Intake.Method.recordCaseEvent.fullName, payload: followUp),
            options: CallOptions(purpose: "written follow-up"))
        #expect(try await steps().first { $0.stepId == recorded.stepId }?.state == .pending)
        held.close()
        let back = try await startIntake(.sqlite, port: intakePort, dataDir: intakeData)
        // One pass: youth justice's lane waits on the silent service; intake's does not wait for it.
        let pass = Task { await orchestrator.deliverer.deliverDue() }
        var stillOwed = true
        for _ in 0..<500 where stillOwed {
            stillOwed = try await steps().contains { $0.stepId == recorded.stepId }
            if stillOwed { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(!stillOwed, "intake's step was delivered (a delivered step leaves the steps owed)")
        let youthJustice = try #require(try await steps().first { $0.stepId == hung.stepId })
        #expect(youthJustice.state == .pending && youthJustice.attempts == 0, "the hung agency's step is still on its first attempt")
        silent.stop()
        _ = try? await hanging.value
        _ = await pass.value
        await back.stop()
        await orchestrator.server.stop()
    }

    @Test("A step whose receiver drops the connection every time goes to the dead letters; an operator retries or discards it, on the record")
    func poisonStepsAreQuarantined() async throws {
        let intake = try await startIntake(.sqlite)
        let dropping = try DroppingListener()
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port, youthJusticePort: dropping.port)
        let opened = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        let person = YouthjusticeV1.YoungPerson(subjectId: "child-1", dateOfBirth: referral().child?.dateOfBirth)
        let charge = try YouthjusticeV1.RecordPoliceDecisionRequest(youngPerson: person, decision: .charge).encoded()
        let recorded = try await orchestrator.server.client(.police).call(
            OrchestratorV1.Orchestrator.Method.recordEvent,
            OrchestratorV1.RecordEventRequest(
                caseId: opened.caseId, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: charge),
            options: CallOptions(purpose: "police decision"))
        let stepID = recorded.stepId
        // Each pass tries what is due; after five failures that reached the receiver, it stops.
        for _ in 0..<40 {
            _ = await orchestrator.deliverer.deliverDue()
            try await Task.sleep(for: .milliseconds(10))
        }
        let ops = orchestrator.server.client(.ops)
        // What an operator types: hsbctl outbox list --dead shows the step, whom it acts for and why it failed.
        let operatorEnvironment = [
            "HSB_SECRET": TestServiceHost.testSecrets[.ops]!.hex, "HSB_AGENCY": "ops", "HSB_USER": "ops.worker",
            "HSB_ORCHESTRATOR": "127.0.0.1:\(orchestrator.server.port)",
        ]
        let listed = try await offloaded { try hsbctl(["outbox", "list", "--dead", "--purpose", "triage"], environment: operatorEnvironment) }
        #expect(listed.status == 0, "\(listed.err)")
        #expect(listed.out.contains("DEAD STEPS (1)"), "\(listed.out)")
        #expect(listed.out.contains("\(stepID)  dead  ") && listed.out.contains(" RecordPoliceDecision  case \(opened.caseId)"), "\(listed.out)")
        #expect(
            listed.out.contains("for police (police.worker)") && listed.out.contains("last error: ") && listed.out.contains("closed before the reply")
        )
        let unexplained = try await offloaded { try hsbctl(["outbox", "list", "--dead"], environment: operatorEnvironment) }
        #expect(unexplained.status != 0 && unexplained.err.contains("--purpose (or HSB_PURPOSE) is required to read the outbox"))
        let dead = try await ops.call(
            OrchestratorV1.Orchestrator.Method.listOutbox, OrchestratorV1.ListOutboxRequest(deadOnly: true), options: CallOptions(purpose: "triage"))
        let entry = try #require(dead.entries.first { $0.stepId == stepID })
        // Five attempts reached the receiver; a reconnect refused before sending is an attempt that does not count.
        #expect(entry.status == "dead" && entry.failuresAfterSend == 5 && entry.attempts >= 5)
        #expect(entry.actingFor == "police (police.worker)")
        #expect(entry.lastError.contains("closed before the reply"))
        await orchestrator.deliverer.count()
        #expect(orchestrator.server.host.metrics.prometheusText().contains("hsb_orchestrator_outbox_dead 1"))
        // An operator sends it again: it is pending once more, and the decision is on the record.
        let retried = try await offloaded {
            try hsbctl(["outbox", "retry", stepID, "--reason", "youth justice patched"], environment: operatorEnvironment)
        }
        #expect(retried.status == 0, "\(retried.err)")
        #expect(retried.out.hasPrefix("\(stepID): pending"), "\(retried.out)")
        await #expect(throws: RPCError.self, "only a dead step can be settled") {
            try await ops.call(
                OrchestratorV1.Orchestrator.Method.discardStep, OrchestratorV1.SettleStepRequest(stepId: stepID, reason: "x"),
                options: CallOptions(purpose: "triage"))
        }
        for _ in 0..<40 {
            _ = await orchestrator.deliverer.deliverDue()
            try await Task.sleep(for: .milliseconds(10))
        }
        let discarded = try await offloaded {
            try hsbctl(["outbox", "discard", stepID, "--reason", "recorded by hand at youth justice"], environment: operatorEnvironment)
        }
        #expect(discarded.status == 0, "\(discarded.err)")
        #expect(discarded.out.hasPrefix("\(stepID): discarded (last error: "), "\(discarded.out)")
        #expect(await orchestrator.deliverer.deliverDue() == 0)
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.getCase, OrchestratorV1.GetCaseRequest(caseId: opened.caseId), options: CallOptions(purpose: "check"))
        let lines = view.chronology.map(\.what)
        #expect(lines.contains { $0.contains("given up after 5 failed attempts") })
        #expect(lines.contains { $0.contains("sent again by ops (ops.worker): youth justice patched") })
        #expect(lines.contains { $0.contains("given up for good by ops (ops.worker): recorded by hand at youth justice") })
        let audit = try orchestrator.server.accessLog("outbox", recordID: stepID)
        #expect(audit.map(\.purpose) == ["retry: youth justice patched", "discard: recorded by hand at youth justice"])
        // Not an operator: refused.
        await #expect(throws: RPCError(.permissionDenied, "agency education may not call \(OrchestratorV1.Orchestrator.Method.listOutbox.fullName)"))
        {
            try await orchestrator.server.client(.education).call(
                OrchestratorV1.Orchestrator.Method.listOutbox, OrchestratorV1.ListOutboxRequest(), options: CallOptions(purpose: "x"))
        }
        dropping.stop()
        await orchestrator.server.stop()
        await intake.stop()
    }

    @Test(
        "--dead-after (1-1000), --outbox-lease (11-3600 s) and --step-wait (0-60 s) name themselves and quote what they were given, control characters escaped"
    )
    func deadAfterAndLeaseAreValidated() throws {
        #expect(try Deliverer.deadAfter(parsing: "3") == 3)
        #expect(try Deliverer.deadAfter(parsing: " 1000 ") == 1000)
        #expect(try Deliverer.lease(parsing: "11") == 11 && Deliverer.lease(parsing: "3600") == 3600)
        for bad in ["0", "1001", "-1", "five", "", "99999999999", "2\u{0}", "\u{1B}[2J"] {
            #expect(
                throws: ConfigurationError(
                    "--dead-after (HSB_DEAD_AFTER) must be a whole number of failures from 1 to 1000, not \(ProtoJSON.quoted(bad))")
            ) {
                try Deliverer.deadAfter(parsing: bad)
            }
        }
        for bad in ["10", "3601", "-30", "", "9223372036854775808", "30\u{0}"] {
            #expect(
                throws: ConfigurationError(
                    "--outbox-lease (HSB_OUTBOX_LEASE) must be a whole number of seconds from 11 (longer than one attempt, 10 s) to 3600, not \(ProtoJSON.quoted(bad))"
                )
            ) { try Deliverer.lease(parsing: bad) }
        }
        #expect(try Deliverer.stepWait(parsing: "0") == .zero && Deliverer.stepWait(parsing: " 60 ") == .seconds(60))
        for bad in ["61", "-1", "2.5", "", "9223372036854775808", "2\u{0}"] {
            #expect(
                throws: ConfigurationError("--step-wait (HSB_STEP_WAIT) must be a whole number of seconds from 0 to 60, not \(ProtoJSON.quoted(bad))")
            ) { try Deliverer.stepWait(parsing: bad) }
        }
        #expect(!ProtoJSON.quoted("\u{1B}[2J").contains("\u{1B}"), "no control character reaches a terminal")
    }

    @Test("Settings without a default come from the environment when no flag is given (a systemd environment file works), and a flag wins")
    func settingsWithoutDefaultsComeFromTheEnvironment() throws {
        let settings = [
            "HSB_DATABASE_URL": "postgresql://u@db.example/hsb", "HSB_RETENTION_FILE": "/etc/hsb/retention", "HSB_TLS_CERTIFICATE": "/etc/hsb/c.pem",
            "HSB_TLS_KEY": "/etc/hsb/k.pem", "HSB_TLS_CA": "/etc/hsb/ca.pem", "HSB_OPS_TOKEN_FILE": "/etc/hsb/ops-token",
        ]
        for (name, value) in settings { setenv(name, value, 1) }
        defer { for name in settings.keys { unsetenv(name) } }
        let resolved = try ServiceOptions.parse(["--host", "0.0.0.0"]).resolve(for: .intake)
        #expect(resolved.databaseURL == "postgresql://u@db.example/hsb")
        #expect(resolved.retentionFile == "/etc/hsb/retention")
        #expect(resolved.tls == TLSFiles(certificate: "/etc/hsb/c.pem", key: "/etc/hsb/k.pem", trustedCAs: "/etc/hsb/ca.pem"))
        #expect(resolved.opsTokenFile == "/etc/hsb/ops-token")
        let flagged = try ServiceOptions.parse(["--database-url", "postgresql://other/db"]).resolve(for: .intake)
        #expect(flagged.databaseURL == "postgresql://other/db")
    }

    @Test("--idempotency-window takes 1 to 365 days (default 7) and names itself when given anything else")
    func idempotencyWindowIsValidated() throws {
        #expect(try ServiceOptions.parse([]).resolve(for: .intake).idempotencyWindowDays == 7)
        #expect(try ServiceOptions.parse(["--idempotency-window", "30"]).resolve(for: .intake).idempotencyWindowDays == 30)
        for bad in ["0", "366", "-1"] {
            #expect(throws: ConfigurationError.self) { try ServiceOptions.parse(["--idempotency-window=\(bad)"]).resolve(for: .intake) }
            do {
                _ = try ServiceOptions.parse(["--idempotency-window=\(bad)"]).resolve(for: .intake)
            } catch {
                #expect("\(error)".contains("--idempotency-window (HSB_IDEMPOTENCY_WINDOW) must be 1 to 365 days, not \(bad)"), "\(error)")
            }
        }
    }

    @Test("The pruner forgets a service's idempotency keys once they are older than the window, and keeps the rest")
    func prunerKeepsTheWindow() async throws {
        let clock = SettableClock()
        let intake = try await TestServiceHost.start(.intake, store: .sqlite, clock: clock, migrations: IntakeService.migrations) {
            IntakeService.handlers($0, IntakeConfiguration(localAuthority: "Camden"))
        }
        let client = intake.client(.orchestrator)
        _ = try await client.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral()), options: CallOptions(idempotencyKey: "first")
        )
        clock.advance(by: .seconds(5 * 86_400))
        _ = try await client.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral(child: "child-2")),
            options: CallOptions(idempotencyKey: "second"))
        let pruner = IdempotencyPruner(store: intake.host.store, windowDays: 7, clock: clock, logger: Logger(label: "test"))
        #expect(await pruner.prune() == 0, "both keys are within 7 days")
        clock.advance(by: .seconds(3 * 86_400))
        #expect(await pruner.prune() == 1, "the first is 8 days old")
        #expect(try intake.host.store.idempotencyKeyCount() == 1)
        await intake.stop()
    }

    @Test("A service that cannot be reached at all delays its steps and never sends them to the dead letters")
    func unreachableIsNotPoison() async throws {
        // A port that is bound and not listening: every connection is refused.
        let reserved = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(reserved, $0, length) == 0 && getsockname(reserved, $0, &length) == 0 }
        }
        defer { close(reserved) }
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: Int(UInt16(bigEndian: address.sin_port)))
        let view = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        for _ in 0..<20 {
            _ = await orchestrator.deliverer.deliverDue()
            try await Task.sleep(for: .milliseconds(10))
        }
        let outbox = try await orchestrator.server.client(.ops).call(
            OrchestratorV1.Orchestrator.Method.listOutbox, OrchestratorV1.ListOutboxRequest(), options: CallOptions(purpose: "triage"))
        let step = try #require(outbox.entries.first { $0.caseId == view.caseId })
        #expect(step.status == "pending" && step.failuresAfterSend == 0 && step.attempts > 5)
        await orchestrator.server.stop()
    }

    @Test("INF-04 INF-05: ListDeadlines needs a purpose, is logged per case, shows an agency only its own work, and pages")
    func deadlinesNeedToKnowAndPaging() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let social = orchestrator.server.client(.socialCare)
        var cases: [String] = []
        for index in 0..<3 {
            let view = try await social.call(
                OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral(child: "child-\(index)")))
            cases.append(view.caseId)
        }
        await #expect(throws: RPCError(.invalidArgument, "purpose is required to list deadlines: say why you need them (INF-05)")) {
            try await social.call(
                OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 60))
        }
        // Page by page, every entry once, in due order.
        var seen: [OrchestratorV1.DeadlineEntry] = []
        var token = ""
        var pages = 0
        repeat {
            let page = try await social.call(
                OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 60, pageSize: 2, pageToken: token),
                options: CallOptions(purpose: "weekly review"))
            #expect(page.overdue.count + page.dueSoon.count <= 2)
            seen += page.overdue + page.dueSoon
            token = page.nextPageToken
            pages += 1
        } while !token.isEmpty && pages < 50
        let whole = try await social.call(
            OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 60),
            options: CallOptions(purpose: "weekly review"))
        #expect(seen.map(\.taskId) == (whole.overdue + whole.dueSoon).map(\.taskId))
        #expect(Set(seen.map(\.caseId)) == Set(cases) && pages > 1)
        #expect(
            try orchestrator.server.accessLog("deadlines", recordID: cases[0]).contains {
                $0.agency == "social-care" && $0.purpose == "weekly review"
            })
        // A school sees only the work that falls to a school; none here.
        let school = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.listDeadlines, OrchestratorV1.ListDeadlinesRequest(withinDays: 60),
            options: CallOptions(purpose: "our tasks"))
        #expect((school.overdue + school.dueSoon).allSatisfy { $0.owner == .education })
        #expect((school.overdue + school.dueSoon).count < seen.count)
        // And of the disclosure ledger, only what was shared with it.
        let shared = try await orchestrator.server.client(.education).call(
            OrchestratorV1.Orchestrator.Method.listDisclosures, OrchestratorV1.ListDisclosuresRequest(childSubjectId: "child-0"),
            options: CallOptions(purpose: "what was shared"))
        #expect(shared.items.allSatisfy { $0.disclosure?.toService == "education" })
        let all = try await social.call(
            OrchestratorV1.Orchestrator.Method.listDisclosures, OrchestratorV1.ListDisclosuresRequest(childSubjectId: "child-0"),
            options: CallOptions(purpose: "what was shared"))
        #expect(all.items.contains { $0.disclosure?.toService == "intake" })
        await orchestrator.server.stop()
        await intake.stop()
    }
}
