import HSBWire
import Testing

/// Fixtures: one fully populated value of every message of the wire contract.
enum Fixtures {
    static let date = CalendarDate(year: 2011, month: 2, day: 28)
    static let child = Subject(
        subjectID: "subj-1", role: .childDisplayingHSB, givenName: "Sam", familyName: "Okafor-Smith",
        dateOfBirth: date, postcode: "NW1 2AB", homeAuthority: "Camden", lookedAfter: true, openToSocialCare: true)
    static let harmed = Subject(subjectID: "subj-2", role: .personHarmed, givenName: "Zoë", familyName: "Ní Bhriain")
    static let citation = RuleCitation(ruleID: "SCR-08", source: "ISL 5.3")
    static let deadline = Deadline(
        kind: .workingDays, dueUnixMillis: 1_700_000_000_000, ruleID: "SCR-08", description: "HSB strategy meeting within 3 working days")
    static let task = CaseTask(
        taskID: "task-1", description: "Convene the HSB strategy meeting", owner: .socialCare, deadline: deadline, ruleID: "SCR-08",
        assignee: "social-care", subjectID: "subj-1")
    static let decision = Decision(
        outcome: "child protection", subjectIDs: ["subj-1", "subj-2"], routes: ["child-protection", "criminal-justice"],
        tasks: [task, CaseTask(taskID: "task-2", description: "AIM3 checklist", owner: .youthJustice, ruleID: "STR-01")],
        notify: [.youthJustice, .police, .camhs], citations: [citation, RuleCitation(ruleID: "GEN-02", source: "CAM 8.3")],
        rationale: "Red behaviour with coercion; both children need separate workers.")
    static let credential = Credential(
        agency: .orchestrator, user: "j.bloggs", signedAtUnixMillis: 1_700_000_000_123, signature: Array(repeating: 0xAB, count: 32))
    static let request = RequestEnvelope(
        requestID: 42, method: "hsb.intake.v1.Intake/Screen", timeoutMillis: 1500, idempotencyKey: "key-1",
        credential: credential, payload: [0, 1, 2, 255], purpose: "screening")
    static let response = ResponseEnvelope(requestID: 42, status: .permissionDenied, message: "agency education may not call …", payload: [9, 8, 7])
}

@Suite("Every message of the wire contract round-trips through protobuf-c")
struct MessageRoundTripTests {
    func roundTrip<M: WireMessage>(_ value: M) throws {
        let bytes = try value.encoded()
        let decoded = try M(decoding: bytes)
        #expect(decoded == value, "\(M.protoName) changed in a round trip")
    }

    @Test func commonTypesRoundTrip() throws {
        try roundTrip(Fixtures.date)
        try roundTrip(Fixtures.child)
        try roundTrip(Fixtures.harmed)
        try roundTrip(Fixtures.citation)
        try roundTrip(Fixtures.deadline)
        try roundTrip(Fixtures.task)
        try roundTrip(Fixtures.decision)
    }

    @Test func envelopeAndHealthRoundTrip() throws {
        try roundTrip(Fixtures.credential)
        try roundTrip(Fixtures.request)
        try roundTrip(RequestEnvelope(requestID: 1, method: "a.B/C"))
        try roundTrip(Fixtures.response)
        try roundTrip(ResponseEnvelope(requestID: 0, status: .ok))
        try roundTrip(HealthCheckRequest(service: "hsb.intake.v1.Intake"))
        try roundTrip(HealthCheckRequest())
        for status in HealthCheckResponse.ServingStatus.allCases {
            try roundTrip(HealthCheckResponse(status: status))
        }
    }

    @Test func everyStatusCodeAndAgencyRoundTrips() throws {
        for code in StatusCode.allCases {
            try roundTrip(ResponseEnvelope(requestID: 7, status: code, message: "\(code)"))
        }
        for agency in Agency.allCases where agency != .unspecified {
            try roundTrip(Credential(agency: agency, signedAtUnixMillis: 1, signature: [1]))
            #expect(Agency(name: agency.name) == agency)
        }
    }

