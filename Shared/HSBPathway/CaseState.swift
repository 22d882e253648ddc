public import Foundation
public import HSBWire

/// A case as the orchestrator keeps it: its referrals and screening, its work and deadlines, its
/// chronology, alerts and disclosure ledger. The pathway (`CasePathway`) is the only thing that
/// changes it.
/// Where a case stands.
public enum CaseStatus: String, Codable, Equatable, Sendable, CaseIterable {
    /// Written, with its referral on its way to intake.
    case awaitingScreening = "awaiting-screening"
    case screened
    /// SCR-10: returned to the referrer (only when nothing indicates significant harm).
    case returnedIncomplete = "returned-incomplete"
    /// GEN-01, SCR-17: not for this procedure.
    case outsideProcedure = "outside-procedure"
    /// Intake refused the referral: the case keeps the refusal, nothing personal.
    case refused
    /// STR-07: closed by a multi-agency decision.
    case closed

    /// Still being worked: a child has at most one open case.
    public var isOpen: Bool { self == .awaitingScreening || self == .screened }
}

/// A kind of task: the rule it comes from and, where it matters, which of that rule's tasks
/// (`SCR-08/strategy-meeting/child-1` is rule SCR-08, kind strategy-meeting). Events close tasks by
/// kind, never by matching text.
public struct TaskKind: Hashable, Sendable, CustomStringConvertible {
    public let rule: String
    /// Nil: every task of the rule.
    public let kind: String?

    public init(_ rule: String, _ kind: String? = nil) {
        self.rule = rule
        self.kind = kind
    }

    /// The kind of a task id `RULE/kind/subject` (or `RULE/kind`).
    public init(taskID: String) {
        let parts = taskID.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        self.rule = parts.first.map(String.init) ?? taskID
        self.kind = parts.count > 1 ? String(parts[1]) : nil
    }

    /// Whether a task of kind `other` is one of these.
    public func covers(_ other: TaskKind) -> Bool { rule == other.rule && (kind == nil || kind == other.kind) }

    public var description: String { kind.map { "\(rule)/\($0)" } ?? rule }
}

/// Whose case it is (GEN-01: the child displaying HSB and each person harmed are separate subjects).
public enum CaseRole: String, Codable, Equatable, Sendable {
    case childDisplayingHSB = "child-displaying-hsb"
    case personHarmed = "person-harmed"
}

public struct CaseState: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var at: Int64
        public var what: String
        public var ruleIDs: [String]

        public init(at: Int64, what: String, ruleIDs: [String]) {
            self.at = at
            self.what = what
            self.ruleIDs = ruleIDs
        }
    }

    public struct DisclosureEntry: Codable, Equatable, Sendable {
        public var at: Int64
        public var toService: String
        public var what: String
        public var purpose: String
        public var lawfulBasis: String
        public var consent: String
        /// Whether the parents were told of the referral (SCR-20); nil where it does not apply.
        public var parentsTold: String?

        public init(
            at: Int64, toService: String, what: String, purpose: String, lawfulBasis: String, consent: String, parentsTold: String? = nil
        ) {
            self.parentsTold = parentsTold
            self.at = at
            self.toService = toService
            self.what = what
            self.purpose = purpose
            self.lawfulBasis = lawfulBasis
            self.consent = consent
        }
    }

    public struct DeadlineItem: Codable, Equatable, Sendable {
        public var taskID: String
        public var description: String
        public var owner: Int32
        public var assignee: String
        /// When it falls due; 0 for work without a time limit.
        public var due: Int64
        public var ruleID: String
        /// Set when the task is done: by whom and when.
        public var completedBy: String?
        public var completedAt: Int64?

        public init(
            taskID: String, description: String, owner: Int32, assignee: String, due: Int64, ruleID: String, completedBy: String? = nil,
            completedAt: Int64? = nil
        ) {
            self.taskID = taskID
            self.description = description
            self.owner = owner
            self.assignee = assignee
            self.due = due
            self.ruleID = ruleID
            self.completedBy = completedBy
            self.completedAt = completedAt
        }

        public var isOpen: Bool { completedAt == nil }
        /// The kind of task this is (its rule, and which of the rule's tasks).
        public var kind: TaskKind { TaskKind(taskID: taskID) }
        /// Past due and not done; work the procedure names without a time limit (due 0) is never overdue.
        public func isOverdue(at now: Int64) -> Bool { isOpen && due > 0 && due < now }
    }

    /// Marks the open tasks of the given kinds done; returns how many.
    @discardableResult
    public mutating func complete(_ kinds: [TaskKind], by: String, at: Int64) -> Int {
        var count = 0
        for index in deadlines.indices where deadlines[index].isOpen && kinds.contains(where: { $0.covers(deadlines[index].kind) }) {
            deadlines[index].completedBy = by
            deadlines[index].completedAt = at
            count += 1
        }
        return count
    }

    public var caseID: String
    public var childSubjectID: String
    public var status: CaseStatus
    /// Every referral the case holds, oldest first, with when each arrived.
    public var referrals: [Data]
    public var referralTimes: [Int64]
    public var screening: Data?
    public var alerts: [String]
    /// The child's identity for duplicate detection: normalised name, date of birth, postcode.
    public var identity: String
    public var chronology: [Entry]
    public var disclosures: [DisclosureEntry]
    public var deadlines: [DeadlineItem]
    /// Whose case this is (GEN-01): the child displaying HSB, or a child harmed.
    public var role: CaseRole = .childDisplayingHSB
    /// The other children's cases linked to this one.
    public var linked: [LinkedCaseRef] = []
    /// A harmed child's threshold (their case has no screening of its own); empty otherwise.
    public var threshold: String = ""
    /// The consent position every share from this case records (INF-01 to INF-03).
    public var consent: String = ""
    /// Whether the parents were told of the referral (SCR-20).
    public var parentsTold: String = ""
    /// The routes the case is on now, with who leads each (YJ-02, YJ-04, SCR-05).
    public var routes: [RouteState] = []

    /// A route the case is on, who leads the work on it and who co-works it.
    public struct RouteState: Codable, Equatable, Sendable {
        public var route: String
        public var lead: String
        public var coWorker: String
        public var ruleIDs: [String]

        public init(route: String, lead: String, coWorker: String, ruleIDs: [String]) {
            self.route = route
            self.lead = lead
            self.coWorker = coWorker
            self.ruleIDs = ruleIDs
        }
    }

    /// A case linked to this one.
    public struct LinkedCaseRef: Codable, Equatable, Sendable {
        public var caseID: String
        public var subjectID: String
        public var role: CaseRole
        public var threshold: String

        public init(caseID: String, subjectID: String, role: CaseRole, threshold: String) {
            self.caseID = caseID
            self.subjectID = subjectID
            self.role = role
            self.threshold = threshold
        }
    }

    public init(
        caseID: String, childSubjectID: String, status: CaseStatus, referrals: [Data], referralTimes: [Int64], screening: Data?, alerts: [String],
        identity: String, chronology: [Entry], disclosures: [DisclosureEntry], deadlines: [DeadlineItem]
    ) {
        self.caseID = caseID
        self.childSubjectID = childSubjectID
        self.status = status
        self.referrals = referrals
        self.referralTimes = referralTimes
        self.screening = screening
        self.alerts = alerts
        self.identity = identity
        self.chronology = chronology
        self.disclosures = disclosures
        self.deadlines = deadlines
    }
}

