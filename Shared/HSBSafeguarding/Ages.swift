/// Who may agree to information about a child being shared (INF-03; CAM 13).
public enum ConsentGiver: String, Sendable, Hashable, Codable {
    case parents
    case youngPerson = "young-person"
}

/// The age rules of the procedures. Ages are whole years at the date of the behaviour unless a
/// rule says otherwise (RULES.md).
public enum AgeRules {
    /// GEN-01: a child is a person under 18.
    public static let adulthood = 18
    /// GEN-03 (LLR 17, GAT 3.3.1): the age of criminal responsibility.
    public static let criminalResponsibility = 10
    /// GEN-04 (LLR 3): the age below which no one can consent to sexual activity.
    public static let legalConsentFloor = 13
    /// GEN-05 (LLR 3): the age of consent to sexual activity.
    public static let ageOfConsent = 16

    /// GEN-01.
    public static func isChild(age: Int) -> Bool { age >= 0 && age < adulthood }

    /// GEN-03: under 10 there is no police investigation and no criminal justice route.
    public static func belowCriminalResponsibility(age: Int) -> Bool { age < criminalResponsibility }

    /// GEN-04: any sexual activity involving a child under 13 needs a child protection referral.
    public static func cannotConsentToSexualActivity(age: Int) -> Bool { age < legalConsentFloor }

    /// GEN-05: at 13, 14 and 15 the record must carry an assessment of competence to consent
    /// (Gillick/Fraser) and of the relationship.
    public static func needsCompetenceAssessment(age: Int) -> Bool { age >= legalConsentFloor && age < ageOfConsent }

    /// INF-03 (CAM 13): under 12, parents; 12 to 15, the young person if they understand the
    /// issues and can make an informed decision, otherwise parents; 16 and 17, the young person
    /// where they have mental capacity, otherwise parents.
    /// - Parameter competent: for 12 to 15, Gillick competence; for 16 and 17, mental capacity.
    ///   Nil (not yet assessed) means parents are approached.
    public static func consentToShare(age: Int, competent: Bool?) -> ConsentGiver {
        if age < 12 { return .parents }
        return competent == true ? .youngPerson : .parents
    }

    /// YJ-01 (CAM 9.1): youth justice works with young people aged 10 to 17.
    public static func inYouthJusticeRange(age: Int) -> Bool { (criminalResponsibility..<adulthood).contains(age) }

    /// YJ-05 (LLR 2): an AIM assessment is for ages 12 to 17.
    public static func inAIMRange(age: Int) -> Bool { (12..<adulthood).contains(age) }

    /// MH-01 (CAM 11.2): CAMHS accepts a child under 18 at referral who has, or is thought to have,
    /// mental health concerns.
    public static func camhsAccepts(ageAtReferral age: Int, mentalHealthConcern: Bool) -> Bool {
        isChild(age: age) && mentalHealthConcern
    }
}
