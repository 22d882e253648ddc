public import Foundation
public import HSBWire

/// A referral as practitioners write it in JSON (docs/REFERRAL_JSON.md). Field names are
/// snake_case; dates are YYYY-MM-DD. hsbctl reads it from a file; the workspace builds the same
/// shape from its form, so both validate a referral alike.
public struct ReferralFile: Decodable {
    struct Person: Decodable {
        var subject_id: String
        var given_name: String?
        var family_name: String?
        var date_of_birth: String?
        var postcode: String?
        var home_authority: String?
        var looked_after: Bool?
        var open_to_social_care: Bool?
        var adult_in_need_of_safeguarding: Bool?
    }

    var child: Person
    var persons_harmed: [Person]?
    var behaviours: [String]?
    var other_behaviours: [String]?
    var harm_indicators: [String]?
    var incident_date: String?
    /// When social care received the referral, local time: `YYYY-MM-DDTHH:MM` (or with a space).
    var received_at: String?
    /// INF-01 to INF-03: `given`, `refused` or `not-sought`.
    var consent_to_share: String?
    var referrer: String
    var incident_details: String?
    var victim_vulnerability: String?
    var coercion_evidence: String?
    var referrer_assessed_risk: String?
    var other_children_may_be_at_risk: Bool?
    var parents_told: String?
    var youth_produced_images: String?
    var urgent_by_telephone: Bool?
    var written_follow_up_received: Bool?
    var physically_violent: Bool?
    var sexual_activity: Bool?
    var significant_harm_suspected: Bool?
    var child_displaying_may_be_abused: Bool?
    var immediate_risk: Bool?
    var complex_concerns: Bool?
    var exploitation_links: Bool?
    var police_notification: Bool?
    var siblings_at_risk: Bool?
    var competence_assessed: Bool?
    var mental_health_concern: Bool?
    var open_to_youth_justice: Bool?
    var known_to_camhs: Bool?

    static let indicators: [String: IntakeV1.HarmIndicator] = [
        "frequency-beyond-developmental-expectation": .frequencyBeyondDevelopmentalExpectation,
        "interferes-with-development": .interferesWithDevelopment, "coercion-intimidation-or-force": .coercionIntimidationOrForce,
        "emotional-distress": .emotionalDistress, "divergent-ages-or-abilities": .divergentAgesOrAbilities,
        "recurs-in-secrecy-after-intervention": .recursInSecrecyAfterIntervention,
    ]
    static let parents: [String: IntakeV1.ParentsTold] = [
        "yes": .yes, "no-would-increase-risk-of-harm": .noWouldIncreaseRiskOfHarm,
        "no-would-interfere-with-criminal-investigation": .noWouldInterfereWithCriminalInvestigation,
        "no-would-cause-undue-delay": .noWouldCauseUndueDelay,
    ]
    static let consents: [String: IntakeV1.ConsentToShare] = ["given": .given, "refused": .refused, "not-sought": .notSought]
    static let images: [String: IntakeV1.YouthProducedImages] = [
        "experimental": .experimental, "harmful-or-reckless": .harmfulOrReckless, "adult-involved": .adultInvolved,
    ]

