import Foundation

/// A line chart of metric series (x: step, or the order logged; y: value), laid out once and
/// drawn as SVG (text, for browsers and docs) or PNG (pixels, for anything that shows images).
/// Each series is one line in a colour of its own, named in the legend; a one-point series (two
/// versions compared) is a dot.
public struct MetricChart: Sendable {
    public struct Line: Sendable {
        public var label: String
        public var points: [(x: Double, y: Double)]

        public init(label: String, points: [(x: Double, y: Double)]) {
            self.label = label
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        }
    }

    public var title: String
    public var lines: [Line]
    public var width = 720
    public var height = 400

    public init(title: String, lines: [Line]) {
        self.title = title
        self.lines = lines
    }

    /// Each series over its steps (its position where it logged no step).
    public init(title: String, series: [MetricSeries]) {
        self.init(title: title, lines: Self.lines(series))
    }

    /// One line per series, labelled `prefix` and the metric's name.
    public static func lines(_ series: [MetricSeries], prefix: String = "") -> [Line] {
        series.map { metric in
            Line(label: prefix + metric.name, points: metric.points.enumerated().map { index, point in (Double(point.step ?? index), point.value) })
        }
    }

    static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                                                   (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)]
    static let margin = (left: 70, right: 20, top: 36, bottom: 40)

    /// The plotting area and the data's ranges (padded, never empty).
    struct Frame {
        let left, top, right, bottom: Double
        let xRange: ClosedRange<Double>
        let yRange: ClosedRange<Double>

        func x(_ value: Double) -> Double { left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (right - left) }
        func y(_ value: Double) -> Double { bottom - (value - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * (bottom - top) }
    }

    var frame: Frame {
        let xs = lines.flatMap { $0.points.map(\.x) }, ys = lines.flatMap { $0.points.map(\.y) }
        var xRange = (xs.min() ?? 0)...(xs.max() ?? 1)
        var yRange = (ys.min() ?? 0)...(ys.max() ?? 1)
        if xRange.lowerBound == xRange.upperBound { xRange = (xRange.lowerBound - 1)...(xRange.upperBound + 1) }
        let pad = yRange.lowerBound == yRange.upperBound ? max(abs(yRange.lowerBound) * 0.1, 1) : (yRange.upperBound - yRange.lowerBound) * 0.05
        yRange = (yRange.lowerBound - pad)...(yRange.upperBound + pad)
        return Frame(left: Double(Self.margin.left), top: Double(Self.margin.top), right: Double(width - Self.margin.right),
                     bottom: Double(height - Self.margin.bottom), xRange: xRange, yRange: yRange)
    }

    /// Five evenly spaced values across a range, for ticks.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        (0...4).map { range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / 4 }
    }

    static func label(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        let magnitude = abs(value)
        return magnitude >= 1e4 || magnitude < 1e-3 ? String(format: "%.2e", value) : String(format: "%.3g", value)
    }
}
