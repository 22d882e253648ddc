import Foundation
import HSBPathway
import HSBPractice
import HSBSafeguarding
import HSBWire
import HummingbirdBcrypt
import Testing

@testable import WorkspaceApp

func form(_ pairs: [(String, String)]) throws -> FormBody {
    let body: String = pairs.map { name, value -> String in
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._"))
        return "\(name.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
    }.joined(separator: "&")
    return try FormBody(Array(body.utf8))
}

@Suite struct FormBodyTests {
    @Test func decodesPercentAndPlusAndKeepsRepeatedFields() throws {
        let body = try FormBody(Array("a=one+two%21&b=%3Cscript%3E&c=x&c=y&flag".utf8))
        #expect(body["a"] == "one two!")
        #expect(body["b"] == "<script>")
        #expect(body.all("c") == ["x", "y"])
        #expect(body.has("flag") && body["flag"] == "")
        #expect(body["absent"] == "" && !body.has("absent"))
    }

    @Test func hostileBodiesAreRefusedWithTheirReason() {
        #expect(throws: FormBody.Invalid.self) { try FormBody(Array("a=%00".utf8)) }
        #expect(throws: FormBody.Invalid.self) { try FormBody(Array("a=%E0%A4%A".utf8)) }
        #expect(throws: FormBody.Invalid.self) { try FormBody([UInt8](repeating: 0x61, count: FormBody.maxBytes + 1)) }
        let many = (0...FormBody.maxFields).map { "f\($0)=1" }.joined(separator: "&")
        #expect(throws: FormBody.Invalid.self) { try FormBody(Array(many.utf8)) }
        #expect(throws: FormBody.Invalid.self) { try FormBody([0xff, 0xfe, 0x3d, 0x31]) }
    }

    @Test func dateInputReadsDayMonthYearAndRefusesDatesThatDoNotExist() throws {
        let body = try form([
            ("d.day", "7"), ("d.month", "12"), ("d.year", "2026"), ("bad.day", "31"), ("bad.month", "2"), ("bad.year", "2026"),
            ("t.day", "1"), ("t.month", "1"), ("t.year", "2026"), ("t.time", "9:05"), ("short.day", "1"), ("short.month", "1"), ("short.year", "26"),
            ("notime.day", "1"), ("notime.month", "1"), ("notime.year", "2026"),
        ])
        #expect(try body.date("d", label: "D").get() == "2026-12-07")
        #expect(try body.date("t", label: "T", withTime: true).get() == "2026-01-01T09:05")
        #expect(try body.date("empty", label: "E").get() == "")
        for name in ["bad", "short"] {
            guard case .failure(let invalid) = body.date(name, label: "The date") else {
                Issue.record("\(name) was read as a date")
                continue
            }
            #expect(invalid.message.hasPrefix("The date must be a real date"))
        }
        guard case .failure(let missing) = body.date("notime", label: "Received", withTime: true) else {
            Issue.record("a date without its time was read")
            return
        }
        #expect(missing.message.contains("time"))
    }
}

@Suite struct AccountsTests {
    static let hash = Bcrypt.hash("correct horse battery", cost: 4)

    @Test func readsAccountsAndNamesTheLineThatIsWrong() throws {
        let good = "# comment\n\nmash.screener social-care practitioner \(Self.hash)\nops ops ops \(Self.hash)\n"
        let accounts = try AccountsFile.parse(good, source: "accounts")
        #expect(accounts["mash.screener"]?.agency == .socialCare && accounts["mash.screener"]?.role == .practitioner)
        #expect(accounts["ops"]?.role == .ops)
        let cases: [(String, String)] = [
            ("a social-care practitioner", "line 1: expected 'username agency role bcrypt-hash', found 3"),
            ("Bad social-care practitioner \(Self.hash)", "line 1: username \"Bad\""),
            ("a council practitioner \(Self.hash)", "line 1: \"council\" is not an agency"),
            ("a social-care admin \(Self.hash)", "line 1: role \"admin\""),
            ("a social-care practitioner plaintext-password", "line 1: the password hash is not a bcrypt hash"),
            ("a social-care practitioner \(Self.hash)\na police practitioner \(Self.hash)", "line 2: a is named twice"),
        ]
        for (text, expected) in cases {
            #expect(throws: AccountsFileError.self) { try AccountsFile.parse(text, source: "accounts") }
            do {
                _ = try AccountsFile.parse(text, source: "accounts")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
            }
        }
    }

    @Test func theLineForANewAccountVerifiesItsPassword() throws {
        let line = AccountsFile.line(username: "yj.officer", agency: .youthJustice, role: .practitioner, password: "a long enough password", cost: 4)
        let account = try #require(try AccountsFile.parse(line, source: "new")["yj.officer"])
        #expect(Bcrypt.verify("a long enough password", hash: account.passwordHash))
        #expect(!Bcrypt.verify("a wrong password", hash: account.passwordHash))
    }

