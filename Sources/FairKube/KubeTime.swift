import Foundation

/// Times as the API carries them: RFC 3339 in UTC, `Time` to the second
/// (`2024-05-01T12:00:00Z`) and `MicroTime`/log prefixes with a fraction
/// (`2024-05-01T12:00:00.123456789Z`). The one formatter and parser of every component.
/// Formatted with `gmtime_r`: Foundation's formatters cost more than a pod's creation and are
/// not safe to share between threads.
public enum KubeTime {
    /// `Time`: whole seconds.
    public static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = ""
        text.reserveCapacity(20)
        func append(_ value: Int32, _ width: Int) {
            let digits = String(value)
            text += String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        append(parts.tm_year + 1900, 4); text += "-"; append(parts.tm_mon + 1, 2); text += "-"; append(parts.tm_mday, 2)
        text += "T"; append(parts.tm_hour, 2); text += ":"; append(parts.tm_min, 2); text += ":"; append(parts.tm_sec, 2)
        return text + "Z"
    }

    /// With nanoseconds, as kubelet prefixes log lines.
    public static func formatNano(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let nanos = min(Int(((date.timeIntervalSince1970 - whole) * 1e9).rounded(.down)), 999_999_999)
        let digits = String(nanos)
        return String(format(date).dropLast()) + "." + String(repeating: "0", count: 9 - digits.count) + digits + "Z"
    }

    /// `MicroTime`: six digits of fraction (Events' `eventTime`, Leases).
    public static func formatMicro(_ date: Date) -> String {
        String(formatNano(date).dropLast(4)) + "Z"
    }

    public static func now() -> String { format(Date()) }

    /// Either form, with its fraction when it has one; any RFC 3339 offset is understood too.
    public static func parse(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        if let date = parseUTC(text) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public static func parse(_ value: JSONValue?) -> Date? { parse(value?.stringValue) }

    /// The common case, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, without a formatter.
    private static func parseUTC(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"), bytes[13] == UInt8(ascii: ":"),
              bytes[16] == UInt8(ascii: ":") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 21 else { return nil }
            var scale = 0.1
            for byte in bytes[20..<(bytes.count - 1)] {
                guard byte >= 48, byte <= 57 else { return nil }
                fraction += Double(byte - 48) * scale
                scale /= 10
            }
        }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)) + fraction)
    }
}
