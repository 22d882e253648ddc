import Foundation
import HSBContract
public import HSBPathway
public import HSBPractice
import HSBServiceKit
public import HSBWire

/// The forms that record an event on a case. Each is data: the event it records (`hsbctl
/// event`'s names and docs/EVENT_JSON.md), the fields it asks for by their proto JSON names,
/// and what it sets itself. Validation is the event's own (ProtoJSON), so the form and a JSON
/// file are refused alike.
public struct EventForm: Sendable {
    public enum Kind: Sendable {
        case text
        case date
        case number
        case checkbox
        /// One entry a line.
        case lines
        case select([(String, String)])
        /// Who was invited to a meeting: a row a role, with attended and written report.
        case invitees
    }

    public struct Field: Sendable {
        public let name: String
        public let label: String
        public let hint: String
        public let kind: Kind
        public let required: Bool
        /// What the field starts with, from the case: the child's subject id.
        public let fromCase: (@Sendable (OrchestratorV1.CaseView) -> String)?

        init(
            _ name: String, _ label: String, _ kind: Kind = .text, hint: String = "", required: Bool = false,
            fromCase: (@Sendable (OrchestratorV1.CaseView) -> String)? = nil
        ) {
            self.name = name
            self.label = label
            self.hint = hint
            self.kind = kind
            self.required = required
            self.fromCase = fromCase
        }
    }

    public let slug: String
    public let title: String
    public let intro: String
    public let event: String
    public let fixed: [String: JSONValue]
    public let fields: [Field]

    public var kind: EventKind { EventKind.all[event]! }

    /// Whether `agency` may record it (the same table the orchestrator and the owning agency check).
    public func permits(_ agency: Agency) -> Bool { RelayedActs.permits(agency, kind.method) }

    static let child: @Sendable (OrchestratorV1.CaseView) -> String = { $0.childSubjectId }
    static let youngPerson: [Field] = [
        Field("young_person.subject_id", "The young person's subject id", required: true, fromCase: child),
        Field("young_person.date_of_birth", "Their date of birth", .date, required: true),
        Field("young_person.behaviour_date", "The date of the behaviour", .date, hint: "Ages are taken on this day; absent: today."),
    ]
    static let heldOn = Field("held_on", "The day it was held", .date, hint: "Its deadlines count from this day. Absent: today.")
    static let roles: [(String, String)] = [
        ("social-care", "Children's social care"), ("youth-justice", "Youth justice"), ("police", "Police"), ("health", "Health"),
        ("education", "Education"), ("camhs", "CAMHS"), ("parents", "Parents or carers"), ("referrer", "The referrer"),
    ]

