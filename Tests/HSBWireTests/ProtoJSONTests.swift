import Foundation
import HSBWire
import Testing

@Suite("JSON read by a message's protobuf-c schema")
struct ProtoJSONTests {
    func json(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    @Test("Every field kind: strings, booleans, integers, enums by short or full name, dates, nested and repeated messages")
    func fieldKinds() throws {
        let meeting = try ProtoJSON.decode(
            IntakeV1.RecordStrategyMeetingRequest.self,
            from: json(
                #"{"referral_id": "ref-1", "subject_ids": ["a", "b"], "chair_role": "social-care", "outcome": "section-47-joint", "invitees": [{"role": "police", "attended": true}, {"role": "health", "written_report": true}], "follow_up_date": "2026-12-01", "aim_timescale_weeks": 12, "safety_plan_agreed": true, "aim_lead": null}"#
            ))
        #expect(meeting.referralId == "ref-1" && meeting.subjectIds == ["a", "b"] && meeting.chairRole == "social-care")
        #expect(meeting.outcome == .section47Joint)
        #expect(meeting.invitees.map(\.role) == ["police", "health"] && meeting.invitees[0].attended && meeting.invitees[1].writtenReport)
        #expect(meeting.followUpDate == CalendarDate(year: 2026, month: 12, day: 1))
        #expect(meeting.aimTimescaleWeeks == 12 && meeting.safetyPlanAgreed && meeting.aimLead.isEmpty)
        let full = try ProtoJSON.decode(
            MappaV1.ScreenRequest.self,
            from: json(#"{"subject_id": "a", "date_of_birth": {"year": 2010, "month": 2, "day": 3}, "sentence": "SENTENCE_IMPRISONMENT"}"#))
        #expect(full.sentence == .imprisonment && full.dateOfBirth == CalendarDate(year: 2010, month: 2, day: 3))
        // The bytes are the message's own encoding: what the wire writes, the JSON reader writes.
        #expect(try MappaV1.ScreenRequest(decoding: full.encoded()) == full)
    }

    @Test("Wrong JSON is refused with the field named and nothing built")
    func refusals() throws {
        let cases: [(String, String)] = [
            (#"{"referral_id": "r", "kind": "party"}"#, #"kind "party" is not one of written-follow-up-received"#),
            (#"{"referral_id": "r", "kind": "closure", "level_of_risk": 3}"#, "level_of_risk must be a string, not a number"),
            (#"{"referral_id": "r", "kind": "closure", "agreed_by": "social-care"}"#, "agreed_by must be an array, not a string"),
            (#"{"referral_id": "r", "kind": "closure", "colour": "red"}"#, "colour is not a field of hsb.intake.v1.RecordCaseEventRequest"),
            // A hostile key is named quoted, escaped and cut: no escape codes, never all of it.
            (#"{"referral_id": "r", "\u001b[2J": 1}"#, #""\u001b[2J" is not a field of hsb.intake.v1.RecordCaseEventRequest"#),
            (
                #"{"referral_id": "r", "\#(String(repeating: "k", count: 100_000))": 1}"#,
                #""\#(String(repeating: "k", count: 60))"… is not a field of"#
            ),
            // A hostile value is quoted, escaped and cut too.
            (
                #"{"referral_id": "r", "kind": "panel", "panel_date": "\#(String(repeating: "9", count: 100_000))"}"#,
                #"panel_date "\#(String(repeating: "9", count: 60))"… must be a date YYYY-MM-DD"#
            ),
            (#"{"referral_id": "r", "kind": "\u001b[2J"}"#, #"kind "\u001b[2J" is not one of"#),
            (#"{"referral_id": "r", "kind": "panel", "panel_date": "2026-13"}"#, #"panel_date "2026-13" must be a date YYYY-MM-DD"#),
            (
                #"{"referral_id": "r", "kind": "panel", "panel_date": {"year": 2026, "month": 99999999999}}"#,
                "panel_date.month 99999999999 is out of range"
            ),
            (#"{"referral_id": "r", "kind": "panel", "chronology": "yes"}"#, "chronology must be true or false, not a string"),
            (#"{"referral_id": "r", "kind": "panel", "workers": [{"subject_id": "a"}]}"#, "missing required field"),
            (#"{"kind": "panel"}"#, "missing required field: hsb.intake.v1.RecordCaseEventRequest.referral_id"),
            (#"["kind"]"#, "must be an object (hsb.intake.v1.RecordCaseEventRequest), not an array"),
        ]
        for (text, message) in cases {
            #expect {
                _ = try ProtoJSON.decode(IntakeV1.RecordCaseEventRequest.self, from: json(text))
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}
