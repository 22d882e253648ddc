import HSBSafeguarding
public import HSBWire

/// What may be shared, on what lawful basis, with whose consent (INF-01 to INF-03). Data, by rule.
public enum Sharing {
    static let childrenAct = "Children Act 2004 (safeguarding)"
    static let significantHarm = "risk of significant harm"
    static let crimeAndDisorder = "Crime and Disorder Act 1998 s115"

    /// The lawful basis (INF-01's list) for a notice each rule sends, and why it is sent.
    public static let byRule: [String: (basis: String, purpose: String)] = [
        "STR-01": ("\(childrenAct); \(significantHarm)", "safeguarding planning"),
        "STR-08": (childrenAct, "the HSB panel"),
        "SCR-12": (childrenAct, "referral to the child's home authority"),
        "SCR-13": (childrenAct, "the allocated social worker of an open case"),
        "SCR-14": (childrenAct, "a looked-after child's social worker, IRO and placement"),
        "SCR-15": (crimeAndDisorder, "a copy of the police notification"),
        "SCR-16": ("\(childrenAct); \(crimeAndDisorder)", "referral to the MASE panel"),
        "SCR-17": ("data protection crime exemption", "adult involvement in youth-produced images"),
        "SCR-19": (childrenAct, "the safeguarding unit"),
        "GEN-06": ("vital interests", "an adult in need of safeguarding"),
        "MH-02": ("\(childrenAct); medical purpose", "a new concern about a child known to CAMHS"),
        "INF-06": (crimeAndDisorder, "youth justice telling the contact service"),
        "INF-07": (childrenAct, "minutes to an agency that attended or reported"),
        "YJ-02": (crimeAndDisorder, "the criminal justice route"),
        "YJ-11": (childrenAct, "the pre-release meeting"),
    ]

    /// The consent position recorded with every share from a case (INF-01, INF-02, INF-03): who
    /// gave consent (by the child's age and competence), or that it was not sought or was refused
    /// and the share rests on its lawful basis alone (each ledger entry carries that basis; the
    /// consent text does not repeat it).
    public static func consent(_ referral: IntakeV1.Referral, age: Int?) -> String {
        switch referral.consentToShare {
        case .given:
            let giver = age.map { AgeRules.consentToShare(age: $0, competent: referral.competenceAssessed ? true : nil) } ?? .parents
            return "given by \(giver == .parents ? "the parents" : "the young person") (INF-03)"
        case .refused:
            return refusedText
        case .notSought, .unspecified, .unrecognized:
            return notSoughtText
        }
    }

    /// Whether the parents were told of the referral (SCR-20): not the same as consent.
    public static let parentsTold: [IntakeV1.ParentsTold: String] = [
        .yes: "told",
        .noWouldIncreaseRiskOfHarm: "not told: it would increase the risk of harm",
        .noWouldInterfereWithCriminalInvestigation: "not told: it would interfere with a criminal investigation",
        .noWouldCauseUndueDelay: "not told: it would cause undue delay",
        .unspecified: "not recorded",
    ]

    /// The grounds a referral is shared on without consent.
    static func grounds(_ referral: IntakeV1.Referral) -> String {
        referral.significantHarmSuspected || referral.immediateRisk ? "\(childrenAct); \(significantHarm)" : childrenAct
    }

    /// The consent text for a share from a case: its recorded position; not sought before one is recorded.
    static func consent(forShareFrom state: CaseState) -> String { state.consent.isEmpty ? notSoughtText : state.consent }

    static let notSoughtText = "not sought; shared on its lawful basis (INF-02)"
    static let refusedText = "refused; shared without consent on its lawful basis (INF-02)"
}
