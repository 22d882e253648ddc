/// MAPPA categories (MP-01; CAM 9.6). MAPPA records may say "offender" (GEN-07).
public enum MappaCategory: Int, Sendable, Hashable, Codable, CaseIterable {
    /// Registered sexual offenders subject to notification requirements.
    case one = 1
    /// Violent offenders sentenced to 12 months' custody or more, and some sexual offenders, on licence.
    case two = 2
    /// Other dangerous offenders assessed as posing a risk of serious harm.
    case three = 3
}

public struct MappaFacts: Sendable, Hashable, Codable {
    public var subjectID: String
    public var age: Int
    public var subjectToNotificationRequirements = false
    public var violentOffenceCustodyMonths: Int?
    public var sexualOffenceOnLicence = false
    public var onLicence = false
    public var assessedRiskOfSeriousHarm = false
    /// MP-02: youth justice's internal screening is done and the panel has discussed the case.
    public var youthJusticeScreeningDone = false
    public var panelDiscussed = false

    public init(subjectID: String, age: Int) {
        self.subjectID = subjectID
        self.age = age
    }
}

public struct MappaScreening: Sendable, Hashable, Codable {
    public let category: MappaCategory?
    public let reasons: [String]
    /// MP-02: steps still owed before a referral decision for an under-18.
    public let outstanding: [String]
    public let citations: [Citation]
}

/// The sentence behind a notification requirement (Sexual Offences Act 2003 s.82).
public enum NotificationSentence: Sendable, Hashable, Codable {
    case imprisonmentForLifeOrAtLeast30Months
    case imprisonmentMonths(Int)
    case caution
    case conditionalDischarge(months: Int)
    case other
}

public enum NotificationPeriod: Sendable, Hashable, Codable, CustomStringConvertible {
    case indefinite
    case months(Int)

    public var description: String {
        switch self {
        case .indefinite: "indefinite"
        case .months(let n): n % 12 == 0 ? "\(n / 12) year\(n == 12 ? "" : "s")" : "\(n) months"
        }
    }
}

public enum MappaRules {
    /// MP-01 and MP-02: the category, with reasons; for an under-18, the steps owed first.
    public static func screen(_ facts: MappaFacts) -> MappaScreening {
        var reasons: [String] = []
        var category: MappaCategory?
        if facts.subjectToNotificationRequirements {
            category = .one
            reasons.append("subject to notification requirements (Sexual Offences Act 2003)")
        } else if facts.onLicence, (facts.violentOffenceCustodyMonths ?? 0) >= 12 || facts.sexualOffenceOnLicence {
            category = .two
            reasons.append(
                facts.sexualOffenceOnLicence
                    ? "a sexual offence, on licence"
                    : "a violent offence sentenced to \(facts.violentOffenceCustodyMonths!) months' custody, on licence")
        } else if facts.assessedRiskOfSeriousHarm {
            category = .three
            reasons.append("assessed as posing a risk of serious harm to the public")
        } else {
            reasons.append("no MAPPA category applies: no notification requirements, no qualifying licence, no assessed risk of serious harm")
        }
        var citations = [RuleCatalogue.cite("MP-01")]
        var outstanding: [String] = []
        if facts.age < AgeRules.adulthood {
            citations.append(RuleCatalogue.cite("MP-02"))
            if !facts.youthJusticeScreeningDone { outstanding.append("youth justice internal screening and risk assessment") }
            if !facts.panelDiscussed { outstanding.append("discussion at the High Risk and Vulnerability Panel") }
        }
        return MappaScreening(category: category, reasons: reasons, outstanding: outstanding, citations: citations)
    }

    /// The notification period (Sexual Offences Act 2003 s.82), halved for a person under 18 on the
    /// relevant date, except an indefinite requirement (MP-01: 12 months to life).
    public static func notificationPeriod(_ sentence: NotificationSentence, underEighteenOnRelevantDate: Bool) -> NotificationPeriod {
        let months: Int
        switch sentence {
        case .imprisonmentForLifeOrAtLeast30Months: return .indefinite
        case .imprisonmentMonths(let n) where n >= 30: return .indefinite
        case .imprisonmentMonths(let n) where n > 6: months = 120
        case .imprisonmentMonths: months = 84
        case .caution: months = 24
        case .conditionalDischarge(let n): months = n
        case .other: months = 60
        }
        return .months(underEighteenOnRelevantDate ? months / 2 : months)
    }
}
