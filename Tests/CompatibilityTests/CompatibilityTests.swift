import CamhsService
import HSBContract
import HSBNextContract
import HSBPreviousContract
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBWire
import MappaService
import Testing

// Each agency upgrades on its own day, so every release talks to the one before it and the one
// after it (README, "Compatibility"). The previous release's .proto is kept as it was released
// (Tests/Fixtures/Previous); the next release's (Tests/Fixtures/Next) is today's with an enum value
// (AGENCY_PROBATION, SERVICE_UNKNOWN), a field (ConsultRequest.urgency) and a method
// (Camhs/GetRecords) added. Both are compiled into modules of their own; the calls below go over
// real connections between them and today's services.

/// What the previous release sent: it named its methods by hand, with today's names.
enum PreviousMethods {
    static let refer = MethodDescriptor<HSBPreviousContract.CamhsV1.ReferRequest, HSBPreviousContract.CamhsV1.ReferralOutcome>(
        service: "hsb.camhs.v1.Camhs", method: "Refer")
    static let listOutbox = MethodDescriptor<HSBPreviousContract.OrchestratorV1.ListOutboxRequest, HSBPreviousContract.OrchestratorV1.OutboxList>(
        service: "hsb.orchestrator.v1.Orchestrator", method: "ListOutbox")
}

@Suite("Compatibility one release back and one forward: fields, enum values and methods added")
struct CompatibilityTests {
    @Test("A client of the previous release refers to today's CAMHS and reads the reply; today's client gets the same answer")
    func previousClientTodaysServer() async throws {
        let server = try await TestServiceHost.start(.camhs, store: .sqlite, migrations: CamhsService.migrations) { CamhsService.handlers($0) }
        let previous = try await server.client(.socialCare).call(
            PreviousMethods.refer,
            HSBPreviousContract.CamhsV1.ReferRequest(
                childSubjectId: "c-1", dateOfBirth: HSBPreviousContract.CommonV1.Date(year: 2012, month: 3, day: 4), mentalHealthConcern: true,
                concern: "withdrawn"))
        #expect(previous.outcome == "accepted")
        #expect(previous.citation?.ruleId == "MH-01")
        let today = try await HSBWire.CamhsV1.Camhs.Client(server.client(.socialCare)).refer(
            HSBWire.CamhsV1.ReferRequest(
                childSubjectId: "c-1", dateOfBirth: CalendarDate(year: 2012, month: 3, day: 4), mentalHealthConcern: true, concern: "again"))
        // MH-02: the child is known now, whichever release referred first.
        #expect(today.outcome == "team-notified")
        await server.stop()
    }

