import Foundation
import Testing

@testable import HSBWire

/// Bytes a hostile or careless peer can send that protobuf-c itself would accept: each is refused
/// as it is decoded, naming the field, before any service reads it.
@Suite("Wire limits: NUL, lengths, counts, nesting, dates and bounded numbers are checked at decode")
struct WireLimitsTests {
    /// `field` as a length-delimited protobuf field holding `bytes`.
    static func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [number << 3 | 2]
        var length = bytes.count
        while length >= 0x80 {
            out.append(UInt8(length & 0x7f) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        return out + bytes
    }

    @Test func aNulInAnyStringIsRefusedNotTruncated() throws {
        // "Ann\0e" used to decode as "Ann": two subjects' ids collided that way.
        let subject = Self.field(1, Array("Ann\u{0}e".utf8))
        #expect(
            throws: WireError.invalidString(field: "hsb.common.v1.Subject.subject_id", reason: "contains U+0000 (NUL), which is not allowed in text")
        ) {
            try Subject(decoding: subject)
        }
        // Nested: the child's given name inside a referral inside the orchestrator's request.
        let child = Self.field(1, Array("child-1".utf8)) + Self.field(3, [0x41, 0x00])
        let referral = Self.field(1, child) + Self.field(6, Array("school".utf8))
        #expect(
            throws: WireError.invalidString(field: "hsb.common.v1.Subject.given_name", reason: "contains U+0000 (NUL), which is not allowed in text")
        ) {
            try OrchestratorV1.SubmitReferralRequest(decoding: Self.field(1, referral))
        }
    }

    @Test func tooManyEntriesAreRefusedBeforeAnythingIsUnpacked() throws {
        // Two million empty behaviours in one referral used to add 0.6 GB and a 127 MB error reply.
        var referral = Self.field(1, Self.field(1, Array("child-1".utf8))) + Self.field(6, Array("school".utf8))
        for _ in 0..<100_000 { referral += [0x1A, 0x00] }
        do {
            _ = try IntakeV1.Referral(decoding: referral)
            Issue.record("100,000 behaviours were accepted")
        } catch {
            #expect(error == .tooManyEntries(field: "hsb.intake.v1.Referral.behaviours", count: 4097, limit: 4096))
            #expect(error.description.utf8.count < 200)
        }
    }

    @Test func anOverlongStringIsRefused() {
        let subject = Self.field(1, [UInt8](repeating: 0x41, count: 70_000))
        #expect(throws: WireError.stringTooLong(field: "hsb.common.v1.Subject.subject_id", bytes: 70_000, limit: 65_536)) {
            try Subject(decoding: subject)
        }
    }

    @Test func hostileNestingIsRefused() {
        // A referral's child field nested inside itself, as unknown fields are not (a schema that
        // is not recursive cannot nest deeper than its own shape): a depth limit of 1 refuses a
        // referral, which holds a subject.
        let referral = Self.field(1, Self.field(1, Array("child-1".utf8))) + Self.field(6, Array("school".utf8))
        #expect(throws: WireError.nestedTooDeeply(message: "hsb.intake.v1.Referral", limit: 1)) {
            try IntakeV1.Referral(decoding: referral, limits: DecodeLimits(bytesPerInputByte: 64, baseBudget: 65_536, maxDepth: 1))
        }
    }

    @Test func datesAreRealCalendarDatesWithinTheAcceptedYears() throws {
        // Years -2^31 and 2^31-1 used to crash intake (its age arithmetic), youth justice and MAPPA (deadlines).
        let cases: [(CalendarDate, String)] = [
            (CalendarDate(year: .min, month: 1, day: 1), "year -2147483648 is outside 1900-2200"),
            (CalendarDate(year: .max, month: 12, day: 31), "year 2147483647 is outside 1900-2200"),
            (CalendarDate(year: 9999, month: 1, day: 1), "year 9999 is outside 1900-2200"),
            (CalendarDate(year: 0, month: 1, day: 1), "year 0 is outside 1900-2200"),
            (CalendarDate(year: 2011, month: 13, day: 1), "month 13 is not a month"),
            (CalendarDate(year: 2011, month: 2, day: 29), "2011-2-29 is not a date"),
            (CalendarDate(year: 2012, month: 4, day: -1), "2012-4--1 is not a date"),
        ]
        for (date, reason) in cases {
            let request = YouthjusticeV1.PlanReleaseRequest(
                youngPerson: YouthjusticeV1.YoungPerson(subjectId: "c", dateOfBirth: CalendarDate(year: 2010, month: 1, day: 1)), date: date)
            #expect(throws: WireError.outOfRange(field: "hsb.youthjustice.v1.PlanReleaseRequest.date", reason: reason)) {
                try YouthjusticeV1.PlanReleaseRequest(decoding: try request.encoded())
            }
        }
        let level = MappaV1.RecordLevelRequest(
            subjectId: "c", level: 2, nextReview: CalendarDate(year: .max, month: 1, day: 1), planSummary: "plan")
        #expect(throws: WireError.outOfRange(field: "hsb.mappa.v1.RecordLevelRequest.next_review", reason: "year 2147483647 is outside 1900-2200")) {
            try MappaV1.RecordLevelRequest(decoding: try level.encoded())
        }
        // The edges themselves, and a leap day, are dates.
        for date in [
            CalendarDate(year: 1900, month: 1, day: 1), CalendarDate(year: 2200, month: 12, day: 31), CalendarDate(year: 2012, month: 2, day: 29),
        ] {
            #expect(date.problem == nil)
        }
    }

    @Test func boundedNumbersAreCheckedAgainstTheirDeclaredRange() throws {
        let negative = MappaV1.ScreenRequest(subjectId: "c", dateOfBirth: CalendarDate(year: 2008, month: 1, day: 1), sentenceMonths: -4)
        #expect(throws: WireError.outOfRange(field: "hsb.mappa.v1.ScreenRequest.sentence_months", reason: "is -4; it must be between 0 and 1200")) {
            try MappaV1.ScreenRequest(decoding: try negative.encoded())
        }
        let huge = MappaV1.ScreenRequest(
            subjectId: "c", dateOfBirth: CalendarDate(year: 2008, month: 1, day: 1), violentOffenceCustodyMonths: .max)
        #expect(
            throws: WireError.outOfRange(
                field: "hsb.mappa.v1.ScreenRequest.violent_offence_custody_months", reason: "is 2147483647; it must be between 0 and 1200")
        ) {
            try MappaV1.ScreenRequest(decoding: try huge.encoded())
        }
        let bail = YouthjusticeV1.RecordAdmissionRequest(
            youngPerson: YouthjusticeV1.YoungPerson(subjectId: "c", dateOfBirth: CalendarDate(year: 2008, month: 1, day: 1)), bailDays: -1)
        #expect(
            throws: WireError.outOfRange(field: "hsb.youthjustice.v1.RecordAdmissionRequest.bail_days", reason: "is -1; it must be between 0 and 365")
        ) {
            try YouthjusticeV1.RecordAdmissionRequest(decoding: try bail.encoded())
        }
    }
}

