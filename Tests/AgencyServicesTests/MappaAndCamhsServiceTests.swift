import CamhsService
import Foundation
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBWire
import Logging
import MappaService
import NIOPosix
import Testing

@Suite("MAPPA and CAMHS over loopback, on SQLite and PostgreSQL")
struct MappaAndCamhsServiceTests {
    @Test("MP-01 MP-02: an under-18 screened to category 1 with a halved notification period and the steps owed", arguments: TestStore.allCases)
    func screen(_ store: TestStore) async throws {
        let server = try await TestServiceHost.start(.mappa, store: store, migrations: MappaService.migrations) { MappaService.handlers($0) }
        let request = MappaV1.ScreenRequest(
            subjectId: "yp-1", dateOfBirth: CalendarDate(year: 2010, month: 5, day: 1), subjectToNotificationRequirements: true,
            youthJusticeScreeningDone: true, sentence: .imprisonment, sentenceMonths: 12, relevantDate: CalendarDate(year: 2026, month: 1, day: 10))
        let result = try await server.client(.youthJustice).call(MappaV1.Mappa.Method.screen, request)
        #expect(result.category == 1)
        #expect(result.notificationPeriod == "5 years")
        #expect(result.outstanding == ["discussion at the High Risk and Vulnerability Panel"])
        #expect(result.citations.map(\.ruleID) == ["MP-01", "MP-02"])
        var missingSentence = request
        missingSentence.sentence = .unspecified
        await #expect(throws: RPCError(.invalidArgument, "sentence is required when subject_to_notification_requirements is set")) {
            try await server.client(.youthJustice).call(MappaV1.Mappa.Method.screen, missingSentence)
        }
        await #expect(throws: RPCError(.permissionDenied, "agency education may not call hsb.mappa.v1.Mappa/Screen")) {
            try await server.client(.education).call(MappaV1.Mappa.Method.screen, request)
        }
        #expect(try server.records("mappa-screening", subjectID: "yp-1").count == 1)
        await server.stop()
    }

    @Test("MP-03 MP-05: a level with its review; other agencies see only what the forum decided to disclose to them", arguments: TestStore.allCases)
    func levelsAndDisclosure(_ store: TestStore) async throws {
        let server = try await TestServiceHost.start(.mappa, store: store, migrations: MappaService.migrations) { MappaService.handlers($0) }
        let mappa = server.client(.mappa)
        let level = try await mappa.call(
            MappaV1.Mappa.Method.recordLevel,
            MappaV1.RecordLevelRequest(
                subjectId: "yp-1", level: 2, nextReview: CalendarDate(year: 2099, month: 3, day: 1), planSummary: "curfew; supervised contact"))
        #expect(level.decision?.tasks.first?.deadline?.kind == .review)
        #expect(level.decision?.notices.first?.agency == .youthJustice)
        await #expect(throws: RPCError(.invalidArgument, "request payload: hsb.mappa.v1.RecordLevelRequest.level is 4; it must be between 1 and 3")) {
            try await mappa.call(
                MappaV1.Mappa.Method.recordLevel,
                MappaV1.RecordLevelRequest(subjectId: "yp-1", level: 4, nextReview: CalendarDate(year: 2099, month: 3, day: 1), planSummary: "x"))
        }
        _ = try await mappa.call(
            MappaV1.Mappa.Method.decideDisclosure,
            MappaV1.DecideDisclosureRequest(
                subjectId: "yp-1", recipient: .education, what: "supervision arrangements at school", reason: "risk management in school"))
        _ = try await mappa.call(
            MappaV1.Mappa.Method.decideDisclosure,
            MappaV1.DecideDisclosureRequest(subjectId: "yp-1", recipient: .health, what: "medication review", reason: "clinical"))
        let school = try await server.client(.education).call(
            MappaV1.Mappa.Method.getRecord, MappaV1.GetRecordRequest(subjectId: "yp-1"), options: CallOptions(purpose: "school safety plan"))
        #expect(school.disclosures.map(\.what) == ["supervision arrangements at school"])
        #expect(school.levels.isEmpty && school.screenings.isEmpty)
        #expect(school.withheld == ["screenings", "levels", "disclosures to other agencies"])
        // INF-04, MP-05: a health caller sees only what the forum disclosed to health.
        let health = try await server.client(.health).call(
            MappaV1.Mappa.Method.getRecord, MappaV1.GetRecordRequest(subjectId: "yp-1"), options: CallOptions(purpose: "clinical review"))
        #expect(health.disclosures.map(\.what) == ["medication review"] && health.levels.isEmpty && health.screenings.isEmpty)
        let forum = try await server.client(.youthJustice).call(
            MappaV1.Mappa.Method.getRecord, MappaV1.GetRecordRequest(subjectId: "yp-1"), options: CallOptions(purpose: "plan implementation"))
        #expect(forum.levels == [level] && forum.disclosures.count == 2 && forum.withheld.isEmpty)
        await #expect(throws: RPCError(.permissionDenied, "agency youth-justice may not call hsb.mappa.v1.Mappa/DecideDisclosure")) {
            try await server.client(.youthJustice).call(
                MappaV1.Mappa.Method.decideDisclosure, MappaV1.DecideDisclosureRequest(subjectId: "yp-1", recipient: .police, what: "x", reason: "y"))
        }
        await server.stop()
    }

    @Test("MH-01 MH-02: a referral is accepted; a second concern about the same child notifies the team instead", arguments: TestStore.allCases)
    func camhsReferral(_ store: TestStore) async throws {
        let server = try await TestServiceHost.start(.camhs, store: store, migrations: CamhsService.migrations) { CamhsService.handlers($0) }
        let social = server.client(.socialCare)
        let request = CamhsV1.ReferRequest(
            childSubjectId: "c-1", dateOfBirth: CalendarDate(year: 2013, month: 2, day: 2), mentalHealthConcern: true, concern: "low mood, withdrawn")
        let first = try await social.call(CamhsV1.Camhs.Method.refer, request, options: CallOptions(idempotencyKey: "camhs-1"))
        #expect(first.outcome == "accepted" && first.citation?.ruleID == "MH-01")
        let retried = try await social.call(CamhsV1.Camhs.Method.refer, request, options: CallOptions(idempotencyKey: "camhs-1"))
        #expect(retried == first, "a retry is not a second concern")
        let second = try await social.call(CamhsV1.Camhs.Method.refer, request, options: CallOptions(idempotencyKey: "camhs-2"))
        #expect(second.outcome == "team-notified" && second.citation?.ruleID == "MH-02")
        #expect(try server.records("camhs-referral", subjectID: "c-1").count == 1)
        #expect(try server.records("camhs-notification", subjectID: "c-1").count == 1)
        var noConcern = request
        noConcern.childSubjectId = "c-2"
        noConcern.mentalHealthConcern = false
        let declined = try await social.call(CamhsV1.Camhs.Method.refer, noConcern)
        #expect(declined.outcome == "declined" && declined.recordId.isEmpty)
        #expect(try server.records("camhs-referral", subjectID: "c-2").isEmpty)
        await server.stop()
    }

    @Test("MH-03 MH-04 MH-05: consultations are recorded with CAMHS's offer; the AIM duplication prompt", arguments: TestStore.allCases)
    func camhsConsultationAndPrompt(_ store: TestStore) async throws {
        let server = try await TestServiceHost.start(.camhs, store: store, migrations: CamhsService.migrations) { CamhsService.handlers($0) }
        let consultation = try await server.client(.education).call(
            CamhsV1.Camhs.Method.consult, CamhsV1.ConsultRequest(question: "how do we support a pupil after an incident?"))
        #expect(consultation.citation?.ruleID == "MH-03" && consultation.offers.count == 4)
        #expect(try server.records("camhs-consultation", subjectID: "no-names").count == 1)
        await #expect(throws: RPCError(.invalidArgument, "request payload: missing required field: hsb.camhs.v1.ConsultRequest.question")) {
            try await server.client(.education).call(CamhsV1.Camhs.Method.consult, CamhsV1.ConsultRequest())
        }
        let prompt = try await server.client(.socialCare).call(
            CamhsV1.Camhs.Method.agreeAssessment, CamhsV1.AgreeAssessmentRequest(childSubjectId: "c-1"))
        #expect(prompt.prompt.hasSuffix("[MH-05]") && prompt.citations.map(\.ruleID) == ["MH-05"])
        let none = try await server.client(.socialCare).call(
            CamhsV1.Camhs.Method.agreeAssessment, CamhsV1.AgreeAssessmentRequest(childSubjectId: "c-1", aimAssessmentComplete: true))
        #expect(none.prompt.isEmpty)
        await server.stop()
    }
}

