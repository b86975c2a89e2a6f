/// The values one field of a cron schedule matches, as a bit set (bit n: value n), and whether
/// it was written as `*` or `?`: a day-of-month or day-of-week written so does not restrict the
/// day, which decides how the two day fields combine (see `CronSchedule`).
struct CronField: Equatable, Sendable {
    var bits: UInt64
    /// Written as `*` or `?` (or `*/1`): every value, and no restriction on the day.
    var isStar: Bool

    func contains(_ value: Int) -> Bool { value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0 }

    static func only(_ value: Int) -> CronField { CronField(bits: 1 << UInt64(value), isStar: false) }

    static func every(_ bounds: Bounds) -> CronField { CronField(bits: range(bounds.min, bounds.max, step: 1), isStar: true) }

    static func range(_ start: Int, _ end: Int, step: Int) -> UInt64 {
        var bits: UInt64 = 0
        for value in stride(from: start, through: end, by: step) { bits |= 1 << UInt64(value) }
        return bits
    }

    /// What a field may hold, and the names it accepts (months and weekdays, any case).
    struct Bounds: Sendable {
        let min: Int
        let max: Int
        let names: [String: Int]

        static let second = Bounds(min: 0, max: 59, names: [:])
        static let minute = Bounds(min: 0, max: 59, names: [:])
        static let hour = Bounds(min: 0, max: 23, names: [:])
        static let dayOfMonth = Bounds(min: 1, max: 31, names: [:])
        static let month = Bounds(min: 1, max: 12, names: [
            "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
            "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
        ])
        static let dayOfWeek = Bounds(min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6])
    }
}
