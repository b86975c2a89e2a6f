import Foundation

/// Request counts and latencies by verb and resource, for `/metrics` (Prometheus text format):
/// a cumulative histogram per series, with the Kubernetes API server's own bucket bounds.
final class RequestMetrics: @unchecked Sendable {
    static let buckets: [Double] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private struct Series {
        var counts = [Int](repeating: 0, count: RequestMetrics.buckets.count)
        var total = 0
        var sum: Double = 0
        var codes: [Int: Int] = [:]
    }

    private var series: [String: Series] = [:]
    private let lock = NSLock()

    func record(verb: String, resource: String, code: Int, seconds: Double) {
        let key = "verb=\"\(verb)\",resource=\"\(resource)\""
        lock.lock(); defer { lock.unlock() }
        var entry = series[key] ?? Series()
        for (index, bound) in Self.buckets.enumerated() where seconds <= bound { entry.counts[index] += 1 }
        entry.total += 1
        entry.sum += seconds
        entry.codes[code, default: 0] += 1
        series[key] = entry
    }

    func render() -> String {
        lock.lock(); defer { lock.unlock() }
        var lines = ["# TYPE fair_apiserver_request_total counter"]
        for (key, entry) in series.sorted(by: { $0.key < $1.key }) {
            for (code, count) in entry.codes.sorted(by: { $0.key < $1.key }) {
                lines.append("fair_apiserver_request_total{\(key),code=\"\(code)\"} \(count)")
            }
        }
        lines.append("# TYPE fair_apiserver_request_duration_seconds histogram")
        for (key, entry) in series.sorted(by: { $0.key < $1.key }) {
            for (index, bound) in Self.buckets.enumerated() {
                lines.append("fair_apiserver_request_duration_seconds_bucket{\(key),le=\"\(bound)\"} \(entry.counts[index])")
            }
            lines.append("fair_apiserver_request_duration_seconds_bucket{\(key),le=\"+Inf\"} \(entry.total)")
            lines.append("fair_apiserver_request_duration_seconds_sum{\(key)} \(entry.sum)")
            lines.append("fair_apiserver_request_duration_seconds_count{\(key)} \(entry.total)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
