import HSBSafeguarding
import Testing

/// England and Wales bank holidays as published for 2018 to 2030.
let publishedBankHolidays: [Int: [String]] = [
    2018: ["2018-01-01", "2018-03-30", "2018-04-02", "2018-05-07", "2018-05-28", "2018-08-27", "2018-12-25", "2018-12-26"],
    2019: ["2019-01-01", "2019-04-19", "2019-04-22", "2019-05-06", "2019-05-27", "2019-08-26", "2019-12-25", "2019-12-26"],
    2020: ["2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28"],
    2021: ["2021-01-01", "2021-04-02", "2021-04-05", "2021-05-03", "2021-05-31", "2021-08-30", "2021-12-27", "2021-12-28"],
    2022: [
        "2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-29", "2022-09-19", "2022-12-26",
        "2022-12-27",
    ],
    2023: ["2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-28", "2023-12-25", "2023-12-26"],
    2024: ["2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26"],
    2025: ["2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"],
    2026: ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"],
    2027: ["2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"],
    2028: ["2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26"],
    2029: ["2029-01-01", "2029-03-30", "2029-04-02", "2029-05-07", "2029-05-28", "2029-08-27", "2029-12-25", "2029-12-26"],
    2030: ["2030-01-01", "2030-04-19", "2030-04-22", "2030-05-06", "2030-05-27", "2030-08-26", "2030-12-25", "2030-12-26"],
]

func date(_ text: String) -> CivilDate { CivilDate(iso: text)! }

@Suite("Working-day calendar of England and Wales")
struct CalendarTests {
    let calendar = WorkingDayCalendar()

    @Test("The bank holidays 2018-2030 match the published dates")
    func publishedDates() {
        let holidays = EnglandAndWalesHolidays()
        for (year, expected) in publishedBankHolidays {
            #expect(holidays.holidays(in: year).map(\.date.description) == expected, "\(year)")
        }
    }

    @Test("The one-off proclamations of 2011 and 2012 are in the table")
    func oneOffYears() {
        let holidays = EnglandAndWalesHolidays()
        #expect(holidays.isBankHoliday(date("2011-04-29")))
        #expect(holidays.isBankHoliday(date("2012-06-04")) && holidays.isBankHoliday(date("2012-06-05")))
        #expect(!holidays.isBankHoliday(date("2012-05-28")), "the May Monday moved to June in 2012")
        #expect(!holidays.isBankHoliday(date("2020-05-04")) && holidays.isBankHoliday(date("2020-05-08")))
        #expect(!holidays.isBankHoliday(date("2022-05-30")))
    }

    @Test("Easter by rule")
    func easter() {
        let expected = ["2018-04-01", "2019-04-21", "2024-03-31", "2025-04-20", "2027-03-28", "2038-04-25", "2285-03-22"]
        for text in expected {
            let day = date(text)
            #expect(EnglandAndWalesHolidays.easterSunday(day.year) == day)
        }
    }

    @Test("No working-day deadline lands on a weekend or bank holiday, and each counts exactly N working days")
    func workingDayProperty() {
        var day = date("2018-01-01")
        let end = date("2030-12-31")
        while day <= end {
            for n in [1, 3, 5, 10] {
                let forward = calendar.adding(workingDays: n, to: day)
                #expect(calendar.isWorkingDay(forward))
                var counted = 0
                var cursor = day
                while cursor < forward {
                    cursor = cursor.adding(days: 1)
                    if calendar.isWorkingDay(cursor) { counted += 1 }
                }
                #expect(counted == n, "\(n) working days from \(day)")
                let back = calendar.workingDays(n, before: day)
                #expect(calendar.isWorkingDay(back) && back < day)
            }
            day = day.adding(days: 1)
        }
    }

    @Test("Date deadlines counted in days or months are moved to the working day before, never later")
    func calendarAndMonthDeadlines() {
        let deadlines = DeadlineCalculator()
        var day = date("2024-01-01")
        while day <= date("2026-12-31") {
            let start = LondonTime.endOfDay(day.adding(days: -1)).adding(hours: 10)
            for rule in [DeadlineRule.calendarDays(3), .calendarDays(35), .monthsAfter(3), .monthsAfter(6)] {
                let due = deadlines.due(rule, from: start)
                #expect(calendar.isWorkingDay(due.date), "\(rule) from \(day)")
            }
            let before = deadlines.due(.monthsBefore(3), before: day)
            #expect(calendar.isWorkingDay(before.date) && before.date < day)
            day = day.adding(days: 1)
        }
    }

