import Foundation
import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import IntakeService
import Testing

typealias Store = TestStore

/// A real intake service on port 0 (see `TestServiceHost`).
struct IntakeHost {
    let server: TestServiceHost
    var host: ServiceHost { server.host }

    static func start(_ store: Store, profile: ProcedureProfile = .camden) async throws -> IntakeHost {
        let configuration = IntakeConfiguration(profile: profile, localAuthority: "Camden")
        return IntakeHost(
            server: try await TestServiceHost.start(.intake, store: store, migrations: IntakeService.migrations) {
                IntakeService.handlers($0, configuration)
            })
    }

    func client(_ agency: Agency, retry: RetryPolicy = .none) -> RPCClient { server.client(agency, retry: retry) }

    func referralCount() throws -> Int { try server.records("referral", subjectID: "child-1").count }

    func stop() async { await server.stop() }
}

/// A complete referral from a school about a 14-year-old's red behaviour towards a 12-year-old.
func schoolReferral() -> IntakeV1.Referral {
    let today = Date()
    let year = Calendar(identifier: .gregorian).component(.year, from: today)
    return IntakeV1.Referral(
        child: Subject(
            subjectID: "child-1", role: .childDisplayingHSB, givenName: "Sam", familyName: "Reed",
            dateOfBirth: CalendarDate(year: Int32(year - 15), month: 1, day: 1), postcode: "NW5 1AA"),
        personsHarmed: [
            IntakeV1.PersonHarmed(
                subject: Subject(
                    subjectID: "harmed-1", role: .personHarmed, givenName: "Alex", familyName: "Moor",
                    dateOfBirth: CalendarDate(year: Int32(year - 12), month: 12, day: 31)))
        ],
        behaviours: [IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8")], harmIndicators: [.coercionIntimidationOrForce],
        referrer: "Designated safeguarding lead, Hill School", incidentDetails: "In the changing rooms after PE",
        victimVulnerability: "Younger; new to the school", coercionEvidence: "Witness heard threats", referrerAssessedRisk: "high",
        otherChildrenMayBeAtRisk: .yes, parentsTold: .yes, significantHarmSuspected: true, mentalHealthConcern: true)
}

@Suite("Intake over loopback, on SQLite and PostgreSQL")
struct IntakeServiceTests {
    @Test("SCR-01 SCR-05 SCR-08: a referral is screened, stored and answered with its decision and citations", arguments: Store.allCases)
    func submitAndRead(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let orchestrator = server.client(.orchestrator)
        let result = try await orchestrator.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: schoolReferral()),
            options: CallOptions(idempotencyKey: "school-ref-1", purpose: "referral"))
        #expect(result.outcome == "screened")
        #expect(result.referralId.hasPrefix("ref-"))
        #expect(result.trafficLight == "red" && result.continuum == "abusive" && result.riskCategory == "2")
        #expect(result.threshold == "child protection")
        let citations = result.decision?.citations.map(\.ruleID) ?? []
        for id in ["GEN-01", "SCR-01", "SCR-02", "SCR-03", "SCR-04", "SCR-05", "SCR-08", "GEN-02"] {
            #expect(citations.contains(id), "\(id)")
        }
        let meeting = result.decision?.tasks.first { $0.taskID == "SCR-08/strategy-meeting/child-1" }
        #expect(meeting?.deadline?.kind == .calendarDays && meeting?.owner == .socialCare)
        #expect(result.version == 1)

        let view = try await server.client(.socialCare).call(
            IntakeV1.Intake.Method.getReferral, IntakeV1.GetReferralRequest(referralId: result.referralId),
            options: CallOptions(purpose: "assessment"))
        #expect(view.referral == schoolReferral())
        #expect(view.screening?.decision == result.decision)
        #expect(view.withheld.isEmpty)
        await orchestrator.close()
        await server.stop()
    }

    @Test("A retried submission with the same idempotency key returns the first answer and stores one referral", arguments: Store.allCases)
    func idempotentRetry(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let client = server.client(.orchestrator)
        let request = IntakeV1.SubmitReferralRequest(referral: schoolReferral())
        let first = try await client.call(IntakeV1.Intake.Method.submitReferral, request, options: CallOptions(idempotencyKey: "k-1"))
        let second = try await client.call(IntakeV1.Intake.Method.submitReferral, request, options: CallOptions(idempotencyKey: "k-1"))
        #expect(first == second)
        #expect(try server.referralCount() == 1)
        let third = try await client.call(IntakeV1.Intake.Method.submitReferral, request, options: CallOptions(idempotencyKey: "k-2"))
        #expect(third.referralId != first.referralId)
        #expect(try server.referralCount() == 2)
        await client.close()
        await server.stop()
    }

    @Test("Bad input is INVALID_ARGUMENT naming each problem, and nothing is written", arguments: Store.allCases)
    func badInput(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let client = server.client(.orchestrator)
        await #expect(throws: RPCError(.invalidArgument, "request payload: missing required field: hsb.intake.v1.SubmitReferralRequest.referral")) {
            try await client.call(IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest())
        }
        var referral = schoolReferral()
        referral.child?.dateOfBirth = CalendarDate(year: 2010, month: 2, day: 30)
        // A date that does not exist is refused as the bytes are decoded.
        await #expect(throws: RPCError(.invalidArgument, "request payload: hsb.common.v1.Subject.date_of_birth 2010-2-30 is not a date")) {
            try await client.call(IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral))
        }
        referral = schoolReferral()
        referral.behaviours = [IntakeV1.Behaviour(catalogueId: "brook/0-5/red/1"), IntakeV1.Behaviour()]
        do {
            _ = try await client.call(
                IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral))
            Issue.record("a bad referral was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("behaviours[1] needs catalogue_id or other_description"))
        }
        referral = schoolReferral()
        referral.behaviours = [IntakeV1.Behaviour(catalogueId: "brook/0-5/red/1")]
        await #expect(
            throws: RPCError(.invalidArgument, "behaviours[0]: 'brook/0-5/red/1' is for the 0-5 band, but the child is in the 13-17 band")
        ) {
            try await client.call(IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral))
        }
        #expect(try server.referralCount() == 0)
        await client.close()
        await server.stop()
    }

    @Test(
        "SCR-10: an incomplete referral with no sign of significant harm is returned and stores nothing; one indicating harm is screened",
        arguments: Store.allCases)
    func incompleteReturned(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let client = server.client(.orchestrator)
        var referral = schoolReferral()
        referral.behaviours = [IntakeV1.Behaviour(catalogueId: "brook/13-17/amber/3")]
        referral.harmIndicators = []
        referral.significantHarmSuspected = false
        referral.incidentDetails = ""
        referral.otherChildrenMayBeAtRisk = .unspecified
        let result = try await client.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral))
        #expect(result.outcome == "returned-incomplete")
        #expect(result.missing == ["details of the incident", "whether other children may be at risk"])
        #expect(result.referralId.isEmpty)
        #expect(try server.referralCount() == 0)
        // The same gaps in a referral that suspects significant harm: screened, the gaps requested.
        var harmful = schoolReferral()
        harmful.incidentDetails = ""
        harmful.otherChildrenMayBeAtRisk = .unspecified
        let screened = try await client.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: harmful))
        #expect(screened.outcome == "screened" && !screened.referralId.isEmpty)
        #expect(screened.decision?.tasks.contains { $0.taskID == "SCR-10/missing-items" } == true)
        #expect(try server.referralCount() == 1)
        await client.close()
        await server.stop()
    }

    @Test("INF-04 INF-05: each agency reads only what it needs, says why, and every read is logged", arguments: Store.allCases)
    func needToKnow(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let submitted = try await server.client(.orchestrator).call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: schoolReferral()))
        let request = IntakeV1.GetReferralRequest(referralId: submitted.referralId)

        let school = try await server.client(.education).call(
            IntakeV1.Intake.Method.getReferral, request, options: CallOptions(purpose: "safety plan"))
        #expect(school.referral?.incidentDetails == "" && school.referral?.victimVulnerability == "")
        #expect(school.referral?.personsHarmed.first?.subject?.givenName == "")
        #expect(school.referral?.personsHarmed.first?.subject?.subjectID == "harmed-1")
        #expect(school.referral?.behaviours.isEmpty == true && school.referral?.mentalHealthConcern == false)
        #expect(school.referral?.child?.givenName == "Sam")
        #expect(school.screening?.decision?.rationale == "")
        #expect(school.screening?.decision?.tasks.allSatisfy { $0.owner == .education } == true)
        #expect(school.withheld.contains("incident details") && school.withheld.contains("identity of persons harmed"))

        let youthJustice = try await server.client(.youthJustice).call(
            IntakeV1.Intake.Method.getReferral, request, options: CallOptions(purpose: "AIM assessment"))
        #expect(youthJustice.referral?.incidentDetails == "In the changing rooms after PE")
        #expect(youthJustice.referral?.personsHarmed.first?.subject?.familyName == "")
        #expect(youthJustice.referral?.mentalHealthConcern == false)
        #expect(youthJustice.withheld == ["identity of persons harmed", "health information", "other agencies' tasks"])

        await #expect(throws: RPCError(.invalidArgument, "purpose is required to read a referral: say why you need it (INF-05)")) {
            try await server.client(.police).call(IntakeV1.Intake.Method.getReferral, request)
        }
        await #expect(throws: RPCError(.notFound, "no referral with id ref-nope")) {
            try await server.client(.police).call(
                IntakeV1.Intake.Method.getReferral, IntakeV1.GetReferralRequest(referralId: "ref-nope"), options: CallOptions(purpose: "x"))
        }
        await #expect(throws: RPCError(.permissionDenied, "agency mappa may not call hsb.intake.v1.Intake/GetReferral")) {
            try await server.client(.mappa).call(IntakeV1.Intake.Method.getReferral, request, options: CallOptions(purpose: "screening"))
        }
        let log = try server.host.store.read(now: 0) { tx throws(RecordStoreError) in
            try tx.accessLog(kind: "referral", recordID: submitted.referralId)
        }
        #expect(log.map(\.agency) == ["orchestrator", "education", "youth-justice"])
        #expect(log.map(\.action) == [.write, .read, .read])
        #expect(log.map(\.purpose) == ["referral", "safety plan", "AIM assessment"])
        #expect(log[1].user == "education.worker")
        await server.stop()
    }

    @Test("SCR-21: a no-names consultation is screened and stores nothing", arguments: Store.allCases)
    func consultation(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let result = try await server.client(.education).call(
            IntakeV1.Intake.Method.consult,
            IntakeV1.ConsultationRequest(age: 11, behaviours: [IntakeV1.Behaviour(catalogueId: "brook/9-13/amber/2")], someoneHarmed: true))
        #expect(result.outcome == "screened" && result.threshold == "child in need" && result.referralId.isEmpty)
        #expect(result.decision?.citations.contains { $0.ruleID == "SCR-21" } == true)
        let stored = try server.host.store.read(now: 0) { tx throws(RecordStoreError) in
            try tx.list(kind: "referral", subjectID: "consultation") + tx.list(kind: "subject", subjectID: "consultation")
        }
        #expect(stored.isEmpty)
        await #expect(throws: RPCError(.invalidArgument, "age must be 0 to 17 for a consultation about a child (GEN-01); it is 18")) {
            try await server.client(.education).call(IntakeV1.Intake.Method.consult, IntakeV1.ConsultationRequest(age: 18))
        }
        await server.stop()
    }

    @Test("SCR-08 SCR-11: deadlines count from when social care received the referral, as recorded; a future time is refused")
    func countsFromReceipt() async throws {
        let server = try await IntakeHost.start(.sqlite)
        let client = server.client(.orchestrator)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // A telephone referral received three days ago and typed in now: its 48-hour written
        // follow-up fell due a day ago, counted from the call, not from the typing.
        var phoned = schoolReferral()
        phoned.urgentByTelephone = true
        phoned.receivedUnixMs = now - 3 * 86_400_000
        let result = try await client.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: phoned))
        let followUp = try #require(result.decision?.tasks.first { $0.taskID == "SCR-11/written-follow-up" }?.deadline)
        #expect(followUp.dueUnixMillis == phoned.receivedUnixMs + 48 * 3_600_000)
        var future = schoolReferral()
        future.receivedUnixMs = now + 86_400_000
        await #expect(
            throws: RPCError(.invalidArgument, "referral.received_unix_ms is in the future; record when social care received the referral")
        ) {
            try await client.call(IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: future))
        }
        await server.stop()
    }

    @Test("SCR-08: the partnership's profile sets the strategy meeting deadline (islington: 3 working days)")
    func profileApplies() async throws {
        let server = try await IntakeHost.start(.sqlite, profile: .islington)
        let result = try await server.client(.orchestrator).call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: schoolReferral()))
        #expect(result.profile == "islington")
        let meeting = result.decision?.tasks.first { $0.taskID == "SCR-08/strategy-meeting/child-1" }
        #expect(meeting?.deadline?.kind == .workingDays)
        #expect(meeting?.deadline?.description.hasPrefix("3 working days") == true)
        await server.stop()
    }
}

