import Foundation
import HSBPractice
public import HSBSafeguarding
public import HSBWire

/// The new-referral form: its fields are the referral file's (docs/REFERRAL_JSON.md), so the form
/// is read into that JSON and validated by the same code as `hsbctl submit`.
public enum ReferralForm {
    /// Slots for people harmed on one form; more are added after, as events.
    public static let harmedSlots = 3

    public struct Flag: Sendable {
        public let name: String
        public let label: String
    }

    /// The yes/no facts a referral may carry, each with the rule it feeds.
    public static let flags: [Flag] = [
        Flag(name: "immediate_risk", label: "A child is at immediate risk (SCR-09)"),
        Flag(name: "urgent_by_telephone", label: "Referred urgently by telephone (SCR-11)"),
        Flag(name: "written_follow_up_received", label: "The written follow-up has been received (SCR-11)"),
        Flag(name: "significant_harm_suspected", label: "Significant harm is suspected (SCR-05, SCR-07)"),
        Flag(name: "child_displaying_may_be_abused", label: "The child displaying the behaviour may be being abused (SCR-05)"),
        Flag(name: "physically_violent", label: "The behaviour was physically violent (SCR-03)"),
        Flag(name: "sexual_activity", label: "Sexual activity took place (GEN-04, GEN-05)"),
        Flag(name: "complex_concerns", label: "The concerns are complex (SCR-08)"),
        Flag(name: "exploitation_links", label: "There are links to exploitation (SCR-16)"),
        Flag(name: "siblings_at_risk", label: "Siblings are at risk (SCR-15)"),
        Flag(name: "police_notification", label: "The police have been told"),
        Flag(name: "competence_assessed", label: "The young person's competence to consent was assessed (GEN-05)"),
        Flag(name: "mental_health_concern", label: "There is a mental health concern (MH-01)"),
        Flag(name: "open_to_youth_justice", label: "Open to youth justice"),
        Flag(name: "known_to_camhs", label: "Known to CAMHS (MH-02)"),
    ]

    public static let indicatorLabels: [(String, String)] = [
        ("frequency-beyond-developmental-expectation", "Happens more often than expected for the child's development"),
        ("interferes-with-development", "Interferes with the child's development"),
        ("coercion-intimidation-or-force", "Involves coercion, intimidation or force"),
        ("emotional-distress", "Causes emotional distress"),
        ("divergent-ages-or-abilities", "Between children of different ages or abilities"),
        ("recurs-in-secrecy-after-intervention", "Recurs in secret after an adult stepped in"),
    ]

    public static let consentOptions: [(String, String)] = [
        ("given", "Given"), ("refused", "Refused"), ("not-sought", "Not sought"),
    ]
    public static let parentsOptions: [(String, String)] = [
        ("yes", "Yes"), ("no-would-increase-risk-of-harm", "No: telling them would increase the risk of harm"),
        ("no-would-interfere-with-criminal-investigation", "No: it would interfere with a criminal investigation"),
        ("no-would-cause-undue-delay", "No: it would cause undue delay"),
    ]
    public static let imagesOptions: [(String, String)] = [
        ("", "None involved"), ("experimental", "Experimental"), ("harmful-or-reckless", "Harmful or reckless"),
        ("adult-involved", "An adult is involved"),
    ]
    public static let otherChildrenOptions: [(String, String)] = [("", "Not known"), ("yes", "Yes"), ("no", "No")]

    /// The child's age band at the incident (else at receipt, else `today`), when the dates allow.
    public static func band(_ form: FormBody, today: CivilDate) -> AgeBand? {
        func value(_ name: String, time: Bool = false) -> String { (try? form.date(name, label: name, withTime: time).get()) ?? "" }
        guard let birth = CivilDate(iso: value("child.date_of_birth")) else { return nil }
        let at = CivilDate(iso: value("incident_date")) ?? CivilDate(iso: value("received_at", time: true).prefix(10)) ?? today
        guard birth <= at else { return nil }
        return AgeBand(age: birth.age(on: at))
    }

