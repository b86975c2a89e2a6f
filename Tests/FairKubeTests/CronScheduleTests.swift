@testable import FairKube
import Foundation
import XCTest

/// Schedules as Kubernetes reads them (robfig/cron v3's standard parser), and the times they
/// fire, in UTC and across daylight-saving changes.
final class CronScheduleTests: XCTestCase {
    /// The next `count` times `spec` fires after `start` (RFC 3339), written on `zone`'s clock.
    private func times(_ spec: String, after start: String, in zone: String = "UTC", count: Int = 1,
                       file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let schedule = try CronSchedule(parsing: spec)
        let timeZone = try CronTimeZone.named(zone)
        var date = try XCTUnwrap(KubeTime.parse(start), "unreadable start \(start)", file: file, line: line)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = schedule.next(after: date, in: timeZone) else { break }
            result.append(KubeTime.format(next, in: schedule.timeZone ?? timeZone))
            date = next
        }
        return result
    }

    private func error(_ spec: String) -> String? {
        do {
            _ = try CronSchedule(parsing: spec)
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: - Fields

    func testEveryMinuteStartsOnTheNextWholeMinute() throws {
        XCTAssertEqual(try times("*/1 * * * *", after: "2026-01-01T00:00:30Z", count: 3),
                       ["2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z"])
        // Exactly on a run: the next one, never the same instant again.
        XCTAssertEqual(try times("* * * * *", after: "2026-01-01T00:01:00Z"), ["2026-01-01T00:02:00Z"])
        XCTAssertEqual(try times("* * * * *", after: "2026-12-31T23:59:59.5Z"), ["2027-01-01T00:00:00Z"])
    }

    func testStepsRangesAndLists() throws {
        XCTAssertEqual(try times("*/15 * * * *", after: "2026-01-01T10:07:00Z", count: 4),
                       ["2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"])
        XCTAssertEqual(try times("10-40/10 9-17/4 * * *", after: "2026-01-01T00:00:00Z", count: 6),
                       ["2026-01-01T09:10:00Z", "2026-01-01T09:20:00Z", "2026-01-01T09:30:00Z", "2026-01-01T09:40:00Z",
                        "2026-01-01T13:10:00Z", "2026-01-01T13:20:00Z"])
        // `N/STEP` runs from N to the end of the field.
        XCTAssertEqual(try times("5/20 * * * *", after: "2026-01-01T00:00:00Z", count: 4),
                       ["2026-01-01T00:05:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:05:00Z"])
        XCTAssertEqual(try times("0,30 8,20 * * *", after: "2026-01-01T08:15:00Z", count: 4),
                       ["2026-01-01T08:30:00Z", "2026-01-01T20:00:00Z", "2026-01-01T20:30:00Z", "2026-01-02T08:00:00Z"])
        XCTAssertEqual(try times("0 0 1-31/10 * *", after: "2026-01-01T00:00:00Z", count: 4),
                       ["2026-01-11T00:00:00Z", "2026-01-21T00:00:00Z", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"])
    }

    func testMonthAndWeekdayNamesInAnyCase() throws {
        // 2026-01-01 is a Thursday.
        XCTAssertEqual(try times("0 9 * JAN,JUL MON-FRI", after: "2026-01-01T10:00:00Z", count: 3),
                       ["2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"])
        XCTAssertEqual(try times("0 9 * jan,jul mon-fri", after: "2026-01-30T10:00:00Z", count: 2),
                       ["2026-07-01T09:00:00Z", "2026-07-02T09:00:00Z"])
        XCTAssertEqual(try times("0 12 ? * Sun", after: "2026-01-01T00:00:00Z"), ["2026-01-04T12:00:00Z"])
        XCTAssertEqual(try times("0 0 * * 0", after: "2026-01-01T00:00:00Z"), ["2026-01-04T00:00:00Z"])
    }

    func testBothDayFieldsRestrictedMeansEither() throws {
        // The 13th (a Monday in April 2026) or any Friday.
        XCTAssertEqual(try times("0 0 13 * FRI", after: "2026-04-01T00:00:00Z", count: 4),
                       ["2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z"])
        // One of them `*` or `?`: the other alone decides.
        XCTAssertEqual(try times("0 0 13 * *", after: "2026-04-01T00:00:00Z"), ["2026-04-13T00:00:00Z"])
        XCTAssertEqual(try times("0 0 ? * FRI", after: "2026-04-01T00:00:00Z"), ["2026-04-03T00:00:00Z"])
        // A step over every day is a restriction too: `*/1` keeps the star, `*/2` does not.
        XCTAssertEqual(try times("0 0 */2 * MON", after: "2026-04-01T00:00:00Z", count: 3),
                       ["2026-04-03T00:00:00Z", "2026-04-05T00:00:00Z", "2026-04-06T00:00:00Z"])
        XCTAssertEqual(try times("0 0 */1 * MON", after: "2026-04-01T00:00:00Z"), ["2026-04-06T00:00:00Z"])
    }

    func testLeapDayAndMonthEnds() throws {
        XCTAssertEqual(try times("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2),
                       ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        // The 31st only in months that have one.
        XCTAssertEqual(try times("0 0 31 * *", after: "2026-01-31T12:00:00Z", count: 4),
                       ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"])
        XCTAssertEqual(try times("59 23 28-31 2 *", after: "2026-02-28T00:00:00Z", count: 2),
                       ["2026-02-28T23:59:00Z", "2027-02-28T23:59:00Z"])
        // Valid to parse, never due: no next time within five years.
        XCTAssertEqual(try times("0 0 30 2 *", after: "2026-01-01T00:00:00Z"), [])
    }

    func testDescriptors() throws {
        let start = "2026-05-05T10:20:30Z"  // a Tuesday
        XCTAssertEqual(try times("@yearly", after: start), ["2027-01-01T00:00:00Z"])
        XCTAssertEqual(try times("@annually", after: start), ["2027-01-01T00:00:00Z"])
        XCTAssertEqual(try times("@monthly", after: start), ["2026-06-01T00:00:00Z"])
        XCTAssertEqual(try times("@weekly", after: start), ["2026-05-10T00:00:00Z"])
        XCTAssertEqual(try times("@daily", after: start), ["2026-05-06T00:00:00Z"])
        XCTAssertEqual(try times("@midnight", after: start), ["2026-05-06T00:00:00Z"])
        XCTAssertEqual(try times("@hourly", after: start, count: 2), ["2026-05-05T11:00:00Z", "2026-05-05T12:00:00Z"])
    }

    func testEveryIsADurationAfterThePreviousTime() throws {
        XCTAssertEqual(try times("@every 1h30m", after: "2026-05-05T10:20:30.7Z", count: 2),
                       ["2026-05-05T11:50:30Z", "2026-05-05T13:20:30Z"])
        XCTAssertEqual(try times("@every 90s", after: "2026-05-05T10:20:30Z"), ["2026-05-05T10:22:00Z"])
        XCTAssertEqual(try times("@every 1.5h", after: "2026-05-05T10:00:00Z"), ["2026-05-05T11:30:00Z"])
        // Under a second is a second; fractions of one are dropped.
        XCTAssertEqual(try times("@every 500ms", after: "2026-05-05T10:00:00Z"), ["2026-05-05T10:00:01Z"])
        XCTAssertEqual(try times("@every 2.9s", after: "2026-05-05T10:00:00Z"), ["2026-05-05T10:00:02Z"])
    }

    // MARK: - Refused

    func testErrorsAreRobfigCronsWords() {
        XCTAssertEqual(error(""), "empty spec string")
        XCTAssertEqual(error("* * * *"), "expected exactly 5 fields, found 4: [* * * *]")
        XCTAssertEqual(error("0 * * * * *"), "expected exactly 5 fields, found 6: [0 * * * * *]")
        XCTAssertEqual(error("60 * * * *"), "end of range (60) above maximum (59): 60")
        XCTAssertEqual(error("* 24 * * *"), "end of range (24) above maximum (23): 24")
        XCTAssertEqual(error("* * 0 * *"), "beginning of range (0) below minimum (1): 0")
        XCTAssertEqual(error("* * * 13 *"), "end of range (13) above maximum (12): 13")
        XCTAssertEqual(error("* * * * 7"), "end of range (7) above maximum (6): 7")
        XCTAssertEqual(error("5-1 * * * *"), "beginning of range (5) beyond end of range (1): 5-1")
        XCTAssertEqual(error("*/0 * * * *"), "step of range should be a positive number: */0")
        XCTAssertEqual(error("a * * * *"), "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax")
        XCTAssertEqual(error("* * * FOO *"), "failed to parse int from FOO: strconv.Atoi: parsing \"FOO\": invalid syntax")
        XCTAssertEqual(error("* * * * MON-FOO"), "failed to parse int from FOO: strconv.Atoi: parsing \"FOO\": invalid syntax")
        XCTAssertEqual(error("1-2-3 * * * *"), "too many hyphens: 1-2-3")
        XCTAssertEqual(error("1/2/3 * * * *"), "too many slashes: 1/2/3")
        XCTAssertEqual(error("@fortnightly"), "unrecognized descriptor: @fortnightly")
        XCTAssertEqual(error("@every"), "unrecognized descriptor: @every")
        XCTAssertEqual(error("@every 1d"), "failed to parse duration @every 1d: time: unknown unit \"d\" in duration \"1d\"")
        XCTAssertEqual(error("@every 10"), "failed to parse duration @every 10: time: missing unit in duration \"10\"")
        XCTAssertEqual(error("TZ=Mars/Olympus 0 * * * *"), "provided bad location Mars/Olympus: unknown time zone Mars/Olympus")
    }

    // MARK: - Time zones

    func testAZoneFromThePrefixOrTheCaller() throws {
        XCTAssertEqual(try times("TZ=America/New_York 0 9 * * *", after: "2026-07-01T00:00:00Z"), ["2026-07-01T09:00:00-04:00"])
        XCTAssertEqual(try times("CRON_TZ=Asia/Kolkata 30 5 * * *", after: "2026-07-01T00:00:00Z"), ["2026-07-02T05:30:00+05:30"])
        XCTAssertEqual(try times("0 9 * * *", after: "2026-07-01T00:00:00Z", in: "Asia/Kolkata"), ["2026-07-01T09:00:00+05:30"])
        // A zone in the schedule wins over the caller's.
        let schedule = try CronSchedule(parsing: "TZ=UTC 0 9 * * *")
        let next = try XCTUnwrap(schedule.next(after: XCTUnwrap(KubeTime.parse("2026-07-01T00:00:00Z")),
                                               in: CronTimeZone.named("Asia/Kolkata")))
        XCTAssertEqual(KubeTime.format(next), "2026-07-01T09:00:00Z")
    }

    func testSpringForwardSkipsTheMissingHour() throws {
        // 2026-03-08 in New York: 02:00 EST becomes 03:00 EDT, so 02:30 never happens that day.
        XCTAssertEqual(try times("30 2 * * *", after: "2026-03-07T12:00:00-05:00", in: "America/New_York", count: 2),
                       ["2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"])
        // Hourly runs stay an hour apart in real time.
        XCTAssertEqual(try times("0 * * * *", after: "2026-03-08T00:30:00-05:00", in: "America/New_York", count: 3),
                       ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"])
        // A daily time after the change is kept on the wall clock.
        XCTAssertEqual(try times("0 9 * * *", after: "2026-03-07T12:00:00-05:00", in: "America/New_York", count: 2),
                       ["2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"])
    }

    func testFallBackRunsTheRepeatedTimeOnBothOffsets() throws {
        // 2026-11-01 in New York: 01:00–02:00 happens twice; robfig/cron (so Kubernetes) fires
        // at 01:30 in each.
        XCTAssertEqual(try times("30 1 * * *", after: "2026-10-31T12:00:00-04:00", in: "America/New_York", count: 3),
                       ["2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-02T01:30:00-05:00"])
        XCTAssertEqual(try times("0 * * * *", after: "2026-11-01T00:30:00-04:00", in: "America/New_York", count: 3),
                       ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"])
    }

    func testAMidnightSkippedByDaylightSaving() throws {
        // São Paulo, 2018-11-04: 00:00 -03 became 01:00 -02; the day is still found.
        XCTAssertEqual(try times("0 12 5 11 *", after: "2018-11-03T12:00:00-03:00", in: "America/Sao_Paulo"),
                       ["2018-11-05T12:00:00-02:00"])
        XCTAssertEqual(try times("0 12 * * *", after: "2018-11-03T12:00:00-03:00", in: "America/Sao_Paulo", count: 2),
                       ["2018-11-04T12:00:00-02:00", "2018-11-05T12:00:00-02:00"])
    }

    func testZoneNamesAreTheTzDatabases() throws {
        XCTAssertEqual(try CronTimeZone.named("America/New_York").identifier, "America/New_York")
        XCTAssertEqual(try CronTimeZone.named("Etc/GMT+5").secondsFromGMT(), -5 * 3600)
        XCTAssertEqual(try CronTimeZone.named("UTC").secondsFromGMT(), 0)
        XCTAssertEqual(try CronTimeZone.named("").secondsFromGMT(), 0)
        for bad in ["Mars/Olympus", "GMT+5", "UTC-03:00", "america/new_york"] {
            XCTAssertThrowsError(try CronTimeZone.named(bad), bad) { error in
                XCTAssertEqual((error as? CronScheduleError)?.message, "unknown time zone \(bad)")
            }
        }
    }

    // MARK: - Go's calendar arithmetic

    func testDatesNormaliseAsGosTimeDate() throws {
        let utc = CronTimeZone.utc
        // Jan 31 plus a month is "Feb 31": March 3rd (2026 is no leap year).
        XCTAssertEqual(ZonedTime.date(2026, 1, 31, 10, 0, 0, zone: utc).adding(months: 1).rfc3339, "2026-03-03T10:00:00Z")
        XCTAssertEqual(ZonedTime.date(2026, 13, 1, 0, 0, 0, zone: utc).rfc3339, "2027-01-01T00:00:00Z")
        XCTAssertEqual(ZonedTime.date(2026, 0, 1, 0, 0, 0, zone: utc).rfc3339, "2025-12-01T00:00:00Z")
        XCTAssertEqual(ZonedTime.date(2024, 2, 29, 0, 0, 0, zone: utc).adding(days: 1).rfc3339, "2024-03-01T00:00:00Z")
        XCTAssertEqual(ZonedTime.date(1969, 12, 31, 23, 59, 59, zone: utc).unix, -1)
        XCTAssertEqual(ZonedTime(unix: -1, zone: utc).weekday, 3)  // 1969-12-31 was a Wednesday
        let newYork = try CronTimeZone.named("America/New_York")
        // Skipped and repeated wall times resolve as Go resolves them, which depends on the offsets.
        XCTAssertEqual(ZonedTime.date(2026, 3, 8, 2, 30, 0, zone: newYork).rfc3339, "2026-03-08T01:30:00-05:00")
        XCTAssertEqual(ZonedTime.date(2026, 11, 1, 1, 30, 0, zone: newYork).rfc3339, "2026-11-01T01:30:00-04:00")
        let london = try CronTimeZone.named("Europe/London")
        XCTAssertEqual(ZonedTime.date(2026, 3, 29, 1, 30, 0, zone: london).rfc3339, "2026-03-29T02:30:00+01:00")
        XCTAssertEqual(ZonedTime.date(2026, 10, 25, 1, 30, 0, zone: london).rfc3339, "2026-10-25T01:30:00Z")
    }
}
