import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import Logging
import OrchestratorService
import Testing

@Suite("Retention on the orchestrator: finished cases, and the disclosure ledger sealed as it shortens")
struct OrchestratorRetentionTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test(
        "INF-05: a finished case goes with its deadlines, steps and identity once its period has ended, an open one stays; the ledger's expired rows go from its start and audit verify still finds it whole",
        arguments: TestStore.allCases)
    func finishedCasesAndTheLedger(_ store: TestStore) async throws {
        let clock = SettableClock()
        let intake = try await startIntake(store)
        let orchestrator = try await OrchestratorHost.start(store, intakePort: intake.port, clock: clock)
        let social = orchestrator.server.client(.socialCare)
        // An open case (screened, with disclosures on the ledger) and a finished one (returned, SCR-10).
        let open = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        await orchestrator.deliverer.deliverDue()
        var incomplete = referral(child: "child-2")
        incomplete.behaviours = [IntakeV1.Behaviour(catalogueId: "brook/13-17/amber/3")]
        incomplete.significantHarmSuspected = false
        incomplete.incidentDetails = ""
        let finished = try await social.call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: incomplete))
        #expect(finished.status == "returned-incomplete")
        await orchestrator.deliverer.deliverDue()
        let database = orchestrator.server.host.store.database
        let ledger = try RecordStore.verify(CaseTables.disclosureChain, in: database)
        #expect(ledger.broken == nil && ledger.rows > 0)

        let rules = try RetentionRules.parse("case 3\ndisclosure 3\n", source: "retention")
        let job = RetentionJob(
            store: orchestrator.server.host.store, rules: rules, agency: "orchestrator", clock: clock, targets: CaseTables.retentionTargets,
            logger: Self.logger)
        try job.check()
        // A day short of three years: nothing goes.
        clock.advance(by: .seconds(Int64(3 * 365) * 86_400))
        #expect(await job.apply().values.reduce(0, +) == 0)
        // Three years and a day: the finished case and every ledger row go; the open case stays.
        clock.advance(by: .seconds(2 * 86_400))
        let removed = await job.apply()
        #expect(removed["case"] == 1)
        #expect(removed["disclosure"] == ledger.rows)
        #expect(try orchestrator.cases(ofChild: "child-2").isEmpty)
        #expect(try orchestrator.steps(ofCase: finished.caseId).isEmpty)
        #expect(try orchestrator.cases(ofChild: "child-1").map(\.caseID) == [open.caseId])
        #expect(try !orchestrator.steps(ofCase: open.caseId).isEmpty)
        let log = try orchestrator.server.accessLog("case", recordID: finished.caseId)
        let removal = try #require(log.last)
        #expect(removal.action == .delete && removal.user == "retention" && removal.purpose.hasPrefix("retention: case is kept 3 years"))
        // The ledger is sealed where it now starts: the walk begins at the seal and finds it whole.
        let sealed = try RecordStore.verify(CaseTables.disclosureChain, in: database)
        #expect(sealed.broken == nil && sealed.rows == 0 && sealed.sealedThrough == ledger.headSequence)
        #expect(sealed.headSequence == ledger.headSequence && sealed.headHash == ledger.headHash)
        // A rule for a kind the orchestrator does not keep stops it, naming its kinds.
        let wrong = RetentionJob(
            store: orchestrator.server.host.store, rules: try RetentionRules.parse("referral 3\n", source: "retention"), agency: "orchestrator",
            clock: clock, targets: CaseTables.retentionTargets, logger: Self.logger)
        #expect(throws: ConfigurationError.self) { try wrong.check() }
        await orchestrator.server.stop()
        await intake.stop()
    }
}