extension CaseState {
    /// Open: not yet finished with. A child has at most one open case.
    public var isOpen: Bool { status.isOpen }

    /// Lower-case letters and digits of the name, the date of birth and the postcode, so that
    /// "O'Neil, Sam" and "oneil sam" match.
    public static func identity(of child: Subject?) -> String {
        guard let child else { return "" }
        func normal(_ text: String) -> String { String(text.lowercased().filter { $0.isLetter || $0.isNumber }) }
        let birth = child.dateOfBirth.map { "\($0.year)-\($0.month)-\($0.day)" } ?? ""
        guard !child.familyName.isEmpty, !birth.isEmpty else { return "" }
        return [normal(child.givenName), normal(child.familyName), birth, normal(child.postcode)].joined(separator: "|")
    }
}

extension CaseState {
    enum CodingKeys: String, CodingKey {
        case caseID, childSubjectID, status, referrals, referralTimes, screening, alerts, identity, chronology, disclosures, deadlines, role, linked,
            threshold, consent, parentsTold, routes
    }

    /// Reads a case an earlier version wrote as JSON: the fields it did not have take their defaults.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            caseID: try values.decode(String.self, forKey: .caseID), childSubjectID: try values.decode(String.self, forKey: .childSubjectID),
            status: CaseStatus(rawValue: try values.decode(String.self, forKey: .status)) ?? .screened,
            referrals: try values.decode([Data].self, forKey: .referrals),
            referralTimes: try values.decode([Int64].self, forKey: .referralTimes),
            screening: try values.decodeIfPresent(Data.self, forKey: .screening),
            alerts: try values.decode([String].self, forKey: .alerts), identity: try values.decode(String.self, forKey: .identity),
            chronology: try values.decode([Entry].self, forKey: .chronology),
            disclosures: try values.decode([DisclosureEntry].self, forKey: .disclosures),
            deadlines: try values.decode([DeadlineItem].self, forKey: .deadlines))
        role = try values.decodeIfPresent(CaseRole.self, forKey: .role) ?? .childDisplayingHSB
        linked = try values.decodeIfPresent([LinkedCaseRef].self, forKey: .linked) ?? []
        threshold = try values.decodeIfPresent(String.self, forKey: .threshold) ?? ""
        consent = try values.decodeIfPresent(String.self, forKey: .consent) ?? ""
        parentsTold = try values.decodeIfPresent(String.self, forKey: .parentsTold) ?? ""
        routes = try values.decodeIfPresent([RouteState].self, forKey: .routes) ?? []
    }
}
