import Foundation
import HSBRuntime
import HSBSafeguarding
import HSBServiceTesting
import HSBStorage
import HSBWire
import OrchestratorService
import Testing
import YouthJusticeService

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs the real hsbctl binary; its exit status, standard output and standard error.
func hsbctl(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
    let binary = packageRoot.appendingPathComponent(".build/debug/hsbctl").path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw RPCError(.failedPrecondition, "build the executables first (scripts/test.sh runs swift build)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.currentDirectoryURL = packageRoot
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
}

@Suite("hsbctl against a real orchestrator and intake", .timeLimit(.minutes(2)))
struct HSBCtlTests {
    @Test("SCR-08 SCR-17 YJ-02 MP-04: hsbctl submits the example referrals, shows a case and lists deadlines; bad files are named")
    func endToEnd() async throws {
        let intake = try await startIntake(.sqlite)
        let youthJustice = try await TestServiceHost.start(.youthJustice, store: .sqlite, migrations: YouthJusticeService.migrations) {
            YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar())
        }
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port, youthJusticePort: youthJustice.port)
        let environment = [
            "HSB_SECRET": TestServiceHost.testSecrets[.socialCare]!.hex, "HSB_AGENCY": "social-care",
            "HSB_ORCHESTRATOR": "127.0.0.1:\(orchestrator.server.port)",
        ]
        let submitted = try await offloaded {
            try hsbctl(["submit", "examples/referrals/school-changing-rooms.json", "--json"], environment: environment)
        }
        #expect(submitted.status == 0, "\(submitted.err)")
        let view = try #require(try JSONSerialization.jsonObject(with: Data(submitted.out.utf8)) as? [String: Any])
        // --json is the whole reply in ProtoJSON: the screening, its decision and citations with their clauses.
        #expect(view["status"] as? String == "screened")
        let screening = try #require(view["screening"] as? [String: Any])
        #expect(screening["threshold"] as? String == "child protection")
        let decision = try #require(screening["decision"] as? [String: Any])
        #expect(
            (decision["citations"] as? [[String: Any]])?.contains {
                $0["rule_id"] as? String == "SCR-08" && ($0["source"] as? String)?.isEmpty == false
            } == true)
        #expect((screening["grades"] as? [[String: Any]])?.isEmpty == false)
        // The text a practitioner reads: every decision with its rule and seed clause, no blank fields.
        let shownCase = view["case_id"] as? String ?? ""
        let text = try await offloaded { try hsbctl(["case", shownCase, "--purpose", "strategy meeting"], environment: environment) }
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("Threshold: child protection (Brook red"), "\(text.out)")
        #expect(text.out.contains("[SCR-08 · CAM 8.3]") || text.out.contains("[SCR-08 · ISL 5.3, CAM 8.3, GAT 3.3.1]"), "\(text.out)")
        #expect(text.out.contains("Behaviours (Brook traffic light"), "\(text.out)")
        #expect(!text.out.contains(" / ->") && !text.out.contains(": \n"), "\(text.out)")
        let caseID = try #require(view["case_id"] as? String)

        let again = try await offloaded {
            try hsbctl(["submit", "examples/referrals/school-changing-rooms.json", "--json"], environment: environment)
        }
        #expect(
            (try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])?["case_id"] as? String == caseID,
            "the same file is the same referral")

        let outside = try await offloaded { try hsbctl(["submit", "examples/referrals/images-shared-experimental.json"], environment: environment) }
        #expect(outside.status == 0 && outside.out.contains("outside-procedure") && outside.out.contains("SCR-17"))

        let shown = try await offloaded { try hsbctl(["case", caseID, "--purpose", "strategy meeting"], environment: environment) }
        #expect(shown.status == 0 && shown.out.contains("Chronology:") && shown.out.contains("[SCR-08] Convene the HSB strategy meeting"))
        let noPurpose = try await offloaded { try hsbctl(["case", caseID], environment: environment) }
        #expect(noPurpose.status == 64 && noPurpose.err.contains("--purpose"))
        let missing = try await offloaded { try hsbctl(["case", "case-nope", "--purpose", "x"], environment: environment) }
        #expect(missing.status == 1 && missing.err.contains("NOT_FOUND: no case with id case-nope"))

        let done = try await offloaded {
            try hsbctl(["done", caseID, "SCR-18/assessment/ex-child-a", "--note", "signed off", "--json"], environment: environment)
        }
        #expect(done.status == 0 && done.out.contains("\"completed_by\": \"social-care"), "\(done.err)")
        let deadlines = try await offloaded {
            try hsbctl(["deadlines", "--within", "60", "--json", "--purpose", "weekly review"], environment: environment)
        }
        #expect(deadlines.status == 0 && !deadlines.out.contains("\"rule_id\": \"SCR-18\""), "a done task leaves the lists")

        let police = try await offloaded {
            try hsbctl(
                ["police-decision", caseID, "--decision", "charge", "--child", "ex-child-a", "--date-of-birth", "2012-03-10", "--json"],
                environment: environment.merging(["HSB_SECRET": TestServiceHost.testSecrets[.police]!.hex, "HSB_AGENCY": "police"]) { $1 })
        }
        #expect(police.status == 0, "\(police.err)")
        #expect(police.out.contains("youth-justice: police-decision: charge"))
        let badDecision = try await offloaded {
            try hsbctl(
                ["police-decision", caseID, "--decision", "arrest", "--child", "c", "--date-of-birth", "2012-03-10"], environment: environment)
        }
        #expect(badDecision.status == 64 && badDecision.err.contains("--decision must be one of"))

        // Events from JSON files: each read by its request's schema, relayed, and merged into the case.
        let youthJusticeEnvironment = environment.merging([
            "HSB_SECRET": TestServiceHost.testSecrets[.youthJustice]!.hex, "HSB_AGENCY": "youth-justice",
        ]) {
            $1
        }
        let meeting = try await offloaded {
            try hsbctl(["event", caseID, "examples/events/strategy-meeting.json", "--purpose", "meeting held", "--json"], environment: environment)
        }
        #expect(meeting.status == 0, "\(meeting.err)")
        let afterMeeting = try #require(try JSONSerialization.jsonObject(with: Data(meeting.out.utf8)) as? [String: Any])
        let meetingTasks = (afterMeeting["deadlines"] as? [[String: Any]] ?? []).filter {
            ($0["task_id"] as? String)?.hasPrefix("SCR-08/strategy-meeting") == true
        }
        #expect(
            !meetingTasks.isEmpty && meetingTasks.allSatisfy { $0["status"] as? String == "done" }, "the meeting answers its task: \(meeting.out)")
        let court = try await offloaded {
            try hsbctl(["event", caseID, "examples/events/court-outcome.json"], environment: youthJusticeEnvironment)
        }
        #expect(court.status == 0, "\(court.err)")
        #expect(court.out.contains("MAPPA screening route opened"), "MP-04")
        let events = FileManager.default.temporaryDirectory.appendingPathComponent("event-\(UUID().uuidString).json")
        for (text, message) in [
            (
                #"{"event": "court-outcome", "young_person": {"subject_id": "ex-child-a", "date_of_birth": "2012-03-10"}, "plea": "innocent"}"#,
                #"plea "innocent" is not one of guilty, found-guilty, not-guilty"#
            ),
            (
                #"{"event": "court-outcome", "young_person": {"subject_id": "ex-child-a", "date_of_birth": "10/03/2012"}, "plea": "guilty"}"#,
                #"young_person.date_of_birth "10/03/2012" must be a date YYYY-MM-DD"#
            ),
            (
                #"{"event": "court-outcome", "young_person": {"subject_id": "ex-child-a", "dob": "2012-03-10"}, "plea": "guilty"}"#,
                "young_person.dob is not a field of hsb.youthjustice.v1.YoungPerson"
            ),
            (#"{"event": "court-outcome", "plea": "guilty"}"#, "missing required field: hsb.youthjustice.v1.RecordCourtOutcomeRequest.young_person"),
            (#"{"event": "court-outcome", "young_person": {"subject_id": 7}, "plea": "guilty"}"#, "young_person.subject_id must be a string"),
            (#"{"event": "arrest"}"#, #"event "arrest" is not one of"#),
        ] {
            try text.write(to: events, atomically: true, encoding: .utf8)
            let refused = try await offloaded { try hsbctl(["event", caseID, events.path], environment: youthJusticeEnvironment) }
            #expect(refused.status == 64 && refused.err.contains(message), "\(refused.err)")
        }
        // A refusal by the agency is the command's outcome: exit 1 with its reason.
        try
            #"{"event": "strategy-meeting", "subject_ids": ["ex-child-a"], "chair_role": "social-care", "invitees": [{"role": "police", "attended": true}], "outcome": "section-47-joint", "aim_appropriate": true}"#
            .write(to: events, atomically: true, encoding: .utf8)
        let refusedByIntake = try await offloaded { try hsbctl(["event", caseID, events.path], environment: environment) }
        #expect(refusedByIntake.status == 1 && refusedByIntake.err.contains("intake refused the strategy-meeting"), "\(refusedByIntake.err)")
        try? FileManager.default.removeItem(at: events)

        let badFile = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
        try #"{"referrer": "x", "child": {"given_name": "no id"}}"#.write(to: badFile, atomically: true, encoding: .utf8)
        let bad = try await offloaded { try hsbctl(["submit", badFile.path], environment: environment) }
        #expect(bad.status == 64 && bad.err.contains("child.subject_id is required"))
        // A misspelt key is named, never dropped with the rule it stands for (SCR-09's immediate risk).
        try #"{"referrer": "x", "child": {"subject_id": "c-9", "date_of_birth": "2012-01-01"}, "immediate_rsik": true}"#
            .write(to: badFile, atomically: true, encoding: .utf8)
        let misspelt = try await offloaded { try hsbctl(["submit", badFile.path], environment: environment) }
        #expect(misspelt.status == 64 && misspelt.err.contains("immediate_rsik is not a field of a referral file"), "\(misspelt.err)")
        try #"{"referrer": "x", "child": {"subject_id": "c-9", "dob": "2012-01-01"}}"#.write(to: badFile, atomically: true, encoding: .utf8)
        let misspeltPerson = try await offloaded { try hsbctl(["submit", badFile.path], environment: environment) }
        #expect(misspeltPerson.status == 64 && misspeltPerson.err.contains("child.dob is not a field of a referral file"), "\(misspeltPerson.err)")
        // A referral intake refuses (a date of birth in the future) is the command's failure: exit 1.
        let nextYear = Calendar(identifier: .gregorian).component(.year, from: Date()) + 1
        try #"{"referrer": "DSL", "child": {"subject_id": "c-10", "date_of_birth": "\#(nextYear)-01-01"}, "parents_told": "yes"}"#
            .write(to: badFile, atomically: true, encoding: .utf8)
        let refused = try await offloaded { try hsbctl(["submit", badFile.path], environment: environment) }
        #expect(refused.status == 1 && refused.out.contains("refused"), "\(refused.out) \(refused.err)")
        try? FileManager.default.removeItem(at: badFile)

        await orchestrator.server.stop()
        await youthJustice.stop()
        await intake.stop()
    }
}

/// An intake store that has screened one referral (child-1), its service stopped: its data folder.
func intakeStoreWithOneReferral() async throws -> String {
    let intake = try await startIntake(.sqlite)
    _ = try await intake.client(.orchestrator).call(
        IntakeV1.Intake.Method.submitReferral, IntakeV1.SubmitReferralRequest(referral: referral()), options: CallOptions(purpose: "referral"))
    await intake.stopKeepingData()
    return intake.dataDir
}

@Suite("hsbctl on the orchestrator's host: its typed tables exported, its disclosure ledger verified")
struct HSBCtlOrchestratorStoreTests {
    @Test(
        "INF-05 INF-03: hsbctl export reads a child's cases and steps from the orchestrator's tables; audit verify walks the disclosure ledger, names a changed row, and walks on from a retention seal"
    )
    func orchestratorStore() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let opened = try await orchestrator.server.client(.socialCare).call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral()))
        await orchestrator.server.stopKeepingData()
        await intake.stop()
        let dataDir = orchestrator.server.dataDir
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let arguments = ["export", "--service", "orchestrator", "--child", "child-1", "--data-dir", dataDir, "--purpose", "SAR-2026-15"]
        let report = try await offloaded { try hsbctl(arguments + ["--json"], environment: [:]) }
        #expect(report.status == 0, "\(report.err)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.out.utf8)) as? [String: Any])
        let records = try #require(document["records"] as? [[String: Any]])
        #expect(records.compactMap { $0["kind"] as? String } == ["case"] + opened.steps.map { _ in "outbox" })
        let content = try #require(records.first?["content"] as? [String: Any])
        #expect(content["case_id"] as? String == opened.caseId && (content["disclosures"] as? [Any])?.isEmpty == false)

        let verify = ["audit", "verify", "--service", "orchestrator", "--data-dir", dataDir]
        let intact = try await offloaded { try hsbctl(verify, environment: [:]) }
        #expect(intact.status == 0, "\(intact.out) \(intact.err)")
        #expect(
            intact.out.contains(
                "disclosure ledger of orchestrator (\(dataDir)/orchestrator.sqlite3): \(opened.disclosures.count) row(s), chain intact"),
            "\(intact.out)")
        // Someone with the database changes what was shared, and with whom.
        try SQLiteDatabase(path: "\(dataDir)/orchestrator.sqlite3").transaction { session throws(StorageError) in
            try session.execute("UPDATE disclosures SET to_service = 'nobody' WHERE seq = 1")
        }
        let broken = try await offloaded { try hsbctl(verify, environment: [:]) }
        #expect(broken.status == 1)
        #expect(
            broken.out.contains("disclosure ledger of orchestrator")
                && broken.out.contains("BROKEN at row 1: its contents were changed after it was written"), "\(broken.out)")
        #expect(broken.out.contains("access log of orchestrator") && broken.out.contains("chain intact"))
        // Retention removes the ledger's first row (as the orchestrator's retention job does): the
        // ledger is sealed there, and the walk starts after it and says so.
        try SQLiteDatabase(path: "\(dataDir)/orchestrator.sqlite3").transaction { session throws(StorageError) in
            try CaseTables.disclosureChain.removeStart(through: 1, session)
        }
        let sealed = try await offloaded { try hsbctl(verify, environment: [:]) }
        #expect(sealed.status == 0, "\(sealed.out)")
        #expect(
            sealed.out.contains("\(opened.disclosures.count - 1) row(s), chain intact")
                && sealed.out.contains("sealed: rows 1 to 1 were removed when their retention ended; the walk starts after row 1"),
            "\(sealed.out)")
    }
}