@Suite("Strategy meetings over loopback")
struct StrategyMeetingServiceTests {
    func request(_ referralID: String) -> IntakeV1.RecordStrategyMeetingRequest {
        IntakeV1.RecordStrategyMeetingRequest(
            referralId: referralID, subjectIds: ["child-1"], chairRole: "social-care",
            invitees: [
                IntakeV1.Invitee(role: "social-care", attended: true), IntakeV1.Invitee(role: "youth-justice", attended: true),
                IntakeV1.Invitee(role: "police", attended: true), IntakeV1.Invitee(role: "health", writtenReport: true),
                IntakeV1.Invitee(role: "education", attended: true, pupilSubjectId: "child-1"),
            ],
            outcome: .section47Joint, significantHarm: true, safetyPlanAgreed: true, aimAppropriate: true, aimLead: "youth-justice",
            aimTimescaleWeeks: 6, mappaReferralConsidered: true, exploitationReferralConsidered: true)
    }

    @Test(
        "STR-01 STR-02 STR-04 INF-07: a meeting about a child of a stored referral is recorded with its work and minutes", arguments: Store.allCases)
    func recorded(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let social = server.client(.socialCare)
        let referral = try await social.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: schoolReferral()))
        let record = try await social.call(IntakeV1.Intake.Method.recordStrategyMeeting, request(referral.referralId))
        #expect(record.referralId == referral.referralId)
        #expect(record.decision?.tasks.contains { $0.taskID == "STR-04/section-47" } == true)
        #expect(record.decision?.tasks.first { $0.taskID == "STR-02/aim-assessment" }?.owner == .youthJustice)
        #expect(
            Set(record.decision?.notices.filter { $0.ruleID == "INF-07" }.map(\.agency) ?? []) == [
                .socialCare, .youthJustice, .police, .health, .education,
            ])
        let meetings = try server.server.records("strategy-meeting", subjectID: referral.referralId)
        #expect(meetings.count == 1)
        // Held on a day that has not come: refused, naming the field.
        var ahead = request(referral.referralId)
        ahead.heldOn = CalendarDate(year: Int32(Calendar(identifier: .gregorian).component(.year, from: Date()) + 1), month: 1, day: 4)
        await #expect(throws: RPCError.self) { try await social.call(IntakeV1.Intake.Method.recordStrategyMeeting, ahead) }
        await social.close()
        await server.stop()
    }

    @Test(
        "STR-01 STR-03: a meeting record that breaks the procedure, or names an unknown referral or child, is refused and stores nothing",
        arguments: Store.allCases)
    func refused(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let social = server.client(.socialCare)
        let referral = try await social.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: schoolReferral()))
        var bad = request(referral.referralId)
        bad.invitees[4].pupilSubjectId = "harmed-1"
        await #expect(
            throws: RPCError(
                .invalidArgument,
                "invitees: a school attends only the meeting about its own pupil (STR-03); harmed-1 is not a subject of this meeting")
        ) {
            try await social.call(IntakeV1.Intake.Method.recordStrategyMeeting, bad)
        }
        await #expect(throws: RPCError(.notFound, "no referral with id ref-nope")) {
            try await social.call(IntakeV1.Intake.Method.recordStrategyMeeting, request("ref-nope"))
        }
        var stranger = request(referral.referralId)
        stranger.subjectIds = ["someone-else"]
        stranger.invitees.removeLast()
        await #expect(throws: RPCError(.notFound, "no subject of \(referral.referralId) with id someone-else")) {
            try await social.call(IntakeV1.Intake.Method.recordStrategyMeeting, stranger)
        }
        await #expect(throws: RPCError(.permissionDenied, "agency education may not call hsb.intake.v1.Intake/RecordStrategyMeeting")) {
            try await server.client(.education).call(
                IntakeV1.Intake.Method.recordStrategyMeeting, request(referral.referralId))
        }
        let meetings = try server.server.records("strategy-meeting", subjectID: referral.referralId)
        #expect(meetings.isEmpty)
        await server.stop()
    }
}

