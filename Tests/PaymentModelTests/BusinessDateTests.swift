import PaymentModel
import Testing

/// Business dates turn at the cutover, in the cutover's UTC offset; DE 15 reads back to the date it names.
struct BusinessDateTests {
    @Test(arguments: [("1970-01-01", 0), ("2000-02-29", 11_016), ("2026-12-01", 20_788), ("2099-12-31", 47_481)])
    func datesAreDaysSince1970(text: String, day: Int32) throws {
        let date = try #require(BusinessDate(text))
        #expect(date.day == day)
        #expect(date.description == text)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "20261201", "1969-12-31", "2026-12-00"])
    func impossibleDatesAreRefused(text: String) {
        #expect(BusinessDate(text) == nil)
    }

    /// 2026-12-01T20:59:59Z and 21:00:00Z either side of a 21:00 cutover; with a +02:00 offset the
    /// cutover is 19:00Z; with -05:00 a midnight cutover is 05:00Z.
    @Test(arguments: [
        (0, 0, Int64(1_796_158_799_000), "2026-12-01"), (21 * 3600, 0, 1_796_158_799_000, "2026-12-01"),
        (21 * 3600, 0, 1_796_158_800_000, "2026-12-02"), (21 * 3600, 2 * 3600, 1_796_151_599_000, "2026-12-01"),
        (21 * 3600, 2 * 3600, 1_796_151_600_000, "2026-12-02"), (0, -5 * 3600, 1_796_101_200_000, "2026-12-01"),
        (0, -5 * 3600, 1_796_101_199_000, "2026-11-30"),
    ])
    func theCutoverTurnsTheDate(cutover: Int, offset: Int, milliseconds: Int64, expected: String) {
        let day = BusinessDay(cutover: cutover, utcOffset: offset)
        let date = day.date(atUnixMilliseconds: milliseconds)
        #expect(date.description == expected)
        #expect(day.date(atUnixMilliseconds: day.start(of: date)) == date)
        #expect(day.date(atUnixMilliseconds: day.start(of: date) - 1).day == date.day - 1)
    }

    /// A year-less MMDD is the nearest such date: 0101 sent on 31 December is the next day.
    @Test(arguments: [("1231", "2026-12-31", "2026-12-31"), ("0101", "2026-12-31", "2027-01-01"), ("1231", "2027-01-01", "2026-12-31"),
                      ("270102", "2026-12-31", "2027-01-02")])
    func settlementDatesAreReadNearToday(field: String, today: String, expected: String) throws {
        let reference = try #require(BusinessDate(today))
        let date = try #require(BusinessDate.settlementDate(field, near: reference))
        #expect(date.description == expected)
        #expect(date.settlementDateField(digits: field.count) == field)
    }

    @Test func timesAndOffsetsAreRead() {
        #expect(BusinessDay.timeOfDay("21:00") == 75_600 && BusinessDay.timeOfDay("00:00:59") == 59)
        #expect(BusinessDay.timeOfDay("24:00") == nil && BusinessDay.timeOfDay("9:00") == nil && BusinessDay.timeOfDay("10:00:60") == nil)
        #expect(BusinessDay.utcOffset("+05:30") == 19_800 && BusinessDay.utcOffset("-03:00") == -10_800 && BusinessDay.utcOffset("Z") == 0)
        #expect(BusinessDay.utcOffset("+15:00") == nil && BusinessDay.utcOffset("05:00") == nil && BusinessDay.utcOffset("+05:00:00") == nil)
    }
}
