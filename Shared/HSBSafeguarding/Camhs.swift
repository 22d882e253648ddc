/// What CAMHS does with a new concern (MH-01, MH-02, MH-05).
public enum CamhsIntake: Sendable, Hashable, Codable {
    /// MH-01: accepted as a referral through the single point of access (MH-03).
    case acceptReferral
    /// MH-02: already known: the team is told; no second referral is opened.
    case notifyTeam
    /// MH-01: not accepted, with the reason.
    case decline(String)
}

public enum CamhsRules {
    /// MH-01, MH-02.
    public static func intake(ageAtReferral: Int, mentalHealthConcern: Bool, alreadyKnown: Bool) -> (CamhsIntake, Citation) {
        if alreadyKnown { return (.notifyTeam, RuleCatalogue.cite("MH-02")) }
        guard AgeRules.isChild(age: ageAtReferral) else {
            return (.decline("aged \(ageAtReferral) at referral: CAMHS accepts children under 18"), RuleCatalogue.cite("MH-01"))
        }
        guard mentalHealthConcern else {
            return (.decline("no mental health concern is reported or thought to be present"), RuleCatalogue.cite("MH-01"))
        }
        return (.acceptReferral, RuleCatalogue.cite("MH-01"))
    }

    /// MH-05: when a CAMHS assessment is agreed before an AIM assessment is complete, not
    /// completing the whole AIM assessment is considered, so the child does not tell the story twice.
    public static func aimDuplicationPrompt(camhsAssessmentAgreed: Bool, aimAssessmentComplete: Bool) -> String? {
        guard camhsAssessmentAgreed && !aimAssessmentComplete else { return nil }
        return
            "A CAMHS assessment is agreed before the AIM assessment is complete: consider not completing the whole AIM assessment, so the child does not have to tell their story again [MH-05]"
    }

    /// MH-04: what CAMHS offers.
    public static let offers = [
        "consultation and support for staff working with the child", "direct assessment and treatment",
        "navigation to specialist services", "joint work with the practitioner who knows the child",
    ]
}