@Suite("ProtoJSON written from the message's own schema")
struct ProtoJSONEncoderTests {
    @Test func aMessageReadsBackAsItself() throws {
        let referral = IntakeV1.Referral(
            child: Subject(
                subjectID: "child-1", role: .childDisplayingHSB, givenName: "Zoë \"Z\"", familyName: "O'Neil",
                dateOfBirth: CalendarDate(year: 2011, month: 3, day: 9)),
            personsHarmed: [IntakeV1.PersonHarmed(subject: Subject(subjectID: "harmed-1", role: .personHarmed))],
            behaviours: [IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8"), IntakeV1.Behaviour(otherDescription: "line one\nline two")],
            harmIndicators: [.coercionIntimidationOrForce, .emotionalDistress], referrer: "DSL", parentsTold: .noWouldCauseUndueDelay,
            urgentByTelephone: true, receivedUnixMs: 1_794_819_600_000, consentToShare: .given)
        let text = try ProtoJSON.encode(referral)
        // Field names as in the .proto, 64-bit integers as strings, enums by name, dates as written, defaults left out.
        #expect(text.contains("\"received_unix_ms\": \"1794819600000\""))
        #expect(text.contains("\"parents_told\": \"PARENTS_TOLD_NO_WOULD_CAUSE_UNDUE_DELAY\""))
        #expect(text.contains("\"date_of_birth\": \"2011-03-09\""))
        #expect(!text.contains("immediate_risk") && !text.contains("looked_after"))
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try ProtoJSON.decode(IntakeV1.Referral.self, from: json) == referral)
    }
}
