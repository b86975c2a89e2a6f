import ArgumentParser
import FairArchive
import FairBuild
import FairKube
import FairRegistry
import FairWorkloads
import Foundation

/// A stored model's metrics: the series in its `metrics.jsonl` (what `fair.log_metric` recorded),
/// else the last values of its metrics annotation.
enum ModelMetrics {
    /// Pulls the model into a temporary directory (its blobs stay in fair's blob store, so a
    /// second look fetches nothing), reads `metrics.jsonl`, and removes the directory.
    static func series(of model: ModelVersion, in registry: ModelRegistry) throws -> [MetricSeries] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fair-metrics-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try registry.pull(model, into: directory, store: FairHome().blobStore)
        if let bytes = FileManager.default.contents(atPath: "\(directory)/metrics.jsonl") {
            let series = MetricSeries.parse(jsonLines: Array(bytes))
            if !series.isEmpty { return series }
        }
        return MetricSeries.lastValues(annotation: model.metrics)
    }

    /// `{name: [{step, value}, …]}` in the order logged.
    static func json(_ series: [MetricSeries]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: series.map { metric in
            (metric.name, JSONValue.array(metric.points.map { point in
                var entry: [String: JSONValue] = ["value": point.value.isFinite ? .double(point.value) : .string("\(point.value)")]
                if let step = point.step { entry["step"] = .int(Int64(step)) }
                return .object(entry)
            }))
        }))
    }

    /// One line per metric: name, last value, a sparkline and how many values it had.
    static func table(_ series: [MetricSeries]) -> [String] {
        let rows = series.map { metric -> [String] in
            let values = metric.points.map(\.value)
            let course = values.count > 1 ? "\(Sparkline.render(values))  (\(values.count) values\(stepRange(metric)))" : ""
            return [metric.name, metric.last.map(number) ?? "-", course]
        }
        return Console.columns(rows)
    }

    private static func stepRange(_ metric: MetricSeries) -> String {
        let steps = metric.points.compactMap(\.step)
        guard let first = steps.min(), let last = steps.max(), first != last else { return "" }
        return ", steps \(first)–\(last)"
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        if value == value.rounded() && abs(value) < 1e12 { return String(Int(value)) }
        return String(format: "%.6g", value)
    }
}

/// `--plot FILE.png|svg`: the format from the name, checked before anything is fetched.
enum MetricPlot {
    enum Format {
        case png, svg

        init(path: String) throws {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "png": self = .png
            case "svg": self = .svg
            default: throw InputError(description: "--plot \(path): the file must end in .png or .svg")
            }
        }
    }

    static func write(_ chart: MetricChart, to path: String, format: Format) throws {
        guard !chart.lines.allSatisfy({ $0.points.isEmpty }) else {
            throw InputError(description: "--plot \(path): the model has no metrics to plot (log them with fair.log_metric, or write metrics.json)")
        }
        let bytes: [UInt8] = switch format {
        case .png: try chart.png()
        case .svg: Array(chart.svg().utf8)
        }
        try AtomicFile.write(to: path, bytes: bytes, permissions: 0o644)
    }
}