@Suite("Case events over loopback")
struct CaseEventServiceTests {
    @Test("GEN-02 STR-05 STR-07: case events are checked against the referral's children and the procedure", arguments: Store.allCases)
    func events(_ store: Store) async throws {
        let server = try await IntakeHost.start(store)
        let social = server.client(.socialCare)
        let referral = try await social.call(
            IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: schoolReferral()))
        let id = referral.referralId
        await #expect(
            throws: RPCError(
                .invalidArgument,
                "workers: harmed-1 has the same social worker as the child displaying HSB; they must differ, even in the same household (GEN-02)")
        ) {
            try await social.call(
                IntakeV1.Intake.Method.recordCaseEvent,
                IntakeV1.RecordCaseEventRequest(
                    referralId: id, kind: .workersAllocated,
                    workers: [
                        IntakeV1.WorkerAllocation(subjectId: "child-1", socialWorker: "sw-1"),
                        IntakeV1.WorkerAllocation(subjectId: "harmed-1", socialWorker: "sw-1"),
                    ]))
        }
        let allocated = try await social.call(
            IntakeV1.Intake.Method.recordCaseEvent,
            IntakeV1.RecordCaseEventRequest(
                referralId: id, kind: .workersAllocated,
                workers: [
                    IntakeV1.WorkerAllocation(subjectId: "child-1", socialWorker: "sw-1"),
                    IntakeV1.WorkerAllocation(subjectId: "harmed-1", socialWorker: "sw-2"),
                ]))
        #expect(allocated.decision?.citations.map(\.ruleID) == ["GEN-02"])
        let conference = try await social.call(
            IntakeV1.Intake.Method.recordCaseEvent, IntakeV1.RecordCaseEventRequest(referralId: id, kind: .conferenceOutcome, concernsRemain: true))
        #expect(conference.decision?.tasks.map(\.taskID).contains("STR-05/hsb-meeting/child-1") == true)
        await #expect(throws: RPCError.self) {
            try await social.call(
                IntakeV1.Intake.Method.recordCaseEvent,
                IntakeV1.RecordCaseEventRequest(referralId: id, kind: .closure, levelOfRisk: "low", agreedBy: ["social-care"]))
        }
        await #expect(throws: RPCError(.notFound, "no referral with id ref-missing")) {
            try await social.call(
                IntakeV1.Intake.Method.recordCaseEvent, IntakeV1.RecordCaseEventRequest(referralId: "ref-missing", kind: .writtenFollowUpReceived))
        }
        await #expect(throws: RPCError(.invalidArgument, "the camden profile has no HSB panel (STR-08)")) {
            try await social.call(
                IntakeV1.Intake.Method.recordCaseEvent,
                IntakeV1.RecordCaseEventRequest(
                    referralId: id, kind: .panel, assessmentFoundHsb: true, panelDate: CalendarDate(year: 2030, month: 1, day: 9)))
        }
        let events = try server.server.records("case-event", subjectID: id)
        #expect(events.count == 2, "only the two valid events were stored")
        await social.close()
        await server.stop()
    }
}
