/// A rule of the catalogue (docs/RULES.md).
public struct Rule: Sendable, Hashable, Codable {
    /// `SCR-08` style.
    public let id: String
    /// The seed clauses, e.g. `ISL 5.3, CAM 8.3, GAT 3.3.1`.
    public let source: String
    public let summary: String
}

/// A rule a decision rests on: its ID and the seed clause.
public struct Citation: Sendable, Hashable, Codable, CustomStringConvertible {
    public let ruleID: String
    public let source: String

    public var description: String { "\(ruleID) (\(source))" }
}

/// The rule catalogue, looked up by ID.
public enum RuleCatalogue {
    private static let byID: [String: Rule] = Dictionary(uniqueKeysWithValues: rules.map { ($0.id, $0) })

    public static func rule(_ id: String) -> Rule? { byID[id] }

    /// The citation for rule `id`; the ID must be in the catalogue.
    public static func cite(_ id: String) -> Citation {
        guard let rule = byID[id] else { preconditionFailure("\(id) is not in the rule catalogue") }
        return Citation(ruleID: rule.id, source: rule.source)
    }
}

/// The local procedures the rules come from, by the code each rule's source names them with.
public enum SeedProcedures {
    public static let titles: [(code: String, title: String)] = [
        ("CAM", "Camden Safeguarding Children Partnership HSB protocol 2023"),
        ("LLR", "Leicester, Leicestershire & Rutland HSB procedure (2024)"),
        ("GAT", "Gateshead sexually harmful behaviour procedure"),
        ("ISL", "Islington HSB procedure"),
        ("CAL", "Calderdale HSB panel operational guidance and information sharing agreement"),
    ]

    /// A rule's source (`ISL 5.3, CAM 8.3`) as clauses, each with its procedure's title.
    public static func clauses(_ source: String) -> [(code: String, clause: String, title: String?)] {
        source.split(separator: ",").map { part in
            let words = part.split(separator: " ")
            let code = words.first.map(String.init) ?? ""
            let clause = words.dropFirst().joined(separator: " ")
            return (code, clause, titles.first { $0.code == code }?.title)
        }
    }
}