    /// Reads a referral file; errors name the field and what is wrong.
    public static func load(_ path: String) throws -> IntakeV1.Referral {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReferralFileError("cannot read \(path)") }
        return try decode(data, source: path)
    }

    /// Reads a referral in the file's JSON shape, from `source` (a file name, or a form).
    public static func decode(_ data: Data, source path: String) throws -> IntakeV1.Referral {
        try checkKeys(data, path)
        let file: ReferralFile
        do {
            file = try JSONDecoder().decode(ReferralFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ReferralFileError("\(path): \(fieldPath(context.codingPath + [key])) is required", field: fieldPath(context.codingPath + [key]))
        } catch let DecodingError.typeMismatch(_, context) {
            throw ReferralFileError(
                "\(path): \(fieldPath(context.codingPath)) has the wrong type: \(context.debugDescription)", field: fieldPath(context.codingPath))
        } catch let DecodingError.valueNotFound(_, context) {
            throw ReferralFileError("\(path): \(fieldPath(context.codingPath)) is null", field: fieldPath(context.codingPath))
        } catch {
            throw ReferralFileError("\(path) is not valid JSON: \(error.localizedDescription)")
        }
        return try file.referral(path)
    }

    /// The keys a referral file may hold, and those of a person in it: the properties' own names.
    static let fileKeys = Set(Mirror(reflecting: ReferralFile(child: Person(subject_id: ""), referrer: "")).children.compactMap(\.label))
    static let personKeys = Set(Mirror(reflecting: Person(subject_id: "")).children.compactMap(\.label))

    /// A key the format does not have is an error naming it: a misspelt flag (`immediate_rsik`)
    /// must not vanish and take its rule with it.
    static func checkKeys(_ data: Data, _ path: String) throws {
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        func check(_ object: [String: Any], allowed: Set<String>, at field: String) throws {
            for key in object.keys.sorted() where !allowed.contains(key) {
                throw ReferralFileError(
                    "\(path): \(field.isEmpty ? "" : field + ".")\(ProtoJSON.excerpt(key)) is not a field of a referral file; the fields are \(allowed.sorted().joined(separator: ", ")) (docs/REFERRAL_JSON.md)"
                )
            }
        }
        try check(top, allowed: fileKeys, at: "")
        if let child = top["child"] as? [String: Any] { try check(child, allowed: personKeys, at: "child") }
        for (index, person) in ((top["persons_harmed"] as? [Any]) ?? []).enumerated() {
            if let person = person as? [String: Any] { try check(person, allowed: personKeys, at: "persons_harmed[\(index)]") }
        }
    }

    static func fieldPath(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    /// `YYYY-MM-DDTHH:MM` (or `YYYY-MM-DD HH:MM`) in UK local time, as milliseconds since the epoch.
    static func localTime(_ text: String, _ field: String, _ path: String) throws -> Int64 {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/London")
        formatter.isLenient = false
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm"] {
            formatter.dateFormat = format
            if text.count == 16, let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        throw ReferralFileError(
            "\(path): \(field) \(ProtoJSON.quotedExcerpt(text)) must be a local time YYYY-MM-DDTHH:MM, e.g. 2026-11-13T16:00", field: field)
    }

    public static func date(_ text: String?, _ field: String, _ path: String) throws -> CalendarDate? {
        guard let text else { return nil }
        let parts = text.split(separator: "-").compactMap { Int32($0) }
        guard parts.count == 3, text.count == 10 else {
            throw ReferralFileError("\(path): \(field) \(ProtoJSON.quotedExcerpt(text)) must be a date YYYY-MM-DD", field: field)
        }
        return CalendarDate(year: parts[0], month: parts[1], day: parts[2])
    }

    func subject(_ person: Person, role: SubjectRole, field: String, _ path: String) throws -> Subject {
        Subject(
            subjectID: person.subject_id, role: role, givenName: person.given_name ?? "", familyName: person.family_name ?? "",
            dateOfBirth: try Self.date(person.date_of_birth, "\(field).date_of_birth", path), postcode: person.postcode ?? "",
            homeAuthority: person.home_authority ?? "", lookedAfter: person.looked_after ?? false,
            openToSocialCare: person.open_to_social_care ?? false)
    }

    func referral(_ path: String) throws -> IntakeV1.Referral {
        var referral = IntakeV1.Referral()
        referral.child = try subject(child, role: .childDisplayingHSB, field: "child", path)
        referral.personsHarmed = try (persons_harmed ?? []).enumerated().map { index, person in
            IntakeV1.PersonHarmed(
                subject: try subject(person, role: .personHarmed, field: "persons_harmed[\(index)]", path),
                adultInNeedOfSafeguarding: person.adult_in_need_of_safeguarding ?? false)
        }
        referral.behaviours =
            (behaviours ?? []).map { IntakeV1.Behaviour(catalogueId: $0) } + (other_behaviours ?? []).map { IntakeV1.Behaviour(otherDescription: $0) }
        referral.harmIndicators = try (harm_indicators ?? []).enumerated().map { index, name in
            guard let indicator = Self.indicators[name] else {
                throw ReferralFileError(
                    "\(path): harm_indicators[\(index)] \(ProtoJSON.quotedExcerpt(name)) is not one of \(Self.indicators.keys.sorted().joined(separator: ", "))",
                    field: "harm_indicators")
            }
            return indicator
        }
        referral.incidentDate = try Self.date(incident_date, "incident_date", path)
        if let received_at { referral.receivedUnixMs = try Self.localTime(received_at, "received_at", path) }
        if let consent_to_share {
            guard let value = Self.consents[consent_to_share] else {
                throw ReferralFileError(
                    "\(path): consent_to_share \(ProtoJSON.quotedExcerpt(consent_to_share)) is not one of \(Self.consents.keys.sorted().joined(separator: ", "))",
                    field: "consent_to_share")
            }
            referral.consentToShare = value
        }
        referral.referrer = referrer
        referral.incidentDetails = incident_details ?? ""
        referral.victimVulnerability = victim_vulnerability ?? ""
        referral.coercionEvidence = coercion_evidence ?? ""
        referral.referrerAssessedRisk = referrer_assessed_risk ?? ""
        referral.otherChildrenMayBeAtRisk = other_children_may_be_at_risk.map { $0 ? .yes : .no } ?? .unspecified
        if let parents_told {
            guard let value = Self.parents[parents_told] else {
                throw ReferralFileError(
                    "\(path): parents_told \(ProtoJSON.quotedExcerpt(parents_told)) is not one of \(Self.parents.keys.sorted().joined(separator: ", "))",
                    field: "parents_told")
            }
            referral.parentsTold = value
        }
        if let youth_produced_images {
            guard let value = Self.images[youth_produced_images] else {
                throw ReferralFileError(
                    "\(path): youth_produced_images \(ProtoJSON.quotedExcerpt(youth_produced_images)) is not one of \(Self.images.keys.sorted().joined(separator: ", "))",
                    field: "youth_produced_images")
            }
            referral.youthProducedImages = value
        }
        referral.urgentByTelephone = urgent_by_telephone ?? false
        referral.writtenFollowUpReceived = written_follow_up_received ?? false
        referral.physicallyViolent = physically_violent ?? false
        referral.sexualActivity = sexual_activity ?? false
        referral.significantHarmSuspected = significant_harm_suspected ?? false
        referral.childDisplayingMayBeAbused = child_displaying_may_be_abused ?? false
        referral.immediateRisk = immediate_risk ?? false
        referral.complexConcerns = complex_concerns ?? false
        referral.exploitationLinks = exploitation_links ?? false
        referral.policeNotification = police_notification ?? false
        referral.siblingsAtRisk = siblings_at_risk ?? false
        referral.competenceAssessed = competence_assessed ?? false
        referral.mentalHealthConcern = mental_health_concern ?? false
        referral.openToYouthJustice = open_to_youth_justice ?? false
        referral.knownToCamhs = known_to_camhs ?? false
        return referral
    }
}

public struct ReferralFileError: Error, CustomStringConvertible {
    public let description: String
    /// The field at fault as the JSON names it (`child.date_of_birth`), when one is.
    public let field: String?
    public init(_ description: String, field: String? = nil) {
        self.description = description
        self.field = field
    }
}