    @Test func repeatedWrongPasswordsLockTheNameForTheLockout() {
        let throttle = LoginThrottle(policy: .init(limit: 3, windowMillis: 60_000, lockoutMillis: 600_000))
        #expect(throttle.failed("a", now: 1_000) == nil)
        #expect(throttle.failed("a", now: 2_000) == nil)
        #expect(throttle.failed("a", now: 3_000) == 603_000)
        #expect(throttle.lockedUntil("a", now: 602_999) == 603_000)
        #expect(throttle.lockedUntil("a", now: 603_000) == nil)
        // Failures spread wider than the window never add up to a lock.
        #expect(throttle.failed("b", now: 0) == nil)
        #expect(throttle.failed("b", now: 61_000) == nil)
        #expect(throttle.failed("b", now: 122_000) == nil)
        // A success clears the count; a name with no account locks alike.
        #expect(throttle.failed("c", now: 0) == nil)
        throttle.succeeded("c")
        #expect(throttle.failed("c", now: 1) == nil)
        #expect(throttle.failed("c", now: 2) == nil)
        #expect(throttle.lockedUntil("c", now: 3) == nil)
    }

    @Test func csrfTokensCompareWhole() {
        #expect(CSRFMiddleware.equal("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"))
        #expect(!CSRFMiddleware.equal("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdee"))
        #expect(!CSRFMiddleware.equal("", ""))
        #expect(!CSRFMiddleware.equal("abc", "abcd"))
        #expect(Workspace.validToken(Workspace.token()) && Workspace.token() != Workspace.token())
    }
}

@Suite struct ReferralFormTests {
    static let today = CivilDate(2026, 12, 7)

    static func minimal(_ extra: [(String, String)] = []) -> [(String, String)] {
        [
            ("child.subject_id", "c-1"), ("child.date_of_birth.day", "10"), ("child.date_of_birth.month", "3"), ("child.date_of_birth.year", "2012"),
            ("incident_date.day", "10"), ("incident_date.month", "11"), ("incident_date.year", "2026"), ("referrer", "a school"),
            ("parents_told", "yes"), ("behaviours", "brook/13-17/red/8"), ("harmed1.subject_id", "h-1"),
            ("harmed1.adult_in_need_of_safeguarding", "yes"),
            ("immediate_risk", "yes"), ("consent_to_share", "refused"),
        ] + extra
    }

    @Test func aFilledFormIsTheReferralAFileWouldBe() throws {
        let referral = try ReferralForm.read(try form(Self.minimal()), today: Self.today).get()
        #expect(referral.child?.subjectID == "c-1")
        #expect(referral.child?.dateOfBirth == CalendarDate(year: 2012, month: 3, day: 10))
        #expect(referral.incidentDate == CalendarDate(year: 2026, month: 11, day: 10))
        #expect(referral.behaviours.map(\.catalogueId) == ["brook/13-17/red/8"])
        #expect(referral.personsHarmed.first?.subject?.subjectID == "h-1" && referral.personsHarmed.first?.adultInNeedOfSafeguarding == true)
        #expect(referral.immediateRisk && !referral.sexualActivity)
        #expect(referral.consentToShare == .refused && referral.parentsTold == .yes)
    }

    @Test func theBandComesFromTheBirthAndIncidentDates() throws {
        #expect(ReferralForm.band(try form(Self.minimal()), today: Self.today) == .thirteenToSeventeen)
        let younger = try form([
            ("child.date_of_birth.day", "1"), ("child.date_of_birth.month", "1"), ("child.date_of_birth.year", "2018"), ("incident_date.day", "2"),
            ("incident_date.month", "1"), ("incident_date.year", "2026"),
        ])
        #expect(ReferralForm.band(younger, today: Self.today) == .fiveToNine)
        #expect(ReferralForm.band(try form([("child.subject_id", "x")]), today: Self.today) == nil)
    }

    @Test func whatIsMissingOrWrongNamesItsField() throws {
        guard case .failure(let errors) = ReferralForm.read(try form([("harmed2.given_name", "Riley")]), today: Self.today) else {
            Issue.record("an empty form was read")
            return
        }
        let fields = errors.items.map(\.field)
        for field in ["child.subject_id", "child.date_of_birth", "harmed2.subject_id", "referrer", "parents_told", "behaviours"] {
            #expect(fields.contains(field), "\(fields)")
        }
        // A behaviour of another age band is a form tampered with: refused, naming the field.
        guard case .failure(let tampered) = ReferralForm.read(try form(Self.minimal([("behaviours", "brook/0-4/red/1")])), today: Self.today) else {
            Issue.record("another band's behaviour was taken")
            return
        }
        #expect(tampered["behaviours"]?.contains("brook/0-4/red/1") == true)
        // An enum the referral file does not have is refused by the file's own reader, on its field.
        guard case .failure(let wrong) = ReferralForm.read(try form(Self.minimal([("youth_produced_images", "lots")])), today: Self.today) else {
            Issue.record("an unknown images value was taken")
            return
        }
        #expect(wrong["youth_produced_images"]?.contains("is not one of") == true, "\(wrong.items)")
        #expect(ReferralForm.formField("persons_harmed[1].date_of_birth") == "harmed2.date_of_birth")
    }
}

