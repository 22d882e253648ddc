import Synchronization

/// A bank holiday of England and Wales.
public struct BankHoliday: Sendable, Hashable, Codable {
    public var date: CivilDate
    public var name: String

    public init(date: CivilDate, name: String) {
        self.date = date
        self.name = name
    }
}

/// A change to the bank holidays a rule would give: a day added, or a ruled day removed.
public struct BankHolidayChange: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case add
        case remove
    }

    public var kind: Kind
    public var date: CivilDate
    public var name: String

    public init(_ kind: Kind, _ date: CivilDate, _ name: String) {
        self.kind = kind
        self.date = date
        self.name = name
    }
}

/// England and Wales bank holidays, computed by rule (Easter, first and last Mondays, substitute
/// days for New Year, Christmas and Boxing Day), corrected by a table of one-off proclamations,
/// and by further changes a partnership loads from an override file.
/// Holiday dates by year, for one calendar; bounded (a long-running service asks about a handful of years).
final class YearCache: Sendable {
    private let years = Mutex<[Int: Set<CivilDate>]>([:])
    static let capacity = 64

    func dates(in year: Int, compute: (Int) -> Set<CivilDate>) -> Set<CivilDate> {
        if let known = years.withLock({ $0[year] }) { return known }
        let dates = compute(year)
        years.withLock { years in
            if years.count >= Self.capacity { years.removeAll() }
            years[year] = dates
        }
        return dates
    }
}

public struct EnglandAndWalesHolidays: Sendable {
    /// Proclamations that moved or added days since 2011.
    public static let proclaimedChanges: [BankHolidayChange] = [
        .init(.add, CivilDate(2011, 4, 29), "Royal wedding"),
        .init(.remove, CivilDate(2012, 5, 28), "Spring bank holiday (moved)"),
        .init(.add, CivilDate(2012, 6, 4), "Spring bank holiday"),
        .init(.add, CivilDate(2012, 6, 5), "Queen's Diamond Jubilee"),
        .init(.remove, CivilDate(2020, 5, 4), "Early May bank holiday (moved)"),
        .init(.add, CivilDate(2020, 5, 8), "Early May bank holiday (VE day)"),
        .init(.remove, CivilDate(2022, 5, 30), "Spring bank holiday (moved)"),
        .init(.add, CivilDate(2022, 6, 2), "Spring bank holiday"),
        .init(.add, CivilDate(2022, 6, 3), "Platinum Jubilee bank holiday"),
        .init(.add, CivilDate(2022, 9, 19), "Bank Holiday for the State Funeral of Queen Elizabeth II"),
        .init(.add, CivilDate(2023, 5, 8), "Bank holiday for the coronation of King Charles III"),
    ]

    /// Changes beyond the built-in table (future proclamations), applied after it.
    public let overrides: [BankHolidayChange]
    /// Each year's holiday dates, worked out once (every working-day deadline asks about many days).
    private let cache = YearCache()

    public init(overrides: [BankHolidayChange] = []) {
        self.overrides = overrides
    }

    /// Easter Sunday of `year` (Gregorian; the anonymous algorithm of Meeus, Jones and Butcher).
    public static func easterSunday(_ year: Int) -> CivilDate {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return CivilDate(year, month, day)
    }

    static func firstMonday(_ year: Int, _ month: Int) -> CivilDate {
        let first = CivilDate(year, month, 1)
        return first.adding(days: (7 - (first.weekday.rawValue - 1)) % 7)
    }

    static func lastMonday(_ year: Int, _ month: Int) -> CivilDate {
        let last = CivilDate(year, month, CivilDate.daysIn(month: month, year: year))
        return last.adding(days: -((last.weekday.rawValue - 1) % 7))
    }

    /// The holidays the rules give for `year`, before any proclamation.
    public static func ruled(_ year: Int) -> [BankHoliday] {
        var days: [BankHoliday] = []
        let newYear = CivilDate(year, 1, 1)
        switch newYear.weekday {
        case .saturday: days.append(.init(date: newYear.adding(days: 2), name: "New Year's Day (substitute day)"))
        case .sunday: days.append(.init(date: newYear.adding(days: 1), name: "New Year's Day (substitute day)"))
        default: days.append(.init(date: newYear, name: "New Year's Day"))
        }
        let easter = easterSunday(year)
        days.append(.init(date: easter.adding(days: -2), name: "Good Friday"))
        days.append(.init(date: easter.adding(days: 1), name: "Easter Monday"))
        days.append(.init(date: firstMonday(year, 5), name: "Early May bank holiday"))
        days.append(.init(date: lastMonday(year, 5), name: "Spring bank holiday"))
        days.append(.init(date: lastMonday(year, 8), name: "Summer bank holiday"))
        let christmas = CivilDate(year, 12, 25)
        switch christmas.weekday {
        case .friday:
            days.append(.init(date: christmas, name: "Christmas Day"))
            days.append(.init(date: CivilDate(year, 12, 28), name: "Boxing Day (substitute day)"))
        case .saturday:
            days.append(.init(date: CivilDate(year, 12, 27), name: "Christmas Day (substitute day)"))
            days.append(.init(date: CivilDate(year, 12, 28), name: "Boxing Day (substitute day)"))
        case .sunday:
            days.append(.init(date: CivilDate(year, 12, 26), name: "Boxing Day"))
            days.append(.init(date: CivilDate(year, 12, 27), name: "Christmas Day (substitute day)"))
        default:
            days.append(.init(date: christmas, name: "Christmas Day"))
            days.append(.init(date: CivilDate(year, 12, 26), name: "Boxing Day"))
        }
        return days
    }