    public static let all: [EventForm] = [
        EventForm(
            slug: "strategy-meeting", title: "Strategy meeting held",
            intro: "An HSB strategy meeting, who took part and what it decided (STR-01 to STR-04).", event: "strategy-meeting", fixed: [:],
            fields: [
                Field("subject_ids", "Children discussed", .lines, hint: "Subject ids, one a line.", required: true, fromCase: child),
                Field("chair_role", "Chaired by", .select(roles.filter { $0.0 != "parents" && $0.0 != "referrer" }), required: true),
                Field(
                    "invitees", "Who was invited", .invitees,
                    hint: "Tick each agency invited, and whether it attended or sent a written report (STR-01).",
                    required: true),
                Field(
                    "outcome", "Outcome",
                    .select([
                        ("", "Choose an outcome"), ("no-further-action", "No further action"), ("diversion-plan", "Diversion plan"),
                        ("section-47-joint", "Section 47 enquiry, joint with the police"), ("section-47-single", "Section 47 enquiry, single agency"),
                        ("immediate-legal-action", "Immediate legal action"), ("follow-up-meeting", "A follow-up meeting"),
                    ]), required: true),
                heldOn,
                Field("follow_up_date", "Date of the follow-up meeting", .date),
                Field("significant_harm", "Significant harm was found", .checkbox),
                Field("safety_plan_agreed", "A safety plan was agreed", .checkbox),
                Field("aim_appropriate", "An AIM assessment is appropriate", .checkbox),
                Field(
                    "aim_lead", "AIM assessment led by",
                    .select([("", "Not decided"), ("social-care", "Children's social care"), ("youth-justice", "Youth justice")])),
                Field("aim_timescale_weeks", "AIM timescale in weeks", .number, hint: "0 to 52."),
                Field("mappa_referral_considered", "A MAPPA referral was considered", .checkbox),
                Field("exploitation_referral_considered", "An exploitation referral was considered", .checkbox),
                Field("many_children", "Many children are involved", .checkbox),
            ]),
        EventForm(
            slug: "plan-agreed", title: "HSB meeting held and plan agreed",
            intro: "The HSB meeting: chronology, assessment timetable and the risk plans agreed (STR-05).", event: "case-event",
            fixed: ["kind": .string("hsb-meeting")],
            fields: [
                heldOn,
                Field("chronology", "A chronology was completed", .checkbox),
                Field("assessment_timetable", "Assessment to be completed by", .date),
                Field("risk_plan_for_child", "A risk plan for the child was agreed", .checkbox),
                Field("risk_plan_for_children_at_risk", "A risk plan for the children at risk was agreed", .checkbox),
                Field("roles_allocated", "Roles were allocated", .checkbox),
                Field("lead_social_worker", "Lead social worker"),
            ]),
        EventForm(
            slug: "review-held", title: "Review held", intro: "A review of the risk management plan or the child in need plan (STR-06).",
            event: "case-event", fixed: ["kind": .string("review-held")],
            fields: [
                Field(
                    "reviewed_plan", "Plan reviewed",
                    .select([("", "Choose the plan"), ("risk-management-plan", "Risk management plan"), ("child-in-need-plan", "Child in need plan")]
                    ),
                    required: true),
                heldOn,
                Field("plan_agreed_on", "The day the risk management plan was agreed", .date, hint: "Its reviews count from this day."),
            ]),
        EventForm(
            slug: "closure", title: "Case closed", intro: "A multi-agency closure (STR-07): it closes the case.", event: "case-event",
            fixed: ["kind": .string("closure")],
            fields: [
                Field("level_of_risk", "Level of risk at closure", required: true),
                Field("outcomes_achieved", "Outcomes achieved", required: true),
                Field("carers_capacity", "The carers' capacity", required: true),
                Field("ongoing_support", "Ongoing support"),
                Field("agreed_by", "Agreed by", .lines, hint: "The agencies, one a line.", required: true),
                Field("long_term_monitoring_considered", "Long-term monitoring was considered", .checkbox),
                heldOn,
            ]),
        EventForm(
            slug: "police-decision", title: "Police decision",
            intro: "The police decision; youth justice opens the route it calls for (YJ-02, YJ-14).",
            event: "police-decision", fixed: [:],
            fields: youngPerson + [
                Field(
                    "decision", "Decision",
                    .select([
                        ("", "Choose the decision"), ("charge", "Charge"), ("out-of-court-disposal", "Out of court disposal"),
                        ("no-further-action", "No further action"), ("insufficient-evidence", "Insufficient evidence"),
                        ("released-under-investigation", "Released under investigation"), ("investigation-continuing", "Investigation continuing"),
                    ]), required: true),
                Field(
                    "disposal", "Disposal",
                    .select([
                        ("", "None"), ("triage", "Triage"), ("youth-caution", "Youth caution"),
                        ("youth-conditional-caution", "Youth conditional caution"),
                    ]), hint: "With an out of court disposal."),
                Field("concerns_remain", "Concerns about the behaviour remain", .checkbox),
            ]),
        EventForm(
            slug: "court-outcome", title: "Court outcome", intro: "A plea or finding (YJ-08, YJ-09); a conviction opens MAPPA screening (MP-04).",
            event: "court-outcome", fixed: [:],
            fields: youngPerson + [
                Field(
                    "plea", "Plea or finding",
                    .select([("", "Choose"), ("guilty", "Pleaded guilty"), ("found-guilty", "Found guilty"), ("not-guilty", "Not guilty")]),
                    required: true),
                Field("referral_order", "A referral order was made", .checkbox),
                Field("camhs_assessment_covers_issues", "A CAMHS assessment covers the issues", .checkbox),
            ]),
        EventForm(
            slug: "release", title: "Release planned", intro: "A release from custody, or a move into the area.", event: "release", fixed: [:],
            fields: youngPerson + [
                Field("date", "Release or arrival date", .date, required: true),
                Field("concerns_about_others", "There are concerns about others", .checkbox),
                Field("siblings_or_children_at_risk", "Siblings or other children are at risk", .checkbox),
                Field("moving_into_area", "Moving into the area", .checkbox),
            ]),
    ]

