import Foundation

/// A schedule as Kubernetes reads a CronJob's `spec.schedule`: robfig/cron v3's standard parser
/// (five fields, minute hour day-of-month month day-of-week; lists, ranges, steps, month and
/// weekday names, `?`; the `@yearly`…`@hourly` descriptors and `@every DURATION`; an optional
/// `TZ=`/`CRON_TZ=` prefix), with its way of finding the next run, so that fair starts Jobs at
/// the times kube-controller-manager would. Parsing is in `CronSchedule+Parsing.swift`.
///
/// When both day fields are restricted a day matches either (`0 0 1 * MON`: the 1st and every
/// Monday); when either is `*` or `?` both must match.
public struct CronSchedule: Equatable, Sendable {
    enum Rule: Equatable, Sendable {
        case fields(second: CronField, minute: CronField, hour: CronField, dayOfMonth: CronField, month: CronField, dayOfWeek: CronField)
        /// `@every`: a whole number of seconds after the previous time.
        case every(seconds: Int64)
    }

    let rule: Rule
    /// The zone of a `TZ=` prefix; nil: the zone the caller reads the schedule in.
    public let timeZone: TimeZone?

    init(_ rule: Rule, timeZone: TimeZone? = nil) {
        self.rule = rule
        self.timeZone = timeZone
    }

    /// The first time after `date` (at least a second after it, on a whole second) that the
    /// schedule fires, on the wall clock of its own zone or else of `zone`; nil when it never
    /// fires in the five years after (`0 0 30 2 *`).
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        switch rule {
        case let .every(seconds):
            return Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down) + TimeInterval(seconds))
        case let .fields(second, minute, hour, dayOfMonth, month, dayOfWeek):
            return Self.next(after: ZonedTime(date, zone: timeZone ?? zone).adding(seconds: 1),
                             second: second, minute: minute, hour: hour, dayOfMonth: dayOfMonth, month: month, dayOfWeek: dayOfWeek)?.date
        }
    }

    /// robfig/cron's search: from `start`, move the month, then the day, hour, minute and second
    /// forward until each matches; the first move of any field resets the smaller ones to their
    /// start, and a field that wraps around starts the search again from the month.
    private static func next(after start: ZonedTime, second: CronField, minute: CronField, hour: CronField,
                             dayOfMonth: CronField, month: CronField, dayOfWeek: CronField) -> ZonedTime? {
        var t = start
        let zone = start.zone
        var moved = false
        let yearLimit = t.year + 5

        search: while true {
            if t.year > yearLimit { return nil }

            while !month.contains(t.month) {
                if !moved {
                    moved = true
                    t = .date(t.year, t.month, 1, 0, 0, 0, zone: zone)
                }
                t = t.adding(months: 1)
                if t.month == 1 { continue search }
            }

            while !dayMatches(t, dayOfMonth: dayOfMonth, dayOfWeek: dayOfWeek) {
                if !moved {
                    moved = true
                    t = .date(t.year, t.month, t.day, 0, 0, 0, zone: zone)
                }
                t = t.adding(days: 1)
                // Where a DST change skips midnight the wall time lands at 1:00 (or 23:00 the
                // day before): back to the start of the day.
                if t.hour != 0 {
                    t = t.adding(seconds: Int64(t.hour > 12 ? 24 - t.hour : -t.hour) * 3600)
                }
                if t.day == 1 { continue search }
            }

            while !hour.contains(t.hour) {
                if !moved {
                    moved = true
                    t = .date(t.year, t.month, t.day, t.hour, 0, 0, zone: zone)
                }
                t = t.adding(seconds: 3600)
                if t.hour == 0 { continue search }
            }

            while !minute.contains(t.minute) {
                if !moved {
                    moved = true
                    t = t.truncated(to: 60)
                }
                t = t.adding(seconds: 60)
                if t.minute == 0 { continue search }
            }

            while !second.contains(t.second) {
                if !moved {
                    moved = true
                    t = t.truncated(to: 1)
                }
                t = t.adding(seconds: 1)
                if t.second == 0 { continue search }
            }
            return t
        }
    }

    private static func dayMatches(_ t: ZonedTime, dayOfMonth: CronField, dayOfWeek: CronField) -> Bool {
        let inMonth = dayOfMonth.contains(t.day), inWeek = dayOfWeek.contains(t.weekday)
        return dayOfMonth.isStar || dayOfWeek.isStar ? inMonth && inWeek : inMonth || inWeek
    }
}
