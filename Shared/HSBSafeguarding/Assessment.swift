/// A Brook traffic light grade (SCR-01), ordered green < amber < red.
public enum TrafficLight: Int, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case green = 0
    case amber = 1
    case red = 2

    public static func < (lhs: TrafficLight, rhs: TrafficLight) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        switch self {
        case .green: "green"
        case .amber: "amber"
        case .red: "red"
        }
    }
}

/// The Brook tool's age bands. The seed's bands touch at 5, 9 and 13 (0-5, 5-9, 9-13, 13-17);
/// the convention here is that a band holds its lower age and not its upper one: a child of 5 is
/// graded on the 5-9 list, of 9 on the 9-13 list, of 13 on the 13-17 list (SCR-01).
public enum AgeBand: Int, Sendable, Hashable, CaseIterable, Codable {
    case zeroToFive = 0
    case fiveToNine = 5
    case nineToThirteen = 9
    case thirteenToSeventeen = 13

    /// The band for a child of `age` whole years; nil at 18 or over (not a child: GEN-01) or below 0.
    public init?(age: Int) {
        switch age {
        case 0..<5: self = .zeroToFive
        case 5..<9: self = .fiveToNine
        case 9..<13: self = .nineToThirteen
        case 13..<18: self = .thirteenToSeventeen
        default: return nil
        }
    }

    /// As the seed writes it: `0-5`, `5-9`, `9-13`, `13-17`.
    public var label: String {
        switch self {
        case .zeroToFive: "0-5"
        case .fiveToNine: "5-9"
        case .nineToThirteen: "9-13"
        case .thirteenToSeventeen: "13-17"
        }
    }
}

/// One behaviour of the Brook tool for one age band.
public struct BrookBehaviour: Sendable, Hashable, Codable {
    /// Stable: `brook/<band>/<grade>/<n>`.
    public let id: String
    public let band: AgeBand
    public let grade: TrafficLight
    public let text: String
}

/// The Brook traffic light catalogue (CAM App. 1).
public enum BrookCatalogue {
    private static let byID: [String: BrookBehaviour] = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })

    public static func behaviour(id: String) -> BrookBehaviour? { byID[id] }

    public static func behaviours(in band: AgeBand) -> [BrookBehaviour] { entries.filter { $0.band == band } }
}

/// The six harm indicators (SCR-02; CAM 4, LLR 5, GAT 3), and how far each raises concern on the
/// Hackett continuum when present. The floors are this suite's reading of the seeds' definitions,
/// shown to the practitioner with every decision.
public enum HarmIndicator: String, Sendable, Hashable, CaseIterable, Codable {
    case frequencyBeyondDevelopmentalExpectation = "frequency-beyond-developmental-expectation"
    case interferesWithDevelopment = "interferes-with-development"
    case coercionIntimidationOrForce = "coercion-intimidation-or-force"
    case emotionalDistress = "emotional-distress"
    case divergentAgesOrAbilities = "divergent-ages-or-abilities"
    case recursInSecrecyAfterIntervention = "recurs-in-secrecy-after-intervention"

    /// The seed's words (CAM 4).
    public var text: String {
        switch self {
        case .frequencyBeyondDevelopmentalExpectation: "occurs at a frequency greater than would be developmentally expected"
        case .interferesWithDevelopment: "interferes with the child's development"
        case .coercionIntimidationOrForce: "occurs with coercion, intimidation or force"
        case .emotionalDistress: "is associated with emotional distress"
        case .divergentAgesOrAbilities: "occurs between children of divergent ages or developmental abilities"
        case .recursInSecrecyAfterIntervention: "repeatedly recurs in secrecy after intervention by caregivers"
        }
    }

    /// The least serious place on the continuum a behaviour with this indicator can have.
    /// - frequency: the context of otherwise normal behaviour gives concern (CAM 7: inappropriate);
    /// - development, distress, compulsive recurrence: problematic (CAM 4, ISL 3: adverse effect on
    ///   development, distress, compulsivity);
    /// - coercion, divergent ages or abilities: abusive (CAM 4: coercion, power imbalance).
    public var continuumFloor: HackettLevel {
        switch self {
        case .frequencyBeyondDevelopmentalExpectation: .inappropriate
        case .interferesWithDevelopment, .emotionalDistress, .recursInSecrecyAfterIntervention: .problematic
        case .coercionIntimidationOrForce, .divergentAgesOrAbilities: .abusive
        }
    }
}

/// Hackett's continuum of children's sexual behaviours (SCR-03; LLR 3, ISL 3).
public enum HackettLevel: Int, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case normal = 0
    case inappropriate = 1
    case problematic = 2
    case abusive = 3
    case violent = 4

    public static func < (lhs: HackettLevel, rhs: HackettLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        switch self {
        case .normal: "normal"
        case .inappropriate: "inappropriate"
        case .problematic: "problematic"
        case .abusive: "abusive"
        case .violent: "violent"
        }
    }

    /// The seeds' descriptors (LLR 3), in the suite's language (GEN-07: "the perpetrator" of the
    /// seed reads "the child displaying the behaviour").
    public var descriptors: [String] {
        switch self {
        case .normal:
            ["Developmentally expected", "Socially acceptable", "Consensual, mutual, reciprocal", "Shared decision making"]
        case .inappropriate:
            [
                "Single instances of inappropriate sexual behaviour", "Socially acceptable behaviour within peer group",
                "Context for behaviour may be inappropriate", "Generally consensual and reciprocal",
            ]
        case .problematic:
            [
                "Problematic and concerning behaviours", "Developmentally unusual and socially unexpected",
                "No overt elements of victimisation", "Consent issues may be unclear", "May lack reciprocity or equal power",
                "May include levels of compulsivity",
            ]
        case .abusive:
            [
                "Victimising intent or outcome", "Includes misuse of power", "Coercion and force to ensure victim compliance", "Intrusive",
                "Informed consent lacking, or not able to be freely given by victim", "May include elements of expressive violence",
            ]
        case .violent:
            [
                "Physically violent sexual abuse", "Highly intrusive",
                "Instrumental violence which is physiologically and/or sexually arousing to the child displaying the behaviour", "Sadism",
            ]
        }
    }

    /// Where a traffic light grade alone places a behaviour (ISL 3.1 matrix): green is normal,
    /// amber problematic, red abusive.
    public init(_ light: TrafficLight) {
        switch light {
        case .green: self = .normal
        case .amber: self = .problematic
        case .red: self = .abusive
        }
    }

    /// Islington's risk category (SCR-04): inappropriate 0, problematic 1, abusive 2, violent 3;
    /// normal behaviour has none.
    public var riskCategory: RiskCategory? { RiskCategory(rawValue: rawValue - 1) }
}

/// Islington's HSB risk category (SCR-04; ISL 3, 3.1).
public enum RiskCategory: Int, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case zero = 0
    case one = 1
    case two = 2
    case three = 3

    public static func < (lhs: RiskCategory, rhs: RiskCategory) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The social care threshold a screening reaches (SCR-05; CAM 7).
public enum Threshold: Int, Sendable, Hashable, Comparable, CaseIterable, Codable {
    /// Normal behaviour: no service under this procedure.
    case noFurtherAction = 0
    case earlyHelp = 1
    case childInNeed = 2
    case childProtection = 3

    public static func < (lhs: Threshold, rhs: Threshold) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        switch self {
        case .noFurtherAction: "no further action"
        case .earlyHelp: "early help"
        case .childInNeed: "child in need"
        case .childProtection: "child protection"
        }
    }
}
