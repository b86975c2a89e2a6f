import FairKube

/// One metric a training logged (`fair.log_metric`, one JSON line each in the model's
/// `metrics.jsonl`): its values in the order logged, each with its step when it had one.
public struct MetricSeries: Equatable, Sendable {
    public struct Point: Equatable, Sendable {
        public var step: Int?
        public var value: Double
    }

    public var name: String
    public var points: [Point]

    public var last: Double? { points.last?.value }

    /// The series in `metrics.jsonl`, in the order each metric first appears. A line that is not
    /// a metric (cut short by a killed process, written by hand) is passed over; a value may be a
    /// number or the string "nan"/"inf" that JSON cannot hold as a number.
    public static func parse(jsonLines bytes: [UInt8]) -> [MetricSeries] {
        var order: [String] = []
        var points: [String: [Point]] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let row = try? JSONCoding.decode(Array(line)), let name = row["name"]?.stringValue, !name.isEmpty,
                  let value = number(row["value"]) else { continue }
            if points[name] == nil { order.append(name) }
            let step = row["step"].flatMap { $0.intValue }.map { Int($0) }
            points[name, default: []].append(Point(step: step, value: value))
        }
        return order.map { MetricSeries(name: $0, points: points[$0] ?? []) }
    }

    /// Last values only (a model's metrics annotation, or a `metrics.json` the script wrote), as
    /// one-point series in the annotation's key order (sorted: JSON objects have none).
    public static func lastValues(annotation: String?) -> [MetricSeries] {
        guard let annotation, let object = try? JSONCoding.decode(Array(annotation.utf8)), case let .object(values) = object else { return [] }
        return values.keys.sorted().compactMap { name in
            number(values[name]).map { MetricSeries(name: name, points: [Point(step: nil, value: $0)]) }
        }
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case let .int(number)?: return Double(number)
        case let .double(number)?: return number
        case let .string(text)?: return Double(text)
        default: return nil
        }
    }
}