    @Test("A field added: today's outbox entries carry `state`, which the previous release skips; a previous orchestrator's entries have none")
    func stepStateBothWays() async throws {
        // Today's reply, read by the previous release: every field it knows, `state` skipped.
        let entry = HSBWire.OrchestratorV1.OutboxEntry(
            stepId: "step-1", caseId: "case-1", service: "youth-justice", method: "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision",
            status: "dead", attempts: 5, failuresAfterSend: 5, lastError: "no answer", nextAttemptUnixMs: 7, actingFor: "police", state: .dead)
        let read = try HSBPreviousContract.OrchestratorV1.OutboxList(
            decoding: try HSBWire.OrchestratorV1.OutboxList(entries: [entry]).encoded())
        #expect(read.entries.map(\.stepId) == ["step-1"])
        #expect(read.entries.first?.status == "dead" && read.entries.first?.actingFor == "police")

        // A previous orchestrator, answering today's typed client: no `state`, so it is
        // unspecified and the text is what tells (hsbctl reads it so).
        let server = try await TestServiceHost.start(.orchestrator, store: .sqlite) { _ in
            [
                .unary(PreviousMethods.listOutbox, policy: .anyAuthenticated) { _, _ in
                    HSBPreviousContract.OrchestratorV1.OutboxList(entries: [
                        HSBPreviousContract.OrchestratorV1.OutboxEntry(stepId: "step-2", caseId: "case-2", status: "dead", attempts: 5)
                    ])
                }
            ]
        }
        let client = HSBWire.OrchestratorV1.Orchestrator.Client(server.client(.ops))
        let list = try await client.listOutbox(HSBWire.OrchestratorV1.ListOutboxRequest(deadOnly: true), options: CallOptions(purpose: "check"))
        #expect(list.entries.map(\.stepId) == ["step-2"])
        #expect(list.entries.first?.state == .unspecified)
        #expect(list.entries.first?.status == "dead")
        // A method today has and that server does not: refused by name; the connection serves on.
        await #expect(throws: RPCError(.unimplemented, "method hsb.orchestrator.v1.Orchestrator/GetCase is not served here")) {
            try await client.getCase(HSBWire.OrchestratorV1.GetCaseRequest(caseId: "case-2"), options: CallOptions(purpose: "check"))
        }
        #expect(try await client.listOutbox(HSBWire.OrchestratorV1.ListOutboxRequest(), options: CallOptions(purpose: "check")).entries.count == 1)
        await server.stop()
    }

    @Test(
        "A client of the next release: its added field is ignored, its added method is UNIMPLEMENTED, its added agency is refused where it must be acted on"
    )
    func nextClientTodaysServer() async throws {
        let camhs = try await TestServiceHost.start(.camhs, store: .sqlite, migrations: CamhsService.migrations) { CamhsService.handlers($0) }
        let transport = camhs.client(.socialCare)
        let consulted = try await transport.call(
            HSBNextContract.CamhsV1.Camhs.Method.consult,
            HSBNextContract.CamhsV1.ConsultRequest(childSubjectId: "c-2", question: "sleep and eating", urgency: "this week"))
        #expect(consulted.citation?.ruleID == "MH-03")
        #expect(!consulted.recordId.isEmpty)
        await #expect(throws: RPCError(.unimplemented, "method hsb.camhs.v1.Camhs/GetRecords is not served here")) {
            try await transport.call(
                HSBNextContract.CamhsV1.Camhs.Method.getRecords, HSBNextContract.CamhsV1.GetRecordsRequest(childSubjectId: "c-2"))
        }
        // The same connection still serves.
        let again = try await transport.call(
            HSBNextContract.CamhsV1.Camhs.Method.consult, HSBNextContract.CamhsV1.ConsultRequest(question: "no names"))
        #expect(again.citation?.ruleID == "MH-03")
        await camhs.stop()

        let mappa = try await TestServiceHost.start(.mappa, store: .sqlite, migrations: MappaService.migrations) { MappaService.handlers($0) }
        await #expect(throws: RPCError(.invalidArgument, "recipient has value 11, which this version of the service does not know")) {
            try await mappa.client(.mappa).call(
                HSBNextContract.MappaV1.Mappa.Method.decideDisclosure,
                HSBNextContract.MappaV1.DecideDisclosureRequest(subjectId: "yp-1", recipient: .probation, what: "risk plan", reason: "resettlement"))
        }
        #expect(try mappa.records("mappa-disclosure", subjectID: "yp-1").isEmpty)
        await mappa.stop()
    }

    @Test("A server of the next release: today's client carries an agency it does not know as unrecognized(11), and sends it back unchanged")
    func todaysClientNextServer() async throws {
        let server = try await TestServiceHost.start(.mappa, store: .sqlite) { _ in
            [
                .unary(HSBNextContract.MappaV1.Mappa.Method.decideDisclosure, policy: .anyAuthenticated) { _, request in
                    HSBNextContract.MappaV1.DisclosureDecision(recordId: "d-1", recipient: .probation, what: request.what, reason: request.reason)
                }
            ]
        }
        let client = HSBWire.MappaV1.Mappa.Client(server.client(.mappa))
        let decision = try await client.decideDisclosure(
            HSBWire.MappaV1.DecideDisclosureRequest(subjectId: "yp-1", recipient: .police, what: "risk plan", reason: "resettlement"))
        #expect(decision.recipient == .unrecognized(11))
        #expect(!decision.recipient.isRecognized)
        let back = try HSBNextContract.MappaV1.DisclosureDecision(decoding: try decision.encoded())
        #expect(back.recipient == .probation)
        await server.stop()
    }

    @Test("Nested messages and enums, oneofs, maps and repeated numbers round-trip; required and range hold inside them")
    func shapes() throws {
        typealias Envelope = HSBNextContract.ShapesV1.Envelope
        let part = Envelope.Part(name: "letter", weight: 20)
        for addressee: Envelope.Addressee? in [nil, .person("J Smith"), .agency(.probation), .forwarded(Envelope.Part(name: "fwd", weight: 1))] {
            let envelope = Envelope(
                kind: .parcel, parts: [part, Envelope.Part(name: "box", weight: 80)], counts: ["a": 1, "b": -2],
                partsByName: ["letter": part], stamps: [1, Int64.max, -3], main: part, addressee: addressee)
            #expect(try Envelope(decoding: try envelope.encoded()) == envelope)
        }
        // Maps encode in key order, so equal values give equal bytes.
        let one = Envelope(counts: ["z": 1, "a": 2, "m": 3], main: part)
        let two = Envelope(counts: ["m": 3, "z": 1, "a": 2], main: part)
        #expect(try one.encoded() == two.encoded())
        #expect(throws: WireError.missingFields(["hsb.shapes.v1.Envelope.main"])) { try Envelope(decoding: try Envelope().encoded()) }
        #expect(throws: WireError.missingFields(["hsb.shapes.v1.Envelope.Part.name"])) {
            try Envelope(decoding: try Envelope(main: Envelope.Part(weight: 3)).encoded())
        }
        let heavy = Envelope(parts: [Envelope.Part(name: "x", weight: 101)], main: part)
        #expect(throws: WireError.self) { try Envelope(decoding: try heavy.encoded()) }
        #expect(HSBNextContract.ShapesV1.Sorting.Method.sort.fullName == "hsb.shapes.v1.Sorting/Sort")
    }
}