@Suite struct EventFormTests {
    static func view(_ tasks: [(String, String)]) -> OrchestratorV1.CaseView {
        OrchestratorV1.CaseView(
            caseId: "case-1", childSubjectId: "c-1", status: "screened",
            deadlines: tasks.map {
                OrchestratorV1.DeadlineEntry(caseId: "case-1", taskId: $0.0, description: $0.0, ruleId: String($0.0.prefix(6)), status: $0.1)
            })
    }

    @Test func theStrategyMeetingFormIsTheAgencysRequest() throws {
        let meeting = try #require(EventForm.named("strategy-meeting"))
        let body = try form([
            ("subject_ids", "c-1\nc-2\n"), ("chair_role", "social-care"), ("invited.police", "yes"), ("attended.police", "yes"),
            ("invited.education", "yes"), ("report.education", "yes"), ("pupil.education", "c-1"), ("outcome", "section-47-joint"),
            ("held_on.day", "4"), ("held_on.month", "12"), ("held_on.year", "2026"), ("significant_harm", "yes"), ("aim_timescale_weeks", "12"),
        ])
        let payload = try meeting.payload(body, referralID: "ref-1").get()
        let request = try IntakeV1.RecordStrategyMeetingRequest(decoding: payload)
        #expect(request.referralId == "ref-1" && request.subjectIds == ["c-1", "c-2"])
        #expect(request.outcome == .section47Joint && request.significantHarm && request.aimTimescaleWeeks == 12)
        #expect(request.heldOn == CalendarDate(year: 2026, month: 12, day: 4))
        #expect(request.invitees.contains(IntakeV1.Invitee(role: "police", attended: true)))
        #expect(request.invitees.contains(IntakeV1.Invitee(role: "education", writtenReport: true, pupilSubjectId: "c-1")))
    }

    @Test func aFormMissingWhatItNeedsNamesTheFields() throws {
        let meeting = try #require(EventForm.named("strategy-meeting"))
        guard case .failure(let errors) = meeting.payload(try form([("aim_timescale_weeks", "many")]), referralID: "r") else {
            Issue.record("an empty meeting was read")
            return
        }
        #expect(Set(errors.items.map(\.field)).isSuperset(of: ["subject_ids", "invitees", "outcome", "aim_timescale_weeks"]))
        // A value the request's own reader refuses is shown on its field.
        let police = try #require(EventForm.named("police-decision"))
        let wrong = try form([
            ("young_person.subject_id", "c-1"), ("young_person.date_of_birth.day", "1"), ("young_person.date_of_birth.month", "1"),
            ("young_person.date_of_birth.year", "2011"), ("decision", "acquitted"),
        ])
        guard case .failure(let refused) = police.payload(wrong, referralID: "") else {
            Issue.record("an unknown decision was taken")
            return
        }
        #expect(refused["decision"] != nil, "\(refused.items)")
    }

    @Test func eachFormSaysWhichOpenTasksItCloses() throws {
        let open = Self.view([
            ("SCR-08/strategy-meeting/c-1", "open"), ("SCR-18/assessment/c-1", "open"), ("STR-06/risk-plan-review/c-1", "open"),
            ("STR-06/cin-review/c-1", "overdue"), ("SCR-09/strategy-meeting/c-1", "done"),
        ])
        let meeting = try #require(EventForm.named("strategy-meeting"))
        #expect(meeting.closing(in: open).map(\.taskId) == ["SCR-08/strategy-meeting/c-1"])
        let review = try #require(EventForm.named("review-held"))
        // A review of one plan never answers the other's (STR-06).
        #expect(review.closing(in: open, reviewedPlan: "child-in-need-plan").map(\.taskId) == ["STR-06/cin-review/c-1"])
        #expect(review.closing(in: open, reviewedPlan: "risk-management-plan").map(\.taskId) == ["STR-06/risk-plan-review/c-1"])
        #expect(try #require(EventForm.named("court-outcome")).closing(in: open).isEmpty)
    }

    @Test func formsAreOfferedOnlyToTheAgenciesThatMayRecordThem() throws {
        #expect(try #require(EventForm.named("strategy-meeting")).permits(.socialCare))
        #expect(try !#require(EventForm.named("strategy-meeting")).permits(.camhs))
        #expect(try #require(EventForm.named("police-decision")).permits(.police))
        #expect(try !#require(EventForm.named("police-decision")).permits(.socialCare))
        for form in EventForm.all { #expect(EventKind.all[form.event] != nil, "\(form.slug)") }
    }
}
