public import HSBSafeguarding
public import HSBWire

/// The rules module's decisions as the wire carries them.
public enum DecisionWire {
    /// The agency of the suite that owns work for a recipient.
    public static func agency(for recipient: Recipient) -> Agency {
        switch recipient {
        case .youthJustice: .youthJustice
        case .police: .police
        case .camhs: .camhs
        case .mappa: .mappa
        case .adultSocialCare: .adultSocialCare
        case .education: .education
        case .health: .health
        case .contactService, .socialCare, .allocatedSocialWorker, .independentReviewingOfficer, .placementTeams, .safeguardingUnit,
            .homeAuthority, .mase, .earlyHelp, .hsbPanel, .parents:
            .socialCare
        }
    }

    public static func deadlineKind(_ rule: DeadlineRule) -> DeadlineKind {
        switch rule {
        case .workingDays: .workingDays
        case .calendarDays: .calendarDays
        case .hours: .hours
        case .monthsAfter: .review
        case .workingDaysBefore, .calendarDaysBefore: .workingDaysBefore
        case .monthsBefore: .monthsBefore
        }
    }

    public static func task(_ task: DecisionTask) -> CaseTask {
        CaseTask(
            taskID: task.id, description: task.description, owner: agency(for: task.owner),
            deadline: task.due.map {
                Deadline(kind: deadlineKind($0.rule), dueUnixMillis: $0.due.unixMillis, ruleID: task.ruleID, description: "\($0.rule), by \($0.date)")
            },
            ruleID: task.ruleID, assignee: task.owner.rawValue, subjectID: task.subjectID ?? "")
    }

    public static func decision(
        outcome: String, subjects: [String], routes: [String] = [], tasks: [DecisionTask], notifications: [Notification], citations: [Citation],
        rationale: [String]
    ) -> Decision {
        var notify: [Agency] = []
        for notice in notifications where !notify.contains(agency(for: notice.recipient)) {
            notify.append(agency(for: notice.recipient))
        }
        return Decision(
            outcome: outcome, subjectIDs: subjects, routes: routes, tasks: tasks.map(task), notify: notify,
            citations: citations.map { RuleCitation(ruleID: $0.ruleID, source: $0.source) }, rationale: rationale.joined(separator: "\n"),
            notices: notifications.map {
                Notice(recipient: $0.recipient.rawValue, agency: agency(for: $0.recipient), reason: $0.reason, ruleID: $0.ruleID)
            })
    }

    /// A work plan of the rules as a decision.
    public static func decision(_ plan: WorkPlan, outcome: String, subjects: [String]) -> Decision {
        decision(
            outcome: outcome, subjects: subjects, tasks: plan.tasks, notifications: plan.notifications, citations: plan.citations,
            rationale: plan.rationale)
    }
}