@Suite("A service's handlers unit-tested in process (no sockets)")
struct InProcessServiceTests {
    @Test("MP-03: MAPPA records a level and the plan's next review; another agency is refused; the same handlers as over the wire")
    func mappaLevelInProcess() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-inprocess-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let host = try ServiceHost(
            descriptor: .mappa, options: ResolvedServiceOptions(dataDir: dataDir), handlers: { MappaService.handlers($0) },
            migrations: MappaService.migrations, secrets: TestServiceHost.testSecrets, group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let mappa = InProcessClient(
            dispatcher: host.rpc.dispatcher, signer: RequestSigner(agency: .mappa, secret: TestServiceHost.testSecrets[.mappa]!))
        let year = Int32(Calendar(identifier: .gregorian).component(.year, from: Date()) + 1)
        let record = try await mappa.call(
            MappaV1.Mappa.Method.recordLevel,
            MappaV1.RecordLevelRequest(subjectId: "yp-1", level: 2, nextReview: CalendarDate(year: year, month: 3, day: 1), planSummary: "plan"))
        #expect(record.level == 2 && record.decision?.tasks.first?.taskID == "MP-03/plan-review/yp-1")
        let police = InProcessClient(
            dispatcher: host.rpc.dispatcher, signer: RequestSigner(agency: .police, secret: TestServiceHost.testSecrets[.police]!))
        await #expect(throws: RPCError(.permissionDenied, "agency police may not call \(MappaV1.Mappa.Method.recordLevel.fullName)")) {
            try await police.call(
                MappaV1.Mappa.Method.recordLevel,
                MappaV1.RecordLevelRequest(subjectId: "yp-1", level: 2, nextReview: CalendarDate(year: year, month: 3, day: 1), planSummary: "p"))
        }
        await host.shutdown()
    }
}
