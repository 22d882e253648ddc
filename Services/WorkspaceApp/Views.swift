import Foundation
import HSBContract
import HSBPathway
import HSBPractice
import HSBSafeguarding
import HSBWire

/// Page models: plain dictionaries for the templates, empty text left out (a Mustache section on
/// a present value always renders).
enum Views {
    typealias Model = [String: Any]

    static func compact(_ model: Model) -> Model { model.filter { !(($0.value as? String)?.isEmpty ?? false) } }

    static func agencyLabel(_ agency: Agency) -> String {
        labels[agency] ?? agency.name
    }

    static let labels: [Agency: String] = [
        .socialCare: "Children's social care", .youthJustice: "Youth justice", .camhs: "CAMHS", .mappa: "MAPPA", .police: "Police",
        .education: "Education", .health: "Health", .ops: "Partnership operations", .orchestrator: "Orchestrator",
    ]

    static func errors(_ errors: FormErrors) -> Model {
        ["hasErrors": !errors.isEmpty, "errors": errors.items.map { ["field": $0.field, "message": $0.message] }]
    }

    static func due(_ millis: Int64) -> String { millis == 0 ? "No time limit" : CaseText.date(millis) }

    // MARK: Fields

    enum FieldKind {
        case text, password, date, dateTime, number, textarea, checkbox
        case select([(String, String)])
        case radios([(String, String)])
        case checkboxes([(String, String)])
        /// The roles, and the pupil a school attends for (from the case).
        case invitees([(String, String)], pupil: String)
    }

