// What the generated common types (Generated/CommonV1.swift) do beyond the wire.

extension Agency {
    /// The name used in configuration and credentials files, e.g. `youth-justice`.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .socialCare: "social-care"
        case .youthJustice: "youth-justice"
        case .camhs: "camhs"
        case .mappa: "mappa"
        case .orchestrator: "orchestrator"
        case .police: "police"
        case .education: "education"
        case .health: "health"
        case .adultSocialCare: "adult-social-care"
        case .ops: "ops"
        case .unrecognized(let value): "agency-\(value)"
        }
    }

    /// The agency with configuration name `name`, if there is one (`unspecified` is never named).
    public init?(name: String) {
        guard let match = Agency.allCases.first(where: { $0 != .unspecified && $0.name == name }) else { return nil }
        self = match
    }
}

extension CalendarDate {
    /// The years a date on the wire may fall in: no child, incident, meeting or review of the
    /// procedures lies outside them, and keeping to them keeps every date's arithmetic in range.
    public static let acceptedYears: ClosedRange<Int32> = 1900...2200

    /// Why this is not a date the suite accepts, or nil when it is one.
    public var problem: String? {
        guard Self.acceptedYears.contains(year) else {
            return "year \(year) is outside \(Self.acceptedYears.lowerBound)-\(Self.acceptedYears.upperBound)"
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days: Int32 =
            switch month {
            case 1, 3, 5, 7, 8, 10, 12: 31
            case 4, 6, 9, 11: 30
            case 2: leap ? 29 : 28
            default: 0
            }
        guard days > 0 else { return "month \(month) is not a month" }
        guard (1...days).contains(day) else { return "\(year)-\(month)-\(day) is not a date" }
        return nil
    }
}
