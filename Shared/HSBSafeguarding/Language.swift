/// GEN-07 (LLR 1, LLR 7): the suite never labels a child a "sex offender" or an "abuser"; it says
/// "child displaying HSB". Statutory MAPPA records may say "offender".
public enum LanguagePolicy {
    /// Labels that must never describe a child.
    public static let forbidden = ["sex offender", "sexual offender", "young offender", "abuser", "perpetrator", "offender"]

    /// The forbidden labels `text` uses; `statutoryMAPPA` allows "offender" alone (MAPPA categories).
    public static func violations(in text: String, statutoryMAPPA: Bool = false) -> [String] {
        let lower = text.lowercased()
        return forbidden.filter { label in
            if statutoryMAPPA && label == "offender" { return false }
            return lower.contains(label)
        }
    }
}
