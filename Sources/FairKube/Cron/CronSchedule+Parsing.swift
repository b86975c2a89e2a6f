import Foundation

extension CronSchedule {
    /// Parses `spec` as robfig/cron v3's `ParseStandard` does, with its error messages.
    public init(parsing spec: String) throws(CronScheduleError) {
        guard !spec.isEmpty else { throw CronScheduleError("empty spec string") }
        var spec = Substring(spec)
        var zone: TimeZone?
        if spec.hasPrefix("TZ=") || spec.hasPrefix("CRON_TZ=") {
            // `TZ=Europe/Paris 0 9 * * *`: the zone runs to the first space.
            guard let space = spec.firstIndex(of: " "), let equals = spec.firstIndex(of: "=") else {
                throw CronScheduleError("invalid schedule format: the zone of \(spec) must be followed by a space and the schedule")
            }
            let name = String(spec[spec.index(after: equals)..<space])
            do {
                zone = try CronTimeZone.named(name)
            } catch {
                throw CronScheduleError("provided bad location \(name): \(error)")
            }
            spec = spec[space...].drop { $0.isWhitespace }
        }
        if spec.hasPrefix("@") {
            self.init(try Self.descriptor(String(spec)), timeZone: zone)
            return
        }
        let fields = spec.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw CronScheduleError("expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        self.init(.fields(second: .only(0),
                          minute: try Self.field(fields[0], .minute),
                          hour: try Self.field(fields[1], .hour),
                          dayOfMonth: try Self.field(fields[2], .dayOfMonth),
                          month: try Self.field(fields[3], .month),
                          dayOfWeek: try Self.field(fields[4], .dayOfWeek)),
                  timeZone: zone)
    }

    /// A comma-separated list of ranges.
    private static func field(_ text: String, _ bounds: CronField.Bounds) throws(CronScheduleError) -> CronField {
        var field = CronField(bits: 0, isStar: false)
        for expression in text.split(separator: ",") {
            let range = try range(String(expression), bounds)
            field.bits |= range.bits
            field.isStar = field.isStar || range.isStar
        }
        return field
    }

    /// `*`, `?`, `N`, `N-M`, each optionally `/STEP`; `N/STEP` means `N-max/STEP`.
    private static func range(_ expression: String, _ bounds: CronField.Bounds) throws(CronScheduleError) -> CronField {
        let rangeAndStep = expression.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowAndHigh = rangeAndStep[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        var start: Int, end: Int, step = 1
        var isStar = false
        if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
            (start, end, isStar) = (bounds.min, bounds.max, true)
        } else {
            start = try number(lowAndHigh[0], names: bounds.names)
            switch lowAndHigh.count {
            case 1: end = start
            case 2: end = try number(lowAndHigh[1], names: bounds.names)
            default: throw CronScheduleError("too many hyphens: \(expression)")
            }
        }
        switch rangeAndStep.count {
        case 1:
            break
        case 2:
            step = try number(rangeAndStep[1], names: [:])
            if lowAndHigh.count == 1 { end = bounds.max }
            if step > 1 { isStar = false }
        default:
            throw CronScheduleError("too many slashes: \(expression)")
        }
        if start < bounds.min { throw CronScheduleError("beginning of range (\(start)) below minimum (\(bounds.min)): \(expression)") }
        if end > bounds.max { throw CronScheduleError("end of range (\(end)) above maximum (\(bounds.max)): \(expression)") }
        if start > end { throw CronScheduleError("beginning of range (\(start)) beyond end of range (\(end)): \(expression)") }
        if step == 0 { throw CronScheduleError("step of range should be a positive number: \(expression)") }
        return CronField(bits: CronField.range(start, end, step: step), isStar: isStar)
    }

    private static func number(_ text: String, names: [String: Int]) throws(CronScheduleError) -> Int {
        if let named = names[text.lowercased()] { return named }
        // Go's strconv.Atoi: an optional sign and decimal digits.
        guard let value = Int(text) else {
            throw CronScheduleError("failed to parse int from \(text): strconv.Atoi: parsing \"\(text)\": invalid syntax")
        }
        guard value >= 0 else { throw CronScheduleError("negative number (\(value)) not allowed: \(text)") }
        return value
    }

    private static func descriptor(_ text: String) throws(CronScheduleError) -> Rule {
        let star = CronField.every
        switch text {
        case "@yearly", "@annually":
            return .fields(second: .only(0), minute: .only(0), hour: .only(0), dayOfMonth: .only(1), month: .only(1), dayOfWeek: star(.dayOfWeek))
        case "@monthly":
            return .fields(second: .only(0), minute: .only(0), hour: .only(0), dayOfMonth: .only(1), month: star(.month), dayOfWeek: star(.dayOfWeek))
        case "@weekly":
            return .fields(second: .only(0), minute: .only(0), hour: .only(0), dayOfMonth: star(.dayOfMonth), month: star(.month), dayOfWeek: .only(0))
        case "@daily", "@midnight":
            return .fields(second: .only(0), minute: .only(0), hour: .only(0), dayOfMonth: star(.dayOfMonth), month: star(.month),
                           dayOfWeek: star(.dayOfWeek))
        case "@hourly":
            return .fields(second: .only(0), minute: .only(0), hour: star(.hour), dayOfMonth: star(.dayOfMonth), month: star(.month),
                           dayOfWeek: star(.dayOfWeek))
        default:
            break
        }
        let every = "@every "
        guard text.hasPrefix(every) else { throw CronScheduleError("unrecognized descriptor: \(text)") }
        let nanoseconds: Int64
        do {
            nanoseconds = try GoDuration.nanoseconds(String(text.dropFirst(every.count)))
        } catch {
            throw CronScheduleError("failed to parse duration \(text): \(error)")
        }
        // Under a second counts as a second; fractions of a second are dropped.
        return .every(seconds: max(1, nanoseconds / 1_000_000_000))
    }
}