@Suite("hsbctl for practitioners: the rules and the Brook tool in their words")
struct HSBCtlReferenceTests {
    @Test("INF-05: hsbctl audit verify walks a service's access log chain on its host and names the first row changed after the fact")
    func auditVerify() async throws {
        let dataDir = try await intakeStoreWithOneReferral()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let intact = try await offloaded { try hsbctl(["audit", "verify", "--service", "intake", "--data-dir", dataDir], environment: [:]) }
        #expect(intact.status == 0, "\(intact.err)")
        #expect(intact.out.contains("access log of intake (\(dataDir)/intake.sqlite3): 1 row(s), chain intact"), "\(intact.out)")
        #expect(intact.out.contains("head: row 1, sha256 "))
        // Someone with the database edits who read the referral, and why.
        try SQLiteDatabase(path: "\(dataDir)/intake.sqlite3").transaction { session throws(StorageError) in
            try session.execute("UPDATE hsb_access_log SET purpose = 'nothing to see' WHERE seq = 1")
        }
        let broken = try await offloaded { try hsbctl(["audit", "verify", "--service", "intake", "--data-dir", dataDir], environment: [:]) }
        #expect(broken.status == 1)
        #expect(broken.out.contains("BROKEN at row 1: its contents were changed after it was written"), "\(broken.out)")
        let unknown = try await offloaded { try hsbctl(["audit", "verify", "--service", "nope", "--data-dir", dataDir], environment: [:]) }
        #expect(unknown.status == 64 && unknown.err.contains("--service \"nope\" is not a service of the suite"), "\(unknown.err)")
        let missing = try await offloaded { try hsbctl(["audit", "verify", "--service", "camhs", "--data-dir", dataDir], environment: [:]) }
        #expect(missing.status == 64 && missing.err.contains("there is no store at \(dataDir)/camhs.sqlite3"), "\(missing.err)")
    }

