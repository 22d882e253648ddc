import Foundation
import HSBRuntime
import HSBServiceKit
import HSBServiceTesting
import HSBStorage
import HSBWire
import Logging
import MappaService
import Testing

@Suite("Retention: each kind of record kept as long as its agency's rule says, and no longer")
struct RetentionTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test(
        "A kind with a rule is removed once its period after the last change has ended, never a day early, each removal on the access log; a kind without one is kept",
        arguments: TestStore.allCases)
    func expiredRecordsGo(_ store: TestStore) async throws {
        let clock = SettableClock()
        let server = try await TestServiceHost.start(.mappa, store: store, clock: clock, migrations: MappaService.migrations) {
            MappaService.handlers($0)
        }
        let mappa = server.client(.mappa)
        let screening = try await server.client(.youthJustice).call(
            MappaV1.Mappa.Method.screen, MappaV1.ScreenRequest(subjectId: "yp-1", dateOfBirth: CalendarDate(year: 2010, month: 5, day: 1)))
        let disclosure = try await mappa.call(
            MappaV1.Mappa.Method.decideDisclosure,
            MappaV1.DecideDisclosureRequest(subjectId: "yp-1", recipient: .education, what: "risk plan", reason: "MP-05"))
        let rules = try RetentionRules.parse("# MAPPA's schedule\nmappa-screening 2\n", source: "retention")
        let job = RetentionJob(store: server.host.store, rules: rules, agency: "mappa", clock: clock, logger: Self.logger)
        try job.check()
        // A day short of two years: nothing goes.
        clock.advance(by: .seconds(Int64(2 * 365) * 86_400))
        #expect(await job.apply().values.reduce(0, +) == 0)
        #expect(try server.records("mappa-screening", subjectID: "yp-1").map(\.id) == [screening.recordId])
        // Two years and a day: the screening goes; the disclosure, which has no rule, stays.
        clock.advance(by: .seconds(2 * 86_400))
        #expect(await job.apply() == ["mappa-screening": 1])
        #expect(try server.records("mappa-screening", subjectID: "yp-1").isEmpty)
        #expect(try server.records("mappa-disclosure", subjectID: "yp-1").map(\.id) == [disclosure.recordId])
        let log = try server.accessLog("mappa-screening", recordID: screening.recordId)
        let removal = try #require(log.last)
        #expect(removal.action == .delete && removal.user == "retention" && removal.agency == "mappa")
        #expect(removal.purpose.hasPrefix("retention: mappa-screening is kept 2 years after its last change ("), "\(removal.purpose)")
        #expect(try server.host.store.verifyAccessLog().broken == nil)
        // Nothing more to do on the next pass.
        #expect(await job.apply().values.reduce(0, +) == 0)
        await server.stop()
    }

    @Test("A retention file is checked line by line, and a kind the service does not keep is refused at start, naming it")
    func rulesAreChecked() async throws {
        #expect(throws: ConfigurationError("retention line 2: years for \"referral\" must be a whole number from 1 to 100")) {
            try RetentionRules.parse("mappa-screening 7\nreferral 0\n", source: "retention")
        }
        #expect(throws: ConfigurationError("retention line 1: write KIND YEARS, e.g. 'referral 25'")) {
            try RetentionRules.parse("referral\n", source: "retention")
        }
        #expect(throws: ConfigurationError("retention line 2: \"referral\" has a rule already")) {
            try RetentionRules.parse("referral 25\nreferral 30\n", source: "retention")
        }
        #expect(
            try RetentionRules.parse("referral 25 # until about the child's 25th birthday\n\n", source: "r").yearsAfterLastChange == ["referral": 25])
        let server = try await TestServiceHost.start(.mappa, store: .sqlite, migrations: MappaService.migrations) { MappaService.handlers($0) }
        let job = RetentionJob(
            store: server.host.store, rules: RetentionRules(yearsAfterLastChange: ["referral": 25]), agency: "mappa", logger: Self.logger)
        #expect(
            throws: ConfigurationError(
                "the retention file names \"referral\", which this service does not keep; its kinds are mappa-disclosure, mappa-level, mappa-screening"
            )
        ) {
            try job.check()
        }
        // A kind holding a NUL, and a year count past any integer, are named without the raw bytes.
        #expect(throws: ConfigurationError("retention line 1: years for \"mappa\\u0000screening\" must be a whole number from 1 to 100")) {
            try RetentionRules.parse("mappa\u{0}screening 99999999999999999999999\n", source: "retention")
        }
        let withNUL = RetentionJob(
            store: server.host.store, rules: RetentionRules(yearsAfterLastChange: ["mappa\u{0}screening": 2]), agency: "mappa", logger: Self.logger)
        #expect(
            throws: ConfigurationError(
                "the retention file names \"mappa\\u0000screening\", which this service does not keep; its kinds are mappa-disclosure, mappa-level, mappa-screening"
            )
        ) {
            try withNUL.check()
        }
        // A file past 1 MB is refused before it is parsed (and only that much of it is read).
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("retention-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: big) }
        try Data(repeating: 0x20, count: 4 * 1024 * 1024).write(to: URL(fileURLWithPath: big))
        #expect(throws: ConfigurationError("retention file \(big) is over 1 MB")) { try RetentionRules.load(file: big) }
        #expect(throws: ConfigurationError("cannot read retention file \(big)-missing")) { try RetentionRules.load(file: big + "-missing") }
        await server.stop()
    }

    @Test("The cutoff counts calendar years back, leap days included")
    func cutoffIsCalendarYears() {
        // 2024-02-29T12:00:00Z less one year is 2023-02-28T12:00:00Z.
        #expect(RetentionRules.cutoff(now: 1_709_208_000_000, years: 1) == 1_677_585_600_000)
        // 2026-11-29T00:00:00Z less 25 years is 2001-11-29T00:00:00Z.
        #expect(RetentionRules.cutoff(now: 1_795_910_400_000, years: 25) == 1_006_992_000_000)
    }
}
