import Foundation

/// RFC 3339 times as the API writes them ("2024-05-01T12:00:00Z"), formatted with `gmtime_r`
/// because Foundation's formatters are not safe to share between threads.
enum Timestamps {
    static func rfc3339(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// With nanoseconds, as kubelet prefixes log lines ("2024-05-01T12:00:00.123456789Z").
    static func rfc3339Nano(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let nanos = Int(((date.timeIntervalSince1970 - whole) * 1e9).rounded(.down))
        return String(rfc3339(date).dropLast()) + String(format: ".%09dZ", min(nanos, 999_999_999))
    }

    static func parse(_ text: String?) -> Date? {
        guard let text, text.count >= 20 else { return nil }
        let scanned = text.utf8.map { $0 }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                let byte = scanned[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// With the fraction of a second, when there is one (`…T12:00:00.123456789Z`, `…T12:00:00Z`).
    static func parseRFC3339(_ text: String) -> Date? {
        guard let whole = parse(text) else { return nil }
        let bytes = Array(text.utf8)
        guard bytes.count > 20, bytes[19] == UInt8(ascii: ".") else { return whole }
        var fraction = 0.0, scale = 0.1
        for byte in bytes[20...] {
            guard byte >= 48, byte <= 57 else { break }
            fraction += Double(byte - 48) * scale
            scale /= 10
        }
        return whole.addingTimeInterval(fraction)
    }
}
