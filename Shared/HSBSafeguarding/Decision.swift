/// Who a task falls to, or who is told.
public enum Recipient: String, Sendable, Hashable, Codable, CaseIterable {
    case contactService = "contact-service"
    case socialCare = "social-care"
    case allocatedSocialWorker = "allocated-social-worker"
    case independentReviewingOfficer = "independent-reviewing-officer"
    case placementTeams = "fostering-resources-and-pathways-teams"
    case youthJustice = "youth-justice"
    case police
    case camhs
    case mappa
    case safeguardingUnit = "safeguarding-unit"
    case homeAuthority = "home-authority"
    case adultSocialCare = "adult-social-care"
    case mase
    case earlyHelp = "early-help"
    case hsbPanel = "hsb-panel"
    case education
    case health
    case parents
}

/// A pathway a decision opens (CAL 5; YJ-02, YJ-03, YJ-14).
public enum CaseRoute: String, Sendable, Hashable, Codable, CaseIterable {
    case earlyHelp = "early-help"
    case childInNeed = "child-in-need"
    case childProtection = "child-protection"
    /// YJ-02: a police decision to proceed (out-of-court disposal or charge).
    case criminalJustice = "criminal-justice"
    /// YJ-03, YJ-14: concern about a young person 10 or over, outside the criminal justice system.
    case concern
}

/// A piece of work a decision creates, with its deadline and the rule behind it.
public struct DecisionTask: Sendable, Hashable, Codable {
    /// Stable within a decision: the rule and a short key, e.g. `SCR-08/strategy-meeting`.
    public let id: String
    public let description: String
    public let owner: Recipient
    public let due: DueDate?
    public let ruleID: String
    /// Which subject it concerns; nil for the whole case.
    public let subjectID: String?
}

/// Someone who must be told, why, and the rule that says so.
public struct Notification: Sendable, Hashable, Codable {
    public let recipient: Recipient
    public let reason: String
    public let ruleID: String
}

/// Collects what a decision's rules produce, so that each rule adds its citation, its line of
/// rationale, its tasks and its notifications in one place.
struct DecisionRecorder {
    private(set) var citations: [Citation] = []
    private(set) var rationale: [String] = []
    private(set) var tasks: [DecisionTask] = []
    private(set) var notifications: [Notification] = []
    private(set) var forJudgement: [String] = []

    mutating func apply(_ ruleID: String, _ reason: String) {
        let citation = RuleCatalogue.cite(ruleID)
        if !citations.contains(citation) { citations.append(citation) }
        rationale.append("\(reason) [\(ruleID)]")
    }

    mutating func task(_ ruleID: String, _ key: String, _ description: String, owner: Recipient, due: DueDate? = nil, subject: String? = nil) {
        let id = subject.map { "\(ruleID)/\(key)/\($0)" } ?? "\(ruleID)/\(key)"
        guard !tasks.contains(where: { $0.id == id }) else { return }
        tasks.append(DecisionTask(id: id, description: description, owner: owner, due: due, ruleID: ruleID, subjectID: subject))
    }

    mutating func notify(_ recipient: Recipient, _ reason: String, rule ruleID: String) {
        guard !notifications.contains(where: { $0.recipient == recipient && $0.ruleID == ruleID }) else { return }
        notifications.append(Notification(recipient: recipient, reason: reason, ruleID: ruleID))
    }

    mutating func judgement(_ point: String) { forJudgement.append(point) }
}
