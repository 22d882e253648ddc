import Foundation
import HSBContract
public import HSBSafeguarding
public import HSBWire

/// A case's parts in a practitioner's words, the same in `hsbctl` and the workspace.
public enum CaseText {
    /// UK local time, e.g. "Mon 7 Dec 2026 09:30": the rules module's own clock for England and
    /// Wales (LondonTime), the one deadlines are counted in, and no formatter per call (a case
    /// page shows hundreds of times).
    public static func date(_ millis: Int64) -> String {
        let local = millis + LondonTime.offset(at: Instant(unixMillis: millis))
        let dayMillis: Int64 = 86_400_000
        let days = local >= 0 ? local / dayMillis : (local - dayMillis + 1) / dayMillis
        let date = CivilDate(daysSinceEpoch: Int(days))
        let minutes = (local - days * dayMillis) / 60_000
        let hour = minutes / 60
        let minute = minutes % 60
        return
            "\(weekdays[date.weekday.rawValue - 1]) \(date.day) \(months[date.month - 1]) \(date.year) \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)"
    }

    static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A step's state, or for an orchestrator of the previous release (which has none) its text.
    public static func state(_ step: OrchestratorV1.Step) -> OrchestratorV1.StepStatus {
        step.state != .unspecified ? step.state : (previousStates[step.status] ?? .unspecified)
    }

    static let previousStates: [String: OrchestratorV1.StepStatus] = [
        "refused": .refused, "pending": .pending, "dead": .dead, "delivered": .delivered, "discarded": .discarded,
    ]

    /// A step the case still owes an agency: whether it is on its way, waiting to be tried again
    /// (and when), or stopped for someone to act on.
    public static func step(_ step: OrchestratorV1.Step) -> String {
        let error = step.lastError.isEmpty ? "" : ": \(step.lastError)"
        switch state(step) {
        case .pending where step.attempts == 0:
            return "to \(step.service): being sent; no answer yet, and the orchestrator keeps trying until it lands"
        case .pending:
            let next = step.nextAttemptUnixMs > 0 ? "; next try \(date(step.nextAttemptUnixMs))" : ""
            return "to \(step.service): waiting, \(step.attempts) attempt(s) failed\(next)\(error)"
        case .dead:
            return "to \(step.service): given up after \(step.attempts) attempt(s), for the partnership's operators to retry or discard\(error)"
        default:
            return "to \(step.service): \(step.status) after \(step.attempts) attempt(s)\(error)"
        }
    }

    /// One line of a decision's rationale: its words and the rule it cites (`... [SCR-08]`).
    public struct RationaleLine: Sendable, Equatable {
        public let text: String
        public let ruleID: String?
        public let source: String?
    }

    /// The decision's rationale, a line each, with the rule each line ends with and that rule's
    /// seed clause from the decision's citations.
    public static func rationale(_ text: String, citations: [RuleCitation]) -> [RationaleLine] {
        let sources = Dictionary(citations.map { ($0.ruleID, $0.source) }, uniquingKeysWith: { first, _ in first })
        return text.split(separator: "\n").map { line in
            guard line.hasSuffix("]"), let open = line.lastIndex(of: "[") else { return RationaleLine(text: String(line), ruleID: nil, source: nil) }
            let rule = String(line[line.index(after: open)..<line.index(before: line.endIndex)])
            let words = line[..<open].trimmingCharacters(in: .whitespaces)
            let source = sources[rule].flatMap { $0.isEmpty ? nil : $0 }
            return RationaleLine(text: words, ruleID: rule, source: source)
        }
    }

    /// Whose case it is, in words.
    public static func role(_ view: OrchestratorV1.CaseView) -> String {
        view.role == "person-harmed" ? "a child harmed" : "the child displaying HSB"
    }

    /// A case's status in words; unknown tokens from a newer orchestrator are shown as sent.
    public static func status(_ token: String) -> String {
        statuses[token] ?? token
    }

    static let statuses: [String: String] = [
        "awaiting-screening": "awaiting screening", "screened": "screened", "returned-incomplete": "returned to the referrer: incomplete",
        "outside-procedure": "outside this procedure", "refused": "refused by intake", "closed": "closed",
    ]
}

extension CaseText {
    /// The UK local date of `millis`.
    public static func localDate(_ millis: Int64) -> CivilDate { LondonTime.date(of: Instant(unixMillis: millis)) }
}