    @Test(
        "INF-05: hsbctl export answers a subject access request from a service's store: each record readable, who saw it and why, other people's data flagged, the export itself logged"
    )
    func subjectAccessExport() async throws {
        let dataDir = try await intakeStoreWithOneReferral()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let arguments = ["export", "--service", "intake", "--child", "child-1", "--data-dir", dataDir, "--user", "dpo.smith"]
        let report = try await offloaded { try hsbctl(arguments + ["--purpose", "SAR-2026-14"], environment: [:]) }
        #expect(report.status == 0, "\(report.err)")
        #expect(report.out.contains("SUBJECT ACCESS EXPORT: child-1 at intake"), "\(report.out)")
        #expect(report.out.contains("by dpo.smith for: SAR-2026-14"))
        #expect(report.out.contains("RECORDS (2)") && report.out.contains("\"given_name\" : \"Sam\""), "\(report.out)")
        // Times read as dates, not milliseconds since 1970.
        #expect(!report.out.contains("_unix_ms\" :") && report.out.contains("\"due\" : \""), "\(report.out)")
        #expect(
            report.out.contains(
                "REVIEW BEFORE DISCLOSURE: it also holds information about harmed-1 (third-party data; separate subjects, need to know) [GEN-01 INF-04]"
            ),
            "\(report.out)")
        #expect(report.out.contains("orchestrator (orchestrator.worker) write referral ref-") && report.out.contains(": referral"), "\(report.out)")
        let json = try await offloaded { try hsbctl(arguments + ["--purpose", "SAR-2026-14", "--json"], environment: [:]) }
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let records = try #require(document["records"] as? [[String: Any]])
        #expect(records.map { $0["kind"] as? String } == ["referral", "subject"])
        let content = try #require(records.first?["content"] as? [String: Any])
        #expect(((content["screening"] as? [String: Any])?["outcome"] as? String) == "screened")
        // Both exports are on the access log, with their purpose, and the chain still holds.
        let store = try RecordStore(database: try SQLiteDatabase(path: "\(dataDir)/intake.sqlite3"))
        let logged = try store.read(now: 0) { tx throws(RecordStoreError) in try tx.accessLog(kind: "subject-access-export", recordID: "child-1") }
        #expect(logged.count == 2 && logged.allSatisfy { $0.user == "dpo.smith" && $0.purpose == "SAR-2026-14" && $0.agency == "social-care" })
        #expect(try store.verifyAccessLog().broken == nil)
        let unexplained = try await offloaded { try hsbctl(arguments, environment: [:]) }
        #expect(unexplained.status == 64 && unexplained.err.contains("--purpose (or HSB_PURPOSE) is required"), "\(unexplained.err)")
        for bad in [String(repeating: "x", count: 1001), "SAR\u{1B}[2J"] {
            let refused = try await offloaded { try hsbctl(arguments + ["--purpose", bad], environment: [:]) }
            #expect(refused.status == 64 && refused.err.contains("--purpose must be at most 1,000 bytes of text without control characters"))
        }
        // Text a caller wrote reaches the report with its control characters escaped.
        _ = try store.perform(idempotencyKey: "", caller: "x", method: "m", now: 1) { tx throws(RecordStoreError) in
            try tx.logAccess(
                agency: "police", user: "pc\u{1B}[2J", action: .read, kind: "referral", recordID: records.first?["id"] as? String ?? "",
                purpose: "look\u{7}", requestID: "1")
            return []
        }
        let escaped = try await offloaded { try hsbctl(arguments + ["--purpose", "SAR-2026-14"], environment: [:]) }
        #expect(!escaped.out.contains("\u{1B}") && !escaped.out.contains("\u{7}"))
        #expect(escaped.out.contains("police (pc\\u{1b}[2J) read referral ") && escaped.out.contains(": look\\u{7}"), "\(escaped.out)")
    }

    @Test("SCR-01 SCR-08: hsbctl rules says what a rule is, its clause and where it is decided; hsbctl brook lists a band's behaviours")
    func rulesAndBrook() async throws {
        let rules = try await offloaded { try hsbctl(["rules", "SCR-08"], environment: [:]) }
        #expect(rules.status == 0)
        #expect(rules.out.hasPrefix("SCR-08  (ISL 5.3, CAM 8.3, GAT 3.3.1) — decided "), "\(rules.out)")
        #expect(rules.out.contains("when intake screens a referral") && rules.out.contains("Category 2 or 3"), "\(rules.out)")
        let unknown = try await offloaded { try hsbctl(["rules", "XYZ-99"], environment: [:]) }
        #expect(unknown.status == 64 && unknown.err.contains("no rule XYZ-99"))
        let hostile = try await offloaded { try hsbctl(["rules", "SCR-08\u{1B}[2J" + String(repeating: "A", count: 100_000)], environment: [:]) }
        #expect(hostile.status == 64 && hostile.err.contains(#"no rule "SCR-08\u001b[2JAAAA"#) && !hostile.err.contains("\u{1B}"))
        #expect(hostile.err.utf8.count < 1000, "the unknown id is cut, not echoed whole")
        let brook = try await offloaded { try hsbctl(["brook", "--age", "14"], environment: [:]) }
        #expect(brook.status == 0 && brook.out.contains("brook/13-17/red/8") && !brook.out.contains("brook/9-13/"))
        let adult = try await offloaded { try hsbctl(["brook", "--age", "19"], environment: [:]) }
        #expect(adult.status == 64 && adult.err.contains("aged 0 to 17"))
    }
}