    @Test func encodingMatchesTheProtobufSpecification() throws {
        // Field 1 varint 2011, field 2 varint 2, field 3 varint 28.
        #expect(try Fixtures.date.encoded() == [0x08, 0xDB, 0x0F, 0x10, 0x02, 0x18, 0x1C])
        // proto3 defaults are not sent.
        #expect(try ResponseEnvelope(requestID: 0, status: .ok).encoded() == [])
    }

    @Test func aStringHoldingNULIsRefusedNotCutShort() {
        let value = RuleCitation(ruleID: "SCR-01\u{0}hidden", source: "CAM 5")
        #expect(throws: WireError.invalidString(field: "hsb.common.v1.RuleCitation.rule_id", reason: "contains U+0000 (NUL), which cannot be sent")) {
            try value.encoded()
        }
        var decision = Fixtures.decision
        decision.routes[1] = "criminal\u{0}justice"
        #expect(throws: WireError.invalidString(field: "hsb.common.v1.Decision.routes[1]", reason: "contains U+0000 (NUL), which cannot be sent")) {
            try decision.encoded()
        }
    }
}

@Suite("Generated service messages round-trip and name their required fields")
struct GeneratedMessageTests {
    static let referral = IntakeV1.Referral(
        child: Fixtures.child, personsHarmed: [IntakeV1.PersonHarmed(subject: Fixtures.harmed, adultInNeedOfSafeguarding: true)],
        behaviours: [IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8"), IntakeV1.Behaviour(otherDescription: "explicit drawings")],
        harmIndicators: [.coercionIntimidationOrForce, .emotionalDistress], incidentDate: CalendarDate(year: 2026, month: 11, day: 15),
        referrer: "Designated safeguarding lead, Hill School", incidentDetails: "at break", victimVulnerability: "younger",
        coercionEvidence: "none", referrerAssessedRisk: "high", otherChildrenMayBeAtRisk: .no,
        parentsTold: .noWouldInterfereWithCriminalInvestigation,
        youthProducedImages: .harmfulOrReckless, urgentByTelephone: true, writtenFollowUpReceived: false, physicallyViolent: false,
        sexualActivity: true, significantHarmSuspected: true, childDisplayingMayBeAbused: false, immediateRisk: false, complexConcerns: true,
        exploitationLinks: false, policeNotification: true, siblingsAtRisk: true, competenceAssessed: false, mentalHealthConcern: true,
        openToYouthJustice: false, knownToCamhs: true)

    @Test func aFullReferralRoundTrips() throws {
        let request = IntakeV1.SubmitReferralRequest(referral: Self.referral)
        #expect(try IntakeV1.SubmitReferralRequest(decoding: try request.encoded()) == request)
        let result = IntakeV1.ScreeningResult(
            referralId: "ref-1", outcome: "screened", missing: ["x"], ageAtBehaviour: 14, ageBand: "13-17", trafficLight: "red",
            continuum: "abusive", riskCategory: "2", threshold: "child protection", decision: Fixtures.decision,
            notices: [IntakeV1.Notice(recipient: "police", reason: "invited", ruleId: "STR-01")], forPractitionerJudgement: ["check"],
            joinsOpenCase: true, profile: "camden", version: 3)
        #expect(try IntakeV1.ScreeningResult(decoding: try result.encoded()) == result)
    }

    @Test func requiredFieldsAreNamed() {
        #expect(throws: WireError.missingFields(["hsb.intake.v1.SubmitReferralRequest.referral"])) {
            try IntakeV1.SubmitReferralRequest(decoding: [])
        }
        let bare = IntakeV1.SubmitReferralRequest(referral: IntakeV1.Referral())
        #expect(throws: WireError.missingFields(["hsb.intake.v1.Referral.child", "hsb.intake.v1.Referral.referrer"])) {
            try IntakeV1.SubmitReferralRequest(decoding: try bare.encoded())
        }
    }
}