    /// The referral's JSON, as a referral file would hold it, and what the form itself lacks.
    public static func json(_ form: FormBody, today: CivilDate) -> ([String: Any], FormErrors) {
        var errors = FormErrors()
        func date(_ name: String, _ label: String, time: Bool = false) -> String {
            switch form.date(name, label: label, withTime: time) {
            case .success(let text): return text
            case .failure(let invalid):
                errors.add(name, invalid.message)
                return ""
            }
        }
        func person(_ prefix: String, harmed: Bool) -> [String: Any] {
            var person: [String: Any] = [:]
            for key in ["subject_id", "given_name", "family_name", "postcode", "home_authority"] where !form["\(prefix).\(key)"].isEmpty {
                person[key] = form["\(prefix).\(key)"]
            }
            let birth = date("\(prefix).date_of_birth", "The date of birth")
            if !birth.isEmpty { person["date_of_birth"] = birth }
            for key in harmed ? ["adult_in_need_of_safeguarding"] : ["looked_after", "open_to_social_care"] where form.has("\(prefix).\(key)") {
                person[key] = true
            }
            return person
        }
        var json: [String: Any] = ["child": person("child", harmed: false)]
        if form["child.subject_id"].isEmpty { errors.add("child.subject_id", "Enter the child's subject id") }
        if (json["child"] as? [String: Any])?["date_of_birth"] == nil { errors.add("child.date_of_birth", "Enter the child's date of birth") }
        var harmed: [[String: Any]] = []
        for slot in 1...harmedSlots {
            let entry = person("harmed\(slot)", harmed: true)
            guard !entry.isEmpty else { continue }
            if entry["subject_id"] == nil { errors.add("harmed\(slot).subject_id", "Enter the subject id of person harmed \(slot)") }
            harmed.append(entry)
        }
        if !harmed.isEmpty { json["persons_harmed"] = harmed }
        if form["referrer"].isEmpty {
            errors.add("referrer", "Enter who referred, and from which service")
        } else {
            json["referrer"] = form["referrer"]
        }
        for key in ["incident_details", "victim_vulnerability", "coercion_evidence", "referrer_assessed_risk", "consent_to_share"]
        where !form[key].isEmpty {
            json[key] = form[key]
        }
        let incident = date("incident_date", "The incident date")
        if !incident.isEmpty { json["incident_date"] = incident }
        let received = date("received_at", "When the referral was received", time: true)
        if !received.isEmpty { json["received_at"] = received }
        if form["parents_told"].isEmpty {
            errors.add("parents_told", "Say whether the parents were told of the referral (SCR-20)")
        } else {
            json["parents_told"] = form["parents_told"]
        }
        if !form["youth_produced_images"].isEmpty { json["youth_produced_images"] = form["youth_produced_images"] }
        switch form["other_children_may_be_at_risk"] {
        case "yes": json["other_children_may_be_at_risk"] = true
        case "no": json["other_children_may_be_at_risk"] = false
        default: break
        }
        let behaviours = form.all("behaviours")
        if !behaviours.isEmpty {
            // Only the band's own behaviours are offered; another band's id is the form tampered with.
            let band = Self.band(form, today: today)
            let offered = Set(BrookCatalogue.entries.filter { $0.band == band }.map(\.id))
            if let wrong = behaviours.first(where: { !offered.contains($0) }) {
                errors.add(
                    "behaviours", "\(ProtoJSON.quotedExcerpt(wrong)) is not a behaviour of the child's age band; choose Show the behaviours again")
            }
            json["behaviours"] = behaviours
        }
        let others = form["other_behaviours"].split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        if !others.isEmpty { json["other_behaviours"] = others }
        if behaviours.isEmpty && others.isEmpty {
            errors.add("behaviours", "Choose the behaviours seen, or describe them under Other behaviours (SCR-01)")
        }
        let indicators = form.all("harm_indicators")
        if !indicators.isEmpty { json["harm_indicators"] = indicators }
        for flag in flags where form.has(flag.name) { json[flag.name] = true }
        return (json, errors)
    }

    /// The field a referral file's field path is on this form (`persons_harmed[0].date_of_birth`
    /// is `harmed1.date_of_birth`).
    public static func formField(_ path: String) -> String {
        guard path.hasPrefix("persons_harmed["), let close = path.firstIndex(of: "]"),
            let index = Int(path[path.index(path.startIndex, offsetBy: 15)..<close])
        else { return path }
        return "harmed\(index + 1)" + path[path.index(after: close)...]
    }

    /// The referral, or what is wrong with the form, each message naming its field.
    public static func read(_ form: FormBody, today: CivilDate) -> Result<IntakeV1.Referral, FormErrors> {
        var (json, errors) = Self.json(form, today: today)
        if json["referrer"] == nil { json["referrer"] = "" }
        guard errors.isEmpty else { return .failure(errors) }
        do {
            let data = try JSONSerialization.data(withJSONObject: json)
            return .success(try ReferralFile.decode(data, source: "the form"))
        } catch let error as ReferralFileError {
            let message = error.description.hasPrefix("the form: ") ? String(error.description.dropFirst(10)) : error.description
            errors.add(error.field.map(formField) ?? "child.subject_id", message)
            return .failure(errors)
        } catch {
            errors.add("child.subject_id", "\(error)")
            return .failure(errors)
        }
    }
}