    /// Every bank holiday of `year`, in date order.
    public func holidays(in year: Int) -> [BankHoliday] {
        var days = Self.ruled(year)
        for change in Self.proclaimedChanges + overrides where change.date.year == year {
            switch change.kind {
            case .add:
                if !days.contains(where: { $0.date == change.date }) { days.append(.init(date: change.date, name: change.name)) }
            case .remove:
                days.removeAll { $0.date == change.date }
            }
        }
        return days.sorted { $0.date < $1.date }
    }

    public func isBankHoliday(_ date: CivilDate) -> Bool {
        cache.dates(in: date.year) { Set(holidays(in: $0).map(\.date)) }.contains(date)
    }

    /// Parses an override file: one change per line, `add YYYY-MM-DD name` or `remove YYYY-MM-DD
    /// name`; `#` starts a comment. Throws naming the line and the reason.
    public static func parseOverrides(_ text: String, source: String) throws(RuleFileError) -> [BankHolidayChange] {
        var changes: [BankHolidayChange] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let lineNumber = offset + 1
            guard fields.count >= 3 else {
                throw RuleFileError(source: source, line: lineNumber, reason: "expected 'add|remove YYYY-MM-DD name'")
            }
            guard let kind = BankHolidayChange.Kind(rawValue: String(fields[0])) else {
                throw RuleFileError(source: source, line: lineNumber, reason: "'\(fields[0])' is neither add nor remove")
            }
            guard let date = CivilDate(iso: fields[1]) else {
                throw RuleFileError(source: source, line: lineNumber, reason: "'\(fields[1])' is not a date (YYYY-MM-DD)")
            }
            changes.append(BankHolidayChange(kind, date, fields[2...].joined(separator: " ")))
        }
        return changes
    }
}

/// Monday to Friday, less the bank holidays of England and Wales (RULES.md: "working days").
public struct WorkingDayCalendar: Sendable {
    public let holidays: EnglandAndWalesHolidays

    public init(holidays: EnglandAndWalesHolidays = EnglandAndWalesHolidays()) {
        self.holidays = holidays
    }

    public func isWorkingDay(_ date: CivilDate) -> Bool {
        !date.weekday.isWeekend && !holidays.isBankHoliday(date)
    }

    /// The `count`th working day after `date` (the day itself does not count): 3 working days
    /// from a Friday referral is the following Wednesday.
    public func adding(workingDays count: Int, to date: CivilDate) -> CivilDate {
        precondition(count >= 0, "use workingDays(before:) to count backwards")
        var day = date
        var remaining = count
        while remaining > 0 {
            day = day.adding(days: 1)
            if isWorkingDay(day) { remaining -= 1 }
        }
        return day
    }

    /// The `count`th working day before `date`: a pre-release meeting 10 working days before
    /// release.
    public func workingDays(_ count: Int, before date: CivilDate) -> CivilDate {
        precondition(count >= 0)
        var day = date
        var remaining = count
        while remaining > 0 {
            day = day.adding(days: -1)
            if isWorkingDay(day) { remaining -= 1 }
        }
        return day
    }

    /// `date` if it is a working day, else the next one.
    public func onOrAfter(_ date: CivilDate) -> CivilDate {
        var day = date
        while !isWorkingDay(day) { day = day.adding(days: 1) }
        return day
    }

    /// `date` if it is a working day, else the one before.
    public func onOrBefore(_ date: CivilDate) -> CivilDate {
        var day = date
        while !isWorkingDay(day) { day = day.adding(days: -1) }
        return day
    }
}

/// A rule file (profile or holiday overrides) that could not be used: where and why.
public struct RuleFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var line: Int
    public var reason: String

    public init(source: String, line: Int, reason: String) {
        self.source = source
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(source) line \(line): \(reason)" }
}
