/// Go's `time.Duration.String()`, which is how `metav1.Duration` is written in JSON: "1h2m3.5s",
/// "1m0s", "1.5ms", "0s", with units below a second only for durations below a second.
enum GoDuration {
    static func string(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let value = nanoseconds.magnitude
        if value < 1_000_000_000 {
            let (unit, precision): (String, Int) = value < 1_000 ? ("ns", 0) : value < 1_000_000 ? ("µs", 3) : ("ms", 6)
            let scale = power(precision)
            return sign + "\(value / scale)" + fraction(value % scale, precision) + unit
        }
        let seconds = value / 1_000_000_000
        var text = "\(seconds % 60)" + fraction(value % 1_000_000_000, 9) + "s"
        let minutes = seconds / 60
        if minutes > 0 {
            text = "\(minutes % 60)m" + text
            let hours = minutes / 60
            if hours > 0 { text = "\(hours)h" + text }
        }
        return sign + text
    }

    /// ".5" for 500 of 3 digits; nothing for zero (Go's fmtFrac drops trailing zeros and the point).
    private static func fraction(_ value: UInt64, _ digits: Int) -> String {
        guard value > 0 else { return "" }
        let text = String(value)
        var padded = String(repeating: "0", count: digits - text.count) + text
        while padded.hasSuffix("0") { padded.removeLast() }
        return "." + padded
    }

    private static func power(_ digits: Int) -> UInt64 {
        (0..<digits).reduce(1) { value, _ in value * 10 }
    }
}