    static func field(
        _ name: String, _ label: String, _ kind: FieldKind, form: FormBody?, errors: FormErrors, hint: String = "", required: Bool = false,
        value initial: String = "", autocomplete: String = ""
    ) -> Model {
        let value = form.map { $0[name] } ?? initial
        let error = errors[name] ?? ""
        var described: [String] = []
        if !hint.isEmpty { described.append("\(name)-hint") }
        if !error.isEmpty { described.append("\(name)-error") }
        var model: Model = [
            "id": name, "name": name, "label": label, "hint": hint, "hasHint": !hint.isEmpty, "error": error, "hasError": !error.isEmpty,
            "value": value, "describedBy": described.joined(separator: " "), "required": required, "autocomplete": autocomplete,
        ]
        switch kind {
        case .text: model["isText"] = true
        case .password: model["isPassword"] = true
        case .date, .dateTime:
            // Day, month and year (and time) as separate fields, whatever the browser's locale.
            model["isDate"] = true
            model["isGroup"] = true
            let parts = value.split(separator: "T").first.map { $0.split(separator: "-").map(String.init) } ?? []
            let part = { (suffix: String, index: Int) -> String in
                form.map { $0["\(name).\(suffix)"] } ?? (parts.count == 3 ? parts[index] : "")
            }
            model["day"] = part("day", 2)
            model["month"] = part("month", 1)
            model["year"] = part("year", 0)
            if case .dateTime = kind {
                model["withTime"] = true
                model["time"] = form.map { $0["\(name).time"] } ?? ""
            }
        case .number: model["isNumber"] = true
        case .textarea: model["isTextarea"] = true
        case .checkbox:
            model["isCheckbox"] = true
            model["checked"] = form?.has(name) ?? false
        case .select(let options):
            model["isSelect"] = true
            model["options"] = options.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == value] as Model }
        case .radios(let options), .checkboxes(let options):
            let radio: Bool
            if case .radios = kind { radio = true } else { radio = false }
            let chosen = Set(form?.all(name) ?? [])
            model["isChoices"] = true
            model["isGroup"] = true
            model["choices"] = options.enumerated().map { index, option in
                [
                    "id": index == 0 ? name : "\(name)-\(index)", "name": name, "value": option.0, "label": option.1,
                    "checked": chosen.contains(option.0), "inputType": radio ? "radio" : "checkbox",
                ] as Model
            }
        case .invitees(let roles, let pupil):
            model["isInvitees"] = true
            model["isGroup"] = true
            model["rows"] = roles.map { role, label in
                [
                    "role": role, "label": label, "invited": form?.has("invited.\(role)") ?? false,
                    "attended": form?.has("attended.\(role)") ?? false,
                    "report": form?.has("report.\(role)") ?? false, "school": role == "education", "pupil": form.map { $0["pupil.\(role)"] } ?? pupil,
                ] as Model
            }
        }
        return compact(model)
    }

    // MARK: Sign in

    static func signIn(csrf: String, username: String, errors: FormErrors, policy: LoginThrottle.Policy, idleMinutes: Int) -> Model {
        var form = FormBody()
        form.set("username", username)
        return [
            "csrf": csrf, "limit": policy.limit, "lockMinutes": policy.lockout / 60_000, "idleMinutes": idleMinutes,
            "fields": [
                field("username", "Username", .text, form: form, errors: errors, required: true, autocomplete: "username"),
                field("password", "Password", .password, form: nil, errors: errors, required: true),
            ],
        ].merging(Self.errors(errors)) { $1 }
    }

    // MARK: Work tray

    static let trayKinds: [(String, String)] = [
        ("", "All kinds"), ("GEN", "People and ages (GEN)"), ("SCR", "Screening (SCR)"), ("STR", "Strategy and plans (STR)"),
        ("YJ", "Youth justice (YJ)"), ("AIM", "AIM assessment (AIM)"), ("MH", "Mental health (MH)"), ("MP", "MAPPA (MP)"),
        ("INF", "Information sharing (INF)"),
    ]

    static func tray(_ list: OrchestratorV1.DeadlineList, who: Practitioner, owner: String, kind: String) -> Model {
        func keep(_ entry: OrchestratorV1.DeadlineEntry) -> Bool {
            (owner != "mine" || entry.assignee == who.username) && (kind.isEmpty || entry.ruleId.hasPrefix(kind + "-"))
        }
        func row(_ entry: OrchestratorV1.DeadlineEntry, overdue: Bool) -> Model {
            compact([
                "due": due(entry.dueUnixMs), "caseId": entry.caseId, "description": entry.description, "ruleId": entry.ruleId,
                "owner": entry.assignee.isEmpty ? agencyLabel(entry.owner) : entry.assignee, "overdue": overdue,
            ])
        }
        let overdue = list.overdue.filter(keep).sorted { $0.dueUnixMs < $1.dueUnixMs }.map { row($0, overdue: true) }
        let week = list.dueSoon.filter(keep).sorted {
            ($0.dueUnixMs == 0 ? Int64.max : $0.dueUnixMs) < ($1.dueUnixMs == 0 ? Int64.max : $1.dueUnixMs)
        }
        .map { row($0, overdue: false) }
        return [
            "agencyLabel": agencyLabel(who.agency),
            "owners": [("team", "My team's (\(agencyLabel(who.agency)))"), ("mine", "Mine")].map {
                ["value": $0.0, "label": $0.1, "selected": $0.0 == owner] as Model
            },
            "kinds": trayKinds.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == kind] as Model },
            "sections": [
                [
                    "id": "overdue", "title": "Overdue", "count": overdue.count, "hasRows": !overdue.isEmpty, "rows": overdue,
                    "empty": "Nothing is overdue.",
                ],
                [
                    "id": "due", "title": "Due this week", "count": week.count, "hasRows": !week.isEmpty, "rows": week,
                    "empty": "Nothing falls due in the next 7 days.",
                ],
            ] as [Model],
        ]
    }

    // MARK: Case

    static func casePage(_ view: OrchestratorV1.CaseView, who: Practitioner, csrf: String = "", submission: String = "") -> Model {
        var model: Model = [
            "csrf": csrf, "submission": submission, "caseId": view.caseId, "childSubjectId": view.childSubjectId, "role": CaseText.role(view),
            "status": CaseText.status(view.status),
            "statusTag": view.status == "screened" ? "" : view.status == "refused" ? "tag-red" : "tag-grey",
        ]
        var lists: [Model] = []
        // A list may run to hundreds (a repeat concern is an alert each time): written by hand.
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            var html = HTML(capacity: items.count * 120)
            for item in items {
                html.raw("<li>")
                html.value(item)
                html.raw("</li>")
            }
            lists.append(["title": title, "items": html.text])
        }
        if let screening = view.screening, !screening.outcome.isEmpty {
            model["profile"] = screening.profile
            model["threshold"] = screening.threshold.isEmpty ? screening.outcome : screening.threshold
            model["grading"] = [
                screening.trafficLight.isEmpty ? nil : "Brook \(screening.trafficLight)",
                screening.continuum.isEmpty ? nil : "Hackett \(screening.continuum)",
                screening.riskCategory.isEmpty ? nil : "risk category \(screening.riskCategory)",
            ].compactMap { $0 }.joined(separator: ", ")
            let rationale = CaseText.rationale(screening.decision?.rationale ?? "", citations: screening.decision?.citations ?? [])
            model["hasRationale"] = !rationale.isEmpty
            model["rationale"] = rationale.map { compact(["text": $0.text, "ruleId": $0.ruleID ?? "", "source": $0.source ?? ""]) }
            model["band"] = screening.ageBand
            model["hasGrades"] = !screening.grades.isEmpty
            model["grades"] = screening.grades.map {
                compact([
                    "grade": $0.grade, "tag": ["red": "tag-red", "amber": "tag-amber", "green": "tag-green"][$0.grade.lowercased()] ?? "",
                    "text": $0.text, "byIndicators": $0.gradedByIndicators,
                ])
            }
            list("Missing from the referral", screening.missing)
            list("For your judgement", screening.forPractitionerJudgement)
            model["hasNotices"] = !screening.notices.isEmpty
            model["notices"] = screening.notices.map { ["recipient": $0.recipient, "reason": $0.reason, "ruleId": $0.ruleId] as Model }
            list("Children harmed", screening.harmedChildren.map { "\($0.subjectId): \($0.threshold) in their own right" })
        }
        list("Alerts", view.alerts)
        model["lists"] = lists
        model["hasRoutes"] = !view.routes.isEmpty
        model["routes"] = view.routes.map { route in
            compact([
                "route": route.route, "lead": route.lead == "joint" ? "youth justice and social care jointly" : route.lead,
                "coWorker": route.coWorker,
                "rules": route.ruleIds,
            ])
        }
        model["hasLinked"] = !view.linked.isEmpty
        model["linked"] = view.linked.map {
            compact([
                "caseId": $0.caseId, "subjectId": $0.subjectId, "role": $0.role.replacingOccurrences(of: "-", with: " "), "threshold": $0.threshold,
            ])
        }
        model["hasWithheld"] = !view.withheld.isEmpty
        model["withheld"] = view.withheld
        let deadlines = view.deadlines.sorted { ($0.dueUnixMs == 0 ? Int64.max : $0.dueUnixMs) < ($1.dueUnixMs == 0 ? Int64.max : $1.dueUnixMs) }
        model["hasDeadlines"] = !deadlines.isEmpty
        var rows = HTML(capacity: deadlines.count * 400)
        for entry in deadlines {
            let state = entry.status == "overdue" ? "Overdue" : entry.status == "done" ? "Done" : "Open"
            let tag = entry.status == "overdue" ? "tag-red" : entry.status == "done" ? "tag-green" : ""
            rows.raw("<tr><td>")
            rows.value(due(entry.dueUnixMs))
            rows.raw("</td><td>")
            rows.value(entry.description)
            rows.raw("</td><td class=\"rule\">")
            rows.rule(entry.ruleId)
            rows.raw("</td><td>")
            rows.value(entry.assignee.isEmpty ? agencyLabel(entry.owner) : entry.assignee)
            rows.raw("</td><td><strong class=\"tag \(tag)\">\(state)</strong>")
            if entry.status == "done", !entry.completedBy.isEmpty {
                rows.raw(" <span class=\"muted\">by ")
                rows.value(entry.completedBy)
                rows.raw("</span>")
            }
            // The agency a task falls to, or social care (which leads every case), may mark it done.
            if entry.status != "done", view.status != "closed", entry.owner == who.agency || who.agency == .socialCare {
                rows.raw("<form method=\"post\" action=\"/cases/")
                rows.value(view.caseId)
                rows.raw("/tasks\" class=\"task-done\"><input type=\"hidden\" name=\"csrf\" value=\"")
                rows.value(csrf)
                rows.raw("\"><input type=\"hidden\" name=\"submission\" value=\"")
                rows.value(submission)
                rows.raw("\"><input type=\"hidden\" name=\"task\" value=\"")
                rows.value(entry.taskId)
                rows.raw("\"><button class=\"button button-secondary button-small\" type=\"submit\">Mark done<span class=\"visually-hidden\">: ")
                rows.value(entry.description)
                rows.raw("</span></button></form>")
            }
            rows.raw("</td></tr>\n")
        }
        model["deadlineRows"] = rows.text
        let steps = view.steps.filter { CaseText.state($0) != .delivered && CaseText.state($0) != .discarded }.map(CaseText.step)
        model["hasSteps"] = !steps.isEmpty
        model["steps"] = steps
        model["hasChronology"] = !view.chronology.isEmpty
        var chronology = HTML(capacity: view.chronology.count * 200)
        for entry in view.chronology {
            chronology.raw("<tr><td>")
            chronology.value(CaseText.date(entry.atUnixMs))
            chronology.raw("</td><td>")
            chronology.value(entry.what)
            chronology.raw("</td><td>")
            for rule in entry.ruleIds {
                chronology.rule(rule)
                chronology.raw(" ")
            }
            chronology.raw("</td></tr>\n")
        }
        model["chronologyRows"] = chronology.text
        model["hasDisclosures"] = !view.disclosures.isEmpty
        var disclosures = HTML(capacity: view.disclosures.count * 300)
        for entry in view.disclosures {
            disclosures.raw("<tr><td>")
            disclosures.value(CaseText.date(entry.atUnixMs))
            disclosures.raw("</td><td>")
            disclosures.value(entry.toService)
            disclosures.raw("</td><td>")
            disclosures.value(entry.what)
            disclosures.raw(" <span class=\"muted\">for ")
            disclosures.value(entry.purpose)
            disclosures.raw("</span></td><td>")
            disclosures.value(entry.lawfulBasis)
            disclosures.raw("</td><td>")
            disclosures.value(entry.consent)
            if !entry.parentsTold.isEmpty {
                disclosures.raw("; parents ")
                disclosures.value(entry.parentsTold)
            }
            disclosures.raw("</td></tr>\n")
        }
        model["disclosureRows"] = disclosures.text
        let events = EventForm.all.filter { $0.permits(who.agency) }
        model["hasEvents"] = !events.isEmpty && view.status != "closed"
        model["events"] = events.map { ["slug": $0.slug, "title": $0.title] }
        return compact(model)
    }

    // MARK: Event form

    static func event(
        _ form: EventForm, view: OrchestratorV1.CaseView, posted: FormBody?, errors: FormErrors, submission: String, csrf: String
    ) -> Model {
        let fields: [Model] = form.fields.map { spec in
            let kind: FieldKind
            switch spec.kind {
            case .text: kind = .text
            case .date: kind = .date
            case .number: kind = .number
            case .checkbox: kind = .checkbox
            case .lines: kind = .textarea
            case .select(let options): kind = .select(options)
            case .invitees: kind = .invitees(EventForm.roles, pupil: view.childSubjectId)
            }
            return field(
                spec.name, spec.label, kind, form: posted, errors: errors, hint: spec.hint, required: spec.required, value: spec.fromCase?(view) ?? ""
            )
        }
        let reviewed = posted.map { $0["reviewed_plan"] }.flatMap { $0.isEmpty ? nil : $0 }
        let closing = form.closing(in: view, reviewedPlan: reviewed)
        return [
            "caseId": view.caseId, "childSubjectId": view.childSubjectId, "title": form.title, "intro": form.intro, "slug": form.slug,
            "csrf": csrf, "submission": submission, "fields": fields, "service": EventMethods.table[form.kind.method]?.service ?? "the agency",
            "hasClosing": !closing.isEmpty,
            "closing": closing.map { ["description": $0.description, "ruleId": $0.ruleId, "due": due($0.dueUnixMs)] as Model },
        ].merging(Self.errors(errors)) { $1 }
    }

    // MARK: Rules

    static func rules() -> Model {
        [
            "sources": SeedProcedures.titles.map { ["code": $0.code, "title": $0.title] as Model },
            "rules": RuleCatalogue.rules.map { ["id": $0.id, "source": $0.source, "summary": $0.summary] as Model },
        ]
    }

    static func rule(_ rule: Rule) -> Model {
        [
            "id": rule.id, "summary": rule.summary,
            "clauses": SeedProcedures.clauses(rule.source).map { compact(["code": $0.code, "clause": $0.clause, "title": $0.title ?? ""]) },
        ]
    }
}