    public static func named(_ slug: String) -> EventForm? { all.first { $0.slug == slug } }

    /// The kinds of task recording this event would close, read from the pathway's own table.
    public var closes: [TaskKind] {
        if event == "case-event", case .string(let kind)? = fixed["kind"] {
            switch kind {
            case "review-held": return EventMethods.completedByReview.values.flatMap { $0 }
            case "hsb-meeting": return EventMethods.completedByCaseEvent[.hsbMeeting] ?? []
            case "closure": return EventMethods.completedByCaseEvent[.closure] ?? []
            default: return []
            }
        }
        return EventMethods.completedByMethod[kind.method] ?? []
    }

    /// The case's open tasks this form would close.
    public func closing(in view: OrchestratorV1.CaseView, reviewedPlan: String? = nil) -> [OrchestratorV1.DeadlineEntry] {
        let kinds = reviewedPlan.flatMap { EventMethods.completedByReview[$0] } ?? closes
        return view.deadlines.filter { entry in
            entry.status != "done" && kinds.contains { $0.covers(TaskKind(taskID: entry.taskId)) }
        }
    }

    /// The event's JSON from the form, and what the form lacks, each naming its field.
    public func json(_ form: FormBody) -> (JSONValue, FormErrors) {
        var errors = FormErrors()
        var root = fixed
        func set(_ path: String, _ value: JSONValue) {
            let parts = path.split(separator: ".").map(String.init)
            if parts.count == 1 {
                root[parts[0]] = value
            } else {
                var inner: [String: JSONValue] = [:]
                if case .object(let existing)? = root[parts[0]] { inner = existing }
                inner[parts[1]] = value
                root[parts[0]] = .object(inner)
            }
        }
        for field in fields {
            let text = form[field.name]
            switch field.kind {
            case .checkbox:
                if form.has(field.name) { set(field.name, .bool(true)) }
            case .lines:
                let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                if lines.isEmpty {
                    if field.required { errors.add(field.name, "Enter \(field.label.lowercased())") }
                } else {
                    set(field.name, .array(lines.map(JSONValue.string)))
                }
            case .number:
                guard !text.isEmpty else { continue }
                if let number = Int64(text) {
                    set(field.name, .integer(number))
                } else {
                    errors.add(field.name, "\(field.label) must be a whole number")
                }
            case .invitees:
                var invitees: [JSONValue] = []
                for (role, _) in Self.roles where form.has("invited.\(role)") || form.has("attended.\(role)") || form.has("report.\(role)") {
                    var invitee: [String: JSONValue] = [
                        "role": .string(role), "attended": .bool(form.has("attended.\(role)")), "written_report": .bool(form.has("report.\(role)")),
                    ]
                    if !form["pupil.\(role)"].isEmpty { invitee["pupil_subject_id"] = .string(form["pupil.\(role)"]) }
                    invitees.append(.object(invitee))
                }
                if invitees.isEmpty { errors.add("invitees", "Tick who was invited to the meeting") } else { set("invitees", .array(invitees)) }
            case .date:
                switch form.date(field.name, label: field.label) {
                case .failure(let invalid): errors.add(field.name, invalid.message)
                case .success(let text) where text.isEmpty: if field.required { errors.add(field.name, "Enter \(field.label.lowercased())") }
                case .success(let text): set(field.name, .string(text))
                }
            case .text, .select:
                if text.isEmpty {
                    if field.required { errors.add(field.name, "Enter \(field.label.lowercased())") }
                } else {
                    set(field.name, .string(text))
                }
            }
        }
        return (.object(root), errors)
    }

    /// The event's request bytes, or what is wrong with the form; `referralID` fills the intake
    /// events' referral.
    public func payload(_ form: FormBody, referralID: String) -> Result<[UInt8], FormErrors> {
        var (json, errors) = self.json(form)
        guard errors.isEmpty else { return .failure(errors) }
        if kind.takesReferralID, case .object(var members) = json {
            members["referral_id"] = .string(referralID)
            json = .object(members)
        }
        do throws(WireError) {
            return .success(try kind.read(json))
        } catch {
            // The message names the field by its JSON path; the form's field of that name shows it.
            let message = "\(error)"
            let field = fields.map(\.name).sorted { $0.count > $1.count }.first { message.contains($0) } ?? fields.first?.name ?? "form"
            errors.add(field, message)
            return .failure(errors)
        }
    }
}
