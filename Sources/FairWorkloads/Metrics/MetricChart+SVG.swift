import Foundation

extension MetricChart {
    /// The chart as an SVG document.
    public func svg() -> String {
        let frame = self.frame
        var parts = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" font-family="sans-serif" font-size="12">"##,
                     ##"<rect width="100%" height="100%" fill="white"/>"##,
                     ##"<text x="\##(width / 2)" y="20" text-anchor="middle" font-size="14">\##(Self.escaped(title))</text>"##]
        for value in Self.ticks(frame.yRange) {
            let y = Self.format(frame.y(value))
            parts.append(##"<line x1="\##(Self.format(frame.left))" y1="\##(y)" x2="\##(Self.format(frame.right))" y2="\##(y)" stroke="#e6e6e6"/>"##)
            parts.append(##"<text x="\##(Self.format(frame.left - 6))" y="\##(y)" text-anchor="end" dominant-baseline="middle">\##(Self.label(value))</text>"##)
        }
        for value in Self.ticks(frame.xRange) {
            parts.append(##"<text x="\##(Self.format(frame.x(value)))" y="\##(Self.format(frame.bottom + 18))" text-anchor="middle">\##(Self.label(value))</text>"##)
        }
        parts.append(##"<polyline points="\##(Self.format(frame.left)),\##(Self.format(frame.top)) \##(Self.format(frame.left)),\##(Self.format(frame.bottom)) \##(Self.format(frame.right)),\##(Self.format(frame.bottom))" fill="none" stroke="#555"/>"##)
        parts.append(##"<text x="\##(Self.format((frame.left + frame.right) / 2))" y="\##(height - 6)" text-anchor="middle">step</text>"##)
        for (index, line) in lines.enumerated() {
            let (r, g, b) = Self.palette[index % Self.palette.count]
            let colour = String(format: "#%02x%02x%02x", r, g, b)
            let points = line.points.map { "\(Self.format(frame.x($0.x))),\(Self.format(frame.y($0.y)))" }
            if points.count == 1, let point = line.points.first {
                parts.append(##"<circle cx="\##(Self.format(frame.x(point.x)))" cy="\##(Self.format(frame.y(point.y)))" r="4" fill="\##(colour)"/>"##)
            } else if !points.isEmpty {
                parts.append(##"<polyline points="\##(points.joined(separator: " "))" fill="none" stroke="\##(colour)" stroke-width="2"/>"##)
            }
            let legendY = Int(frame.top) + 4 + index * 16
            parts.append(##"<rect x="\##(Int(frame.right) - 150)" y="\##(legendY)" width="10" height="10" fill="\##(colour)"/>"##)
            parts.append(##"<text x="\##(Int(frame.right) - 134)" y="\##(legendY + 9)">\##(Self.escaped(line.label))</text>"##)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
