import Foundation
import HSBWire

/// A case as the orchestrator stores it (one versioned record per case).
struct CaseState: Codable {
    struct Entry: Codable {
        var at: Int64
        var what: String
        var ruleIDs: [String]
    }

    struct DisclosureEntry: Codable {
        var at: Int64
        var toService: String
        var what: String
        var purpose: String
        var lawfulBasis: String
        var consent: String
    }

    struct DeadlineItem: Codable {
        var taskID: String
        var description: String
        var owner: Int32
        var assignee: String
        /// When it falls due; 0 for work without a time limit.
        var due: Int64
        var ruleID: String
        /// Set when the task is done: by whom and when.
        var completedBy: String?
        var completedAt: Int64?

        var isOpen: Bool { completedAt == nil }
        /// Past due and not done; work the procedure names without a time limit (due 0) is never overdue.
        func isOverdue(at now: Int64) -> Bool { isOpen && due > 0 && due < now }
    }

    /// Marks the open tasks whose id starts with one of `prefixes` done; returns how many.
    @discardableResult
    mutating func complete(prefixes: [String], by: String, at: Int64) -> Int {
        var count = 0
        for index in deadlines.indices where deadlines[index].isOpen && prefixes.contains(where: { deadlines[index].taskID.hasPrefix($0) }) {
            deadlines[index].completedBy = by
            deadlines[index].completedAt = at
            count += 1
        }
        return count
    }

    var caseID: String
    var childSubjectID: String
    var status: String
    /// Every referral the case holds, oldest first, with when each arrived.
    var referrals: [Data]
    var referralTimes: [Int64]
    var screening: Data?
    var alerts: [String]
    /// The child's identity for duplicate detection: normalised name, date of birth, postcode.
    var identity: String
    var chronology: [Entry]
    var disclosures: [DisclosureEntry]
    var deadlines: [DeadlineItem]
}

/// A step owed to an agency service: written before it is sent, delivered until it lands.
struct StepState: Codable {
    var stepID: String
    var caseID: String
    var service: String
    var method: String
    var payload: Data
    var status: String
    var attempts: Int32
    var lastError: String
    var nextAttempt: Int64
    /// Why the step is sent, and for whom: the agency service logs it as the orchestrator's purpose,
    /// so its own access log says which agency and practitioner the orchestrator acted for (INF-05).
    var purpose: String? = nil
}

enum JSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension CaseState {
    func view(steps: [StepState], version: Int64, now: Int64) -> OrchestratorV1.CaseView {
        OrchestratorV1.CaseView(
            caseId: caseID, childSubjectId: childSubjectID, status: status,
            screening: screening.flatMap { try? IntakeV1.ScreeningResult(decoding: [UInt8]($0)) },
            steps: steps.map {
                OrchestratorV1.Step(
                    stepId: $0.stepID, service: $0.service, method: $0.method, status: $0.status, attempts: $0.attempts, lastError: $0.lastError,
                    nextAttemptUnixMs: $0.nextAttempt)
            },
            deadlines: deadlines.map { deadlineEntry($0, now: now) },
            chronology: chronology.map { OrchestratorV1.ChronologyEntry(atUnixMs: $0.at, what: $0.what, ruleIds: $0.ruleIDs) },
            disclosures: disclosures.map {
                OrchestratorV1.Disclosure(
                    atUnixMs: $0.at, toService: $0.toService, what: $0.what, purpose: $0.purpose, lawfulBasis: $0.lawfulBasis, consent: $0.consent)
            },
            version: version, alerts: alerts, referrals: Int32(referrals.count))
    }

    /// Open: not yet finished with. A child has at most one open case.
    var isOpen: Bool { !["refused", "outside-procedure", "returned-incomplete", "closed"].contains(status) }

    /// Lower-case letters and digits of the name, the date of birth and the postcode, so that
    /// "O'Neil, Sam" and "oneil sam" match.
    static func identity(of child: Subject?) -> String {
        guard let child else { return "" }
        func normal(_ text: String) -> String { String(text.lowercased().filter { $0.isLetter || $0.isNumber }) }
        let birth = child.dateOfBirth.map { "\($0.year)-\($0.month)-\($0.day)" } ?? ""
        guard !child.familyName.isEmpty, !birth.isEmpty else { return "" }
        return [normal(child.givenName), normal(child.familyName), birth, normal(child.postcode)].joined(separator: "|")
    }

    func deadlineEntry(_ item: DeadlineItem, now: Int64) -> OrchestratorV1.DeadlineEntry {
        OrchestratorV1.DeadlineEntry(
            caseId: caseID, taskId: item.taskID, description: item.description, owner: Agency(rawValue: item.owner) ?? .unspecified,
            assignee: item.assignee, dueUnixMs: item.due, ruleId: item.ruleID,
            status: item.completedAt != nil ? "done" : item.isOverdue(at: now) ? "overdue" : "open", completedBy: item.completedBy ?? "",
            completedUnixMs: item.completedAt ?? 0)
    }
}