extension FormBody {
    mutating func set(_ name: String, _ value: String) {
        appendPair(name, value)
    }
}

extension Views {
    // MARK: New referral

    static func referral(_ posted: FormBody?, errors: FormErrors, band: AgeBand?, who: Practitioner, submission: String, csrf: String) -> Model {
        func f(_ name: String, _ label: String, _ kind: FieldKind, hint: String = "", required: Bool = false) -> Model {
            field(name, label, kind, form: posted, errors: errors, hint: hint, required: required)
        }
        func person(_ prefix: String, harmed: Bool) -> [Model] {
            [
                f("\(prefix).subject_id", "Subject id", .text, hint: "The person's id in your case system.", required: !harmed),
                f("\(prefix).given_name", "Given name", .text), f("\(prefix).family_name", "Family name", .text),
                f("\(prefix).date_of_birth", "Date of birth", .date, required: !harmed),
            ]
                + (harmed
                    ? [f("\(prefix).adult_in_need_of_safeguarding", "An adult in need of safeguarding (GEN-06)", .checkbox)]
                    : [
                        f("\(prefix).postcode", "Postcode", .text),
                        f("\(prefix).home_authority", "Home local authority", .text, hint: "When the child lives in another area (SCR-12)."),
                        f("\(prefix).looked_after", "The child is looked after (SCR-14)", .checkbox),
                        f("\(prefix).open_to_social_care", "The child is open to children's social care (SCR-13)", .checkbox),
                    ])
        }
        let chosen = Set(posted?.all("behaviours") ?? [])
        var grades: [Model] = []
        if let band {
            var counter = 0
            for grade in TrafficLight.allCases.reversed() {
                let items = BrookCatalogue.entries.filter { $0.band == band && $0.grade == grade }
                guard !items.isEmpty else { continue }
                grades.append([
                    "grade": grade.name.capitalized, "description": BrookCatalogue.gradeDescriptions[grade] ?? "",
                    "items": items.map { entry -> Model in
                        counter += 1
                        return [
                            "id": counter == 1 ? "behaviours" : "behaviour-\(counter)", "value": entry.id, "label": entry.text,
                            "checked": chosen.contains(entry.id),
                        ]
                    },
                ])
            }
        }
        var groups: [Model] = [
            ["legend": "The child displaying the behaviour", "fields": person("child", harmed: false)],
            [
                "legend": "When",
                "fields": [
                    f(
                        "received_at", "When children's social care received the referral", .dateTime,
                        hint:
                            "Every deadline counts from this time: the day, and the time as 24-hour, for example 16:00. Leave it empty when the referral came in just now."
                    ),
                    f("incident_date", "Date of the incident", .date, hint: "The child's age, and so the behaviours offered, are taken on this day."),
                ],
            ],
            compact([
                "legend": "Behaviours", "isBehaviours": true, "hasBand": band != nil, "band": band?.label ?? "", "grades": grades,
                "behaviourError": errors["behaviours"] ?? "",
                "fields": [
                    f(
                        "other_behaviours", "Other behaviours", .textarea,
                        hint: "Behaviours not in the tool, one a line: each is graded by the harm indicators and flagged for your judgement."),
                    f("harm_indicators", "Harm indicators seen (SCR-02)", .checkboxes(ReferralForm.indicatorLabels)),
                ],
            ]),
        ]
        for slot in 1...ReferralForm.harmedSlots {
            groups.append([
                "legend": "Person harmed \(slot)",
                "hint": slot == 1 ? "Each person harmed is a subject of their own, with their own case (GEN-01). Leave empty if none." : "",
                "fields": person("harmed\(slot)", harmed: true),
            ])
        }
        groups.append([
            "legend": "The referral",
            "fields": [
                f("referrer", "Referrer", .text, hint: "Who referred, and from which service.", required: true),
                f("incident_details", "What happened", .textarea, hint: "Required when someone was harmed (SCR-10)."),
                f("victim_vulnerability", "The person harmed's vulnerability", .textarea),
                f("coercion_evidence", "Evidence of coercion", .textarea),
                f("referrer_assessed_risk", "The referrer's view of the risk", .textarea),
                f("other_children_may_be_at_risk", "Other children may be at risk", .select(ReferralForm.otherChildrenOptions)),
                f("consent_to_share", "Consent to share information (INF-01 to INF-03)", .radios(ReferralForm.consentOptions)),
                f(
                    "parents_told", "Were the parents told of the referral? (SCR-20)", .select([("", "Choose")] + ReferralForm.parentsOptions),
                    required: true),
                f("youth_produced_images", "Youth-produced images (SCR-17)", .select(ReferralForm.imagesOptions)),
            ],
        ])
        groups.append(["legend": "What is known", "fields": ReferralForm.flags.map { f($0.name, $0.label, .checkbox) }])
        return [
            "agencyLabel": agencyLabel(who.agency), "csrf": csrf, "submission": submission,
            "groups": groups.map { compact($0) },
        ].merging(Self.errors(errors)) { $1 }
    }
}
