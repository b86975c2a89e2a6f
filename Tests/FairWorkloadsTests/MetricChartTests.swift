@testable import FairWorkloads
import XCTest

final class MetricChartTests: XCTestCase {
    func testLoggedMetricsAreReadInOrderAndBadLinesPassedOver() {
        let text = """
            {"name":"loss","value":0.9,"step":0,"time":1.0}
            {"name":"acc","value":1,"step":0}
            not json
            {"name":"loss","value":"nan","step":1}
            {"name":"","value":3}
            {"name":"loss","value":0.4,"step":2}
            {"name":"loss","val
            """
        let series = MetricSeries.parse(jsonLines: Array(text.utf8))
        XCTAssertEqual(series.map(\.name), ["loss", "acc"])
        XCTAssertEqual(series[0].points.map(\.step), [0, 1, 2])
        XCTAssertTrue(series[0].points[1].value.isNaN)
        XCTAssertEqual(series[0].last, 0.4)
        XCTAssertEqual(series[1].last, 1)
        XCTAssertEqual(MetricSeries.lastValues(annotation: #"{"rmse":0.2,"epochs":3,"note":"x"}"#).map(\.name), ["epochs", "rmse"])
        XCTAssertEqual(MetricSeries.lastValues(annotation: "{broken"), [])
    }

    func testASparklineFollowsTheValues() {
        XCTAssertEqual(Sparkline.render([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█")
        XCTAssertEqual(Sparkline.render([3, 3, 3]), "▅▅▅")
        XCTAssertEqual(Sparkline.render([0, .nan, 1]), "▁ █")
        XCTAssertEqual(Sparkline.render(Array(stride(from: 0.0, through: 99, by: 1)), width: 10).count, 10)
        XCTAssertEqual(Sparkline.render([]), "")
    }

    func testTheChartAsSVGAndPNG() throws {
        let series = MetricSeries.parse(jsonLines: Array((0..<50).map { #"{"name":"loss","value":\#(1.0 / Double($0 + 1)),"step":\#($0)}"# }
            .joined(separator: "\n").utf8))
        let chart = MetricChart(title: "fit:v1 <&>", series: series)
        let svg = chart.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains("fit:v1 &lt;&amp;&gt;"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline points=").count - 1, 2, "the axes and one line")
        let png = try chart.png()
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(String(decoding: png[12..<16], as: UTF8.self), "IHDR")
        XCTAssertEqual(Array(png[16..<24]), [0, 0, 2, 0xD0, 0, 0, 1, 0x90], "720 × 400")
        XCTAssertEqual(String(decoding: png.suffix(8).prefix(4), as: UTF8.self), "IEND")
        // One value only (a version with metrics.json): a dot, and a range that is not empty.
        let single = MetricChart(title: "", series: MetricSeries.lastValues(annotation: #"{"rmse":0.2}"#))
        XCTAssertTrue(single.svg().contains("<circle"))
        XCTAssertTrue(single.frame.yRange.upperBound > single.frame.yRange.lowerBound)
    }

    func testLabelsAndGlyphs() {
        XCTAssertEqual(MetricChart.label(3), "3")
        XCTAssertEqual(MetricChart.label(0.25), "0.25")
        XCTAssertEqual(MetricChart.label(0.00001), "1.00e-05")
        XCTAssertEqual(PixelFont.glyph("1"), [0b010, 0b110, 0b010, 0b010, 0b111])
        XCTAssertEqual(PixelFont.glyph("é"), [0, 0, 0, 0, 0])
    }
}