@Suite("The example referrals and the routes each opens", .timeLimit(.minutes(2)))
struct ExampleReferralTests {
    @Test("SCR-05 SCR-17 GEN-03 YJ-03: each example referral is screened to the threshold and routes its situation calls for")
    func examples() async throws {
        let intake = try await startIntake(.sqlite)
        let orchestrator = try await OrchestratorHost.start(.sqlite, intakePort: intake.port)
        let environment = [
            "HSB_SECRET": TestServiceHost.testSecrets[.socialCare]!.hex, "HSB_AGENCY": "social-care",
            "HSB_ORCHESTRATOR": "127.0.0.1:\(orchestrator.server.port)",
        ]
        let expected: [(file: String, status: String, threshold: String, routes: [String])] = [
            ("school-changing-rooms", "screened", "child protection", ["child-protection", "concern"]),
            ("primary-pupil-age-8", "screened", "child in need", ["child-in-need"]),
            ("looked-after-foster-placement", "screened", "child protection", ["child-protection", "concern"]),
            ("images-shared-experimental", "outside-procedure", "", []),
            ("out-of-area-child", "screened", "child in need", ["child-in-need", "concern"]),
            ("urgent-telephone", "screened", "child protection", ["child-protection", "concern"]),
        ]
        for example in expected {
            let result = try await offloaded {
                try hsbctl(["submit", "examples/referrals/\(example.file).json", "--json"], environment: environment)
            }
            #expect(result.status == 0, "\(example.file): \(result.err)")
            let view = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any], "\(example.file)")
            #expect(view["status"] as? String == example.status, "\(example.file)")
            let screening = view["screening"] as? [String: Any]
            #expect((screening?["threshold"] as? String ?? "") == example.threshold, "\(example.file)")
            #expect(((screening?["decision"] as? [String: Any])?["routes"] as? [String] ?? []) == example.routes, "\(example.file)")
        }
        await orchestrator.server.stop()
        await intake.stop()
    }
}

