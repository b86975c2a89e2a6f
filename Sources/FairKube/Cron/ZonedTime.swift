import Foundation

/// An instant (whole seconds since the Unix epoch) read on the wall clock of a time zone, with
/// the arithmetic of Go's `time` package: `date(…)` normalises out-of-range fields and resolves a
/// wall time that a daylight-saving change skipped or repeated exactly as Go's `time.Date` does,
/// `adding(seconds:)` moves the instant, `adding(months:days:)` moves the wall date. robfig/cron
/// finds the next run with these operations, so computing with the same ones gives the same
/// times across DST changes as kube-controller-manager.
struct ZonedTime: Equatable {
    let unix: Int64
    let zone: TimeZone
    let year: Int64
    /// 1…12
    let month: Int
    /// 1…31
    let day: Int
    let hour: Int
    let minute: Int
    let second: Int
    /// 0 (Sunday)…6
    let weekday: Int

    init(unix: Int64, zone: TimeZone) {
        self.unix = unix
        self.zone = zone
        let local = unix + Int64(Self.offset(zone, at: unix))
        let days = Self.floorDivide(local, 86_400)
        let secondOfDay = Int(local - days * 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        // 1970-01-01 was a Thursday.
        weekday = Int(((days % 7) + 7 + 4) % 7)
    }

    init(_ date: Date, zone: TimeZone) {
        self.init(unix: Int64(date.timeIntervalSince1970.rounded(.down)), zone: zone)
    }

    var date: Date { Date(timeIntervalSince1970: TimeInterval(unix)) }

    /// Go's `time.Date(year, month, day, hour, minute, second, 0, zone)`.
    static func date(_ year: Int64, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int, zone: TimeZone) -> ZonedTime {
        let monthIndex = Int64(month - 1)
        let normalizedYear = year + floorDivide(monthIndex, 12)
        let normalizedMonth = Int(monthIndex - floorDivide(monthIndex, 12) * 12) + 1
        let days = daysFromCivil(normalizedYear, normalizedMonth, 1) + Int64(day - 1)
        var unix = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        // The wall time read as UTC, corrected by the zone's offset at that instant; when the
        // correction crosses a change of offset, by the offset on the other side. This is Go's
        // rule, and decides where a skipped or repeated wall time lands, so it is kept as is.
        let guess = offset(zone, at: unix)
        if guess != 0 { unix -= Int64(offset(zone, at: unix - Int64(guess))) }
        return ZonedTime(unix: unix, zone: zone)
    }

    func adding(seconds: Int64) -> ZonedTime { ZonedTime(unix: unix + seconds, zone: zone) }

    /// Go's `AddDate(0, months, days)`: the same wall time on another date.
    func adding(months: Int = 0, days: Int = 0) -> ZonedTime {
        Self.date(year, month + months, day + days, hour, minute, second, zone: zone)
    }

    /// Go's `Truncate`: down to a multiple of `seconds` since the epoch, whatever the zone.
    func truncated(to seconds: Int64) -> ZonedTime {
        ZonedTime(unix: Self.floorDivide(unix, seconds) * seconds, zone: zone)
    }

    /// RFC 3339 with the zone's offset (`2026-03-08T01:30:00-05:00`, `…Z` in UTC), as Go's
    /// `time.RFC3339` layout writes it.
    var rfc3339: String {
        let offset = Self.offset(zone, at: unix)
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let suffix = offset == 0 ? "Z" : (offset < 0 ? "-" : "+") + pad(abs(offset) / 3600) + ":" + pad(abs(offset) / 60 % 60)
        return "\(pad(Int(year), 4))-\(pad(month))-\(pad(day))T\(pad(hour)):\(pad(minute)):\(pad(second))" + suffix
    }

    static func == (lhs: ZonedTime, rhs: ZonedTime) -> Bool { lhs.unix == rhs.unix && lhs.zone == rhs.zone }

    // MARK: - Calendar arithmetic

    private static func offset(_ zone: TimeZone, at unix: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(unix)))
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(_ year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension KubeTime {
    /// RFC 3339 on the wall clock of `zone`, with its offset (Go's `t.In(zone).Format(time.RFC3339)`).
    public static func format(_ date: Date, in zone: TimeZone) -> String { ZonedTime(date, zone: zone).rfc3339 }
}
