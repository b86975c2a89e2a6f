/// Go's `time.ParseDuration`, which `@every` schedules are read with: a signed sequence of
/// decimal numbers, each with a unit (`300ms`, `1.5h`, `2h45m`); units ns, us (µs), ms, s, m, h.
enum GoDuration {
    private static let units: [String: Double] = [
        "ns": 1, "us": 1e3, "\u{00B5}s": 1e3, "\u{03BC}s": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]

    static func nanoseconds(_ text: String) throws(CronScheduleError) -> Int64 {
        let invalid = CronScheduleError("time: invalid duration \"\(text)\"")
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw invalid }
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { throw invalid }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unit.isEmpty else { throw CronScheduleError("time: missing unit in duration \"\(text)\"") }
            guard let scale = units[String(unit)] else {
                throw CronScheduleError("time: unknown unit \"\(unit)\" in duration \"\(text)\"")
            }
            rest = rest.dropFirst(unit.count)
            total += value * scale
            guard total < 9.223372036854775e18 else { throw invalid }
        }
        return Int64(negative ? -total : total)
    }
}