    @Test("Working days over Christmas 2026: 3 working days from 23 December is 30 December")
    func christmas() {
        #expect(calendar.adding(workingDays: 3, to: date("2026-12-23")) == date("2026-12-30"))
        // Back from Friday 8 January 2027, skipping 1 January and 25 and 28 December.
        #expect(calendar.workingDays(10, before: date("2027-01-08")) == date("2026-12-22"))
    }

    @Test("Month ends: 31 January + 1 month is the last day of February")
    func monthEnds() {
        #expect(date("2023-01-31").adding(months: 1) == date("2023-02-28"))
        #expect(date("2024-01-31").adding(months: 1) == date("2024-02-29"))
        #expect(date("2024-03-31").adding(months: -1) == date("2024-02-29"))
        #expect(date("2024-08-31").adding(months: 6) == date("2025-02-28"))
        #expect(date("2024-11-30").adding(months: 3) == date("2025-02-28"))
        #expect(date("2025-01-15").adding(months: -3) == date("2024-10-15"))
    }

    @Test("Ages: whole years, a leap-day birthday reaches its age on 1 March")
    func ages() {
        #expect(date("2010-06-15").age(on: date("2020-06-14")) == 9)
        #expect(date("2010-06-15").age(on: date("2020-06-15")) == 10)
        #expect(date("2008-02-29").age(on: date("2021-02-28")) == 12)
        #expect(date("2008-02-29").age(on: date("2021-03-01")) == 13)
        #expect(date("2008-02-29").age(on: date("2024-02-29")) == 16)
    }

    @Test("London time: BST from the last Sunday of March to the last Sunday of October")
    func londonTime() {
        // 2026-03-29 00:59:59 UTC is GMT; 01:00 UTC is BST.
        let before = Instant(unixMillis: 1_774_745_999_000)
        #expect(LondonTime.offset(at: before) == 0)
        #expect(LondonTime.offset(at: Instant(unixMillis: before.unixMillis + 1000)) == 3_600_000)
        // 23:30 UTC on 2026-07-01 is already 2 July in London.
        #expect(LondonTime.date(of: Instant(unixMillis: 1_782_948_600_000)) == date("2026-07-02"))
        // The end of a summer day is 22:59:59.999 UTC; of a winter day, 23:59:59.999 UTC.
        #expect(LondonTime.endOfDay(date("2026-07-01")).unixMillis == 1_782_946_799_999)
        #expect(LondonTime.endOfDay(date("2026-12-01")).unixMillis == 1_796_169_599_999)
    }

    @Test("STR-06: the risk plan is reviewed 3-monthly for 6 months, then 6-monthly")
    func reviewCadence() {
        let cadence = ProcedureProfile.camden.riskPlanReviews
        #expect(cadence.offsets(count: 5) == [3, 6, 12, 18, 24])
        let start = LondonTime.endOfDay(date("2026-01-14")).adding(hours: -12)
        let dates = DeadlineCalculator().reviews(cadence, from: start, count: 4).map(\.date.description)
        // 14 Jul 2026 is a Tuesday; 14 Jan 2027 a Thursday; 14 Apr 2026 a Tuesday; 14 Jul 2027 a Wednesday.
        #expect(dates == ["2026-04-14", "2026-07-14", "2027-01-14", "2027-07-14"])
    }

    @Test("An override file adds and removes days; a bad line is named")
    func overrides() throws {
        let changes = try EnglandAndWalesHolidays.parseOverrides(
            "# future proclamations\nadd 2031-06-02 Special bank holiday\nremove 2031-05-26 Spring bank holiday (moved)\n", source: "holidays.txt")
        let holidays = EnglandAndWalesHolidays(overrides: changes)
        #expect(holidays.isBankHoliday(date("2031-06-02")))
        #expect(!holidays.isBankHoliday(date("2031-05-26")))
        #expect(throws: RuleFileError(source: "holidays.txt", line: 2, reason: "'2031-02-30' is not a date (YYYY-MM-DD)")) {
            try EnglandAndWalesHolidays.parseOverrides("add 2031-06-02 Fine\nadd 2031-02-30 Bad\n", source: "holidays.txt")
        }
        #expect(throws: RuleFileError(source: "holidays.txt", line: 1, reason: "'move' is neither add nor remove")) {
            try EnglandAndWalesHolidays.parseOverrides("move 2031-06-02 X\n", source: "holidays.txt")
        }
    }
}