/// Runs blocking work (a child process) off the cooperative pool, which the servers under test share.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

@Suite("hsbctl and the suite over mutual TLS, with certificates from hsbctl pki", .timeLimit(.minutes(2)))
struct HSBCtlTLSTests {
    @Test(
        "YJ-02: over TLS a practitioner acts only as the agency of their certificate; a relayed act carries that agency's own signature, and without it nothing is recorded"
    )
    func actsOverMutualTLS() async throws {
        let pki = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-pki-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let made = try await offloaded { try hsbctl(["pki", "init", "--dir", pki, "--name", "Test"], environment: [:]) }
        #expect(made.status == 0, "\(made.err)")
        for agency in ["orchestrator", "social-care", "youth-justice", "police", "education"] {
            let issued = try await offloaded { try hsbctl(["pki", "issue", agency, "--dir", pki], environment: [:]) }
            #expect(issued.status == 0, "\(issued.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(pki)/orchestrator-act-key.pem"), "the orchestrator gets no act key")
        func material(_ name: String) throws -> TLSMaterial {
            try TLSMaterial(files: TLSFiles(certificate: "\(pki)/\(name).pem", key: "\(pki)/\(name)-key.pem", trustedCAs: "\(pki)/ca.pem"))
        }
        let intake = try await startIntake(.sqlite, tls: try material("social-care"))
        let youthJustice = try await TestServiceHost.start(
            .youthJustice, store: .sqlite, migrations: YouthJusticeService.migrations, tls: try material("youth-justice")
        ) {
            YouthJusticeService.handlers($0, profile: .camden, calendar: WorkingDayCalendar())
        }
        let orchestrator = try await OrchestratorHost.start(
            .sqlite, intakePort: intake.port, youthJusticePort: youthJustice.port, tls: try material("orchestrator"))
        @Sendable func acting(_ agency: String, act: Bool = true) -> [String: String] {
            var environment = [
                "HSB_TLS_CERTIFICATE": "\(pki)/\(agency).pem", "HSB_TLS_KEY": "\(pki)/\(agency)-key.pem", "HSB_TLS_CA": "\(pki)/ca.pem",
                "HSB_ORCHESTRATOR": "127.0.0.1:\(orchestrator.server.port)", "HSB_USER": "\(agency) worker",
            ]
            if act { environment.merge(["HSB_ACT_CERTIFICATE": "\(pki)/\(agency)-act.pem", "HSB_ACT_KEY": "\(pki)/\(agency)-act-key.pem"]) { $1 } }
            return environment
        }
        let submitted = try await offloaded {
            try hsbctl(["submit", "examples/referrals/school-changing-rooms.json", "--json"], environment: acting("social-care"))
        }
        #expect(submitted.status == 0, "\(submitted.err)")
        let view = try #require(try JSONSerialization.jsonObject(with: Data(submitted.out.utf8)) as? [String: Any])
        let caseID = try #require(view["case_id"] as? String)
        #expect(view["status"] as? String == "screened", "intake screened it over TLS")

        // A police certificate cannot act as social care.
        let pretending = try await offloaded {
            try hsbctl(["case", caseID, "--agency", "social-care", "--purpose", "x"], environment: acting("police"))
        }
        #expect(pretending.status == 64 && pretending.err.contains("your certificate is police's; it cannot act as social-care"), "\(pretending.err)")

        let decision = ["police-decision", caseID, "--decision", "charge", "--child", "ex-child-a", "--date-of-birth", "2012-03-10"]
        // Without the act key, hsbctl says what is missing and nothing is sent.
        let unsigned = try await offloaded { try hsbctl(decision, environment: acting("police", act: false)) }
        #expect(unsigned.status == 64 && unsigned.err.contains("needs your agency's act-signing certificate and key"), "\(unsigned.err)")
        // Signed with another agency's act key: the orchestrator refuses before a step is written.
        var mixed = acting("police")
        mixed["HSB_ACT_CERTIFICATE"] = "\(pki)/education-act.pem"
        mixed["HSB_ACT_KEY"] = "\(pki)/education-act-key.pem"
        let foreignKeys = mixed
        let foreign = try await offloaded { try hsbctl(decision, environment: foreignKeys) }
        #expect(
            foreign.status == 1 && foreign.err.contains("the act is relayed for police but signed with education's certificate"), "\(foreign.err)")
        let policeMethod = YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName
        let decisionSteps = "SELECT status, act_proof FROM outbox WHERE case_id = ? AND method = ?"
        #expect(try orchestrator.rows(decisionSteps, [.text(caseID), .text(policeMethod)]).isEmpty)
        // Education may not record a police decision, signed or not.
        let education = try await offloaded { try hsbctl(decision, environment: acting("education")) }
        #expect(education.status == 1 && education.err.contains("PERMISSION_DENIED"), "\(education.err)")

        // Police's own signed act: relayed with its signature, checked by youth justice, recorded.
        let police = try await offloaded { try hsbctl(decision + ["--json"], environment: acting("police")) }
        #expect(police.status == 0, "\(police.err)")
        #expect(police.out.contains("youth-justice: police-decision: charge"), "\(police.out)")
        let steps = try orchestrator.rows(decisionSteps, [.text(caseID), .text(policeMethod)])
        #expect(steps.count == 1 && steps.first?[0] == "delivered")
        // The step keeps the police's signature (an encoded ActProof: its case id among its bytes).
        let proofHex = try #require(steps.first?[1] ?? nil, "the step keeps the police's signature")
        #expect(proofHex.contains(Array(caseID.utf8).map { String(format: "%02x", $0) }.joined()))
        await orchestrator.server.stop()
        await youthJustice.stop()
        await intake.stop()
    }
}
