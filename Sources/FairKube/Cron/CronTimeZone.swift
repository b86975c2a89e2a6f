import Foundation

/// Time zones by IANA name, as Go's `time.LoadLocation` finds them in the tz database (what
/// kube-apiserver checks `spec.timeZone` against and kube-controller-manager schedules in).
public enum CronTimeZone {
    public static let utc = TimeZone(identifier: "UTC")!

    /// The zone named `name`. "" and "UTC" are UTC, as in Go. Foundation also makes zones of
    /// fixed offsets it parses itself ("GMT+5", "GMT+0500"); those are no tz database names, so
    /// Go refuses them and so does this.
    public static func named(_ name: String) throws(CronScheduleError) -> TimeZone {
        if name.isEmpty || name == "UTC" { return utc }
        if isCustomOffset(name) { throw CronScheduleError("unknown time zone \(name)") }
        guard let zone = TimeZone(identifier: name), zone.identifier == name else {
            throw CronScheduleError("unknown time zone \(name)")
        }
        return zone
    }

    /// `GMT+5`, `UTC-03:00`…; but `GMT+0` and `GMT-0` are names in the database.
    private static func isCustomOffset(_ name: String) -> Bool {
        for prefix in ["GMT", "UTC"] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let sign = rest.first, sign == "+" || sign == "-" else { continue }
            return rest.dropFirst() != "0"
        }
        return false
    }
}
