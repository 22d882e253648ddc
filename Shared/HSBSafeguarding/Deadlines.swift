/// A moment in time: milliseconds since the Unix epoch (UTC).
public struct Instant: Sendable, Hashable, Comparable, Codable {
    public let unixMillis: Int64

    public init(unixMillis: Int64) { self.unixMillis = unixMillis }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.unixMillis < rhs.unixMillis }

    public func adding(hours: Int) -> Instant { Instant(unixMillis: unixMillis + Int64(hours) * 3_600_000) }
}

/// Local time in England and Wales: GMT, and BST (GMT+1) from 01:00 UTC on the last Sunday of
/// March to 01:00 UTC on the last Sunday of October.
public enum LondonTime {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    static func lastSunday(_ year: Int, _ month: Int) -> CivilDate {
        let last = CivilDate(year, month, CivilDate.daysIn(month: month, year: year))
        return last.adding(days: -(last.weekday.rawValue % 7))
    }

    /// The offset from UTC at `instant`, in milliseconds.
    public static func offset(at instant: Instant) -> Int64 {
        let utcDate = CivilDate(daysSinceEpoch: Int(floorDiv(instant.unixMillis, day)))
        let start = Int64(lastSunday(utcDate.year, 3).daysSinceEpoch) * day + hour
        let end = Int64(lastSunday(utcDate.year, 10).daysSinceEpoch) * day + hour
        return instant.unixMillis >= start && instant.unixMillis < end ? hour : 0
    }

    /// The local calendar date at `instant`.
    public static func date(of instant: Instant) -> CivilDate {
        CivilDate(daysSinceEpoch: Int(floorDiv(instant.unixMillis + offset(at: instant), day)))
    }

    /// The last millisecond of `date` in local time: a deadline "by" a date means by its end.
    public static func endOfDay(_ date: CivilDate) -> Instant {
        let nextMidnightUTC = Int64(date.adding(days: 1).daysSinceEpoch) * day
        // The offset that applies just before local midnight.
        let guess = Instant(unixMillis: nextMidnightUTC - hour * 2)
        return Instant(unixMillis: nextMidnightUTC - offset(at: guess) - 1)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}

/// How a deadline is counted, as the procedures state it.
public enum DeadlineRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// N working days after the start date (the start day does not count).
    case workingDays(Int)
    /// N calendar days after the start date; when that is not a working day, the working day
    /// before, unless that is the start date itself: then the next working day.
    case calendarDays(Int)
    /// N hours after the start instant (may fall on any day: these are emergency timescales).
    case hours(Int)
    /// N months after the start date (reviews); when that is not a working day, the working day
    /// before. At a month end the date is clamped: 31 August + 6 months is 28 (or 29) February.
    case monthsAfter(Int)
    /// N working days before an anchor date (a release date).
    case workingDaysBefore(Int)
    /// N calendar days before an anchor date; when that is not a working day, the working day before.
    case calendarDaysBefore(Int)
    /// N months before an anchor date; when that is not a working day, the working day before.
    case monthsBefore(Int)

    public var description: String {
        switch self {
        case .workingDays(let n): "\(n) working day\(n == 1 ? "" : "s")"
        case .calendarDays(let n): "\(n) day\(n == 1 ? "" : "s")"
        case .hours(let n): "\(n) hour\(n == 1 ? "" : "s")"
        case .monthsAfter(let n): "\(n) month\(n == 1 ? "" : "s")"
        case .workingDaysBefore(let n): "\(n) working day\(n == 1 ? "" : "s") before"
        case .calendarDaysBefore(let n): "\(n) day\(n == 1 ? "" : "s") before"
        case .monthsBefore(let n): "\(n) month\(n == 1 ? "" : "s") before"
        }
    }
}

/// A deadline worked out: when, by which rule, and why.
public struct DueDate: Sendable, Hashable, Codable {
    public let rule: DeadlineRule
    /// The instant it falls due (for date deadlines, the end of `date` in local time).
    public let due: Instant
    /// The local date it falls due.
    public let date: CivilDate
}

/// How often a plan is reviewed: every `firstIntervalMonths` for the first `firstPeriodMonths`,
/// then every `laterIntervalMonths` (STR-06; LLR 13: 3-monthly for 6 months, then 6-monthly).
public struct ReviewCadence: Sendable, Hashable, Codable {
    public var firstIntervalMonths: Int
    public var firstPeriodMonths: Int
    public var laterIntervalMonths: Int

    public init(firstIntervalMonths: Int, firstPeriodMonths: Int, laterIntervalMonths: Int) {
        self.firstIntervalMonths = firstIntervalMonths
        self.firstPeriodMonths = firstPeriodMonths
        self.laterIntervalMonths = laterIntervalMonths
    }

    /// Months after the start of each of the first `count` reviews.
    public func offsets(count: Int) -> [Int] {
        var offsets: [Int] = []
        var month = 0
        while offsets.count < count {
            month += month < firstPeriodMonths ? firstIntervalMonths : laterIntervalMonths
            offsets.append(month)
        }
        return offsets
    }
}

/// Works out due dates on the England and Wales working-day calendar.
public struct DeadlineCalculator: Sendable {
    public let calendar: WorkingDayCalendar

    public init(calendar: WorkingDayCalendar = WorkingDayCalendar()) {
        self.calendar = calendar
    }

    /// A deadline counted forward from `start` (`workingDays`, `calendarDays`, `hours`).
    public func due(_ rule: DeadlineRule, from start: Instant) -> DueDate {
        let startDate = LondonTime.date(of: start)
        switch rule {
        case .hours(let n):
            let due = start.adding(hours: n)
            return DueDate(rule: rule, due: due, date: LondonTime.date(of: due))
        case .workingDays(let n):
            return dated(rule, calendar.adding(workingDays: n, to: startDate))
        case .calendarDays(let n):
            // The working day on or before the Nth day; never the start day itself (a Friday
            // referral before a bank-holiday Monday is not due the Friday it came in).
            let date = calendar.onOrBefore(startDate.adding(days: n))
            return dated(rule, n > 0 && date <= startDate ? calendar.adding(workingDays: 1, to: startDate) : date)
        case .monthsAfter(let n):
            return dated(rule, calendar.onOrBefore(startDate.adding(months: n)))
        case .workingDaysBefore, .monthsBefore, .calendarDaysBefore:
            preconditionFailure("\(rule) counts back from an anchor date: use due(_:before:)")
        }
    }

    /// A deadline counted back from `anchor` (`workingDaysBefore`, `monthsBefore`).
    public func due(_ rule: DeadlineRule, before anchor: CivilDate) -> DueDate {
        switch rule {
        case .workingDaysBefore(let n):
            return dated(rule, calendar.workingDays(n, before: anchor))
        case .monthsBefore(let n):
            return dated(rule, calendar.onOrBefore(anchor.adding(months: -n)))
        case .calendarDaysBefore(let n):
            return dated(rule, calendar.onOrBefore(anchor.adding(days: -n)))
        case .workingDays, .calendarDays, .hours, .monthsAfter:
            preconditionFailure("\(rule) counts forward from a start: use due(_:from:)")
        }
    }

    /// The first `count` review dates after `start`; each on a working day (the one before when
    /// the month's date is not).
    public func reviews(_ cadence: ReviewCadence, from start: Instant, count: Int) -> [DueDate] {
        cadence.offsets(count: count).map { due(.monthsAfter($0), from: start) }
    }

    private func dated(_ rule: DeadlineRule, _ date: CivilDate) -> DueDate {
        DueDate(rule: rule, due: LondonTime.endOfDay(date), date: date)
    }
}
