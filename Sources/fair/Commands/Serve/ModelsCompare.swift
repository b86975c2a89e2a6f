import ArgumentParser
import FairKube
import FairRegistry
import FairWorkloads
import Foundation

/// `fair models compare A B`: two model versions' metrics side by side, as experiment trackers
/// compare runs: each metric's last value in both, and the change from the first to the second.
struct ModelsCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Two model versions' metrics side by side (e.g. fit:v1 fit:v2).")

    @Argument(help: "The first NAME[:VERSION].")
    var first: String

    @Argument(help: "The second NAME[:VERSION].")
    var second: String

    @OptionGroup var options: ModelRegistryOptions

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    @Option(help: "Write a chart of both versions' metrics to FILE.png or FILE.svg.")
    var plot: String?

    func run() throws {
        try reportingFailures {
            let plotFormat = try plot.map { try MetricPlot.Format(path: $0) }
            let registry = try options.models()
            let models = try [first, second].map { spec -> ModelVersion in
                let (name, version) = try ServeRun.parseModel(spec)
                return try registry.resolve(name, version: version)
            }
            let series = try models.map { try ModelMetrics.series(of: $0, in: registry) }
            let labels = models.map { "\($0.name):\($0.version)" }
            var names: [String] = []
            for metric in series.flatMap({ $0 }) where !names.contains(metric.name) { names.append(metric.name) }
            let last = series.map { Dictionary($0.map { ($0.name, $0.last) }, uniquingKeysWith: { _, new in new }) }

            if let plot, let plotFormat {
                let lines = zip(labels, series).flatMap { label, metrics in MetricChart.lines(metrics, prefix: "\(label) ") }
                try MetricPlot.write(MetricChart(title: labels.joined(separator: " vs "), lines: lines), to: plot, format: plotFormat)
            }
            switch outputFormat {
            case .json:
                Console.json([
                    "models": .array(labels.map { .string($0) }),
                    "metrics": .object(Dictionary(uniqueKeysWithValues: names.map { name in
                        (name, JSONValue.array(last.map { values in values[name].flatMap { $0 }.map { .double($0) } ?? .null }))
                    })),
                ])
            case .text:
                var rows = [["METRIC", labels[0], labels[1], "CHANGE"]]
                for name in names {
                    let a = last[0][name].flatMap { $0 }, b = last[1][name].flatMap { $0 }
                    rows.append([name, a.map(ModelMetrics.number) ?? "-", b.map(ModelMetrics.number) ?? "-", Self.change(a, b)])
                }
                if names.isEmpty { Console.progress("neither version has metrics (log them with fair.log_metric, or write metrics.json)") }
                for line in Console.columns(rows) { Console.result(line) }
                if let plot { Console.progress("wrote \(plot)") }
            }
        }
    }

    static func change(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, a.isFinite, b.isFinite else { return "" }
        let difference = b - a
        let sign = difference > 0 ? "+" : ""
        guard a != 0 else { return "\(sign)\(ModelMetrics.number(difference))" }
        return "\(sign)\(ModelMetrics.number(difference)) (\(sign)\(String(format: "%.1f", difference / abs(a) * 100))%)"
    }
}
