extension MetricChart {
    /// The chart as a PNG: the same layout as the SVG, its labels in a small bitmap font.
    public func png() throws -> [UInt8] {
        let frame = self.frame
        var canvas = PixelCanvas(width: width, height: height)
        let ink: PixelCanvas.Colour = (60, 60, 60)
        canvas.text(title, x: Int(frame.left), y: 10, colour: ink)
        for value in Self.ticks(frame.yRange) {
            let y = frame.y(value)
            canvas.line(from: (frame.left, y), to: (frame.right, y), colour: (230, 230, 230))
            canvas.text(Self.label(value), x: Int(frame.left) - 6, y: Int(y) - 5, colour: ink, alignRight: true)
        }
        for value in Self.ticks(frame.xRange) {
            let label = Self.label(value)
            canvas.text(label, x: Int(frame.x(value)) - label.count * 4, y: Int(frame.bottom) + 8, colour: ink)
        }
        canvas.line(from: (frame.left, frame.top), to: (frame.left, frame.bottom), colour: (85, 85, 85))
        canvas.line(from: (frame.left, frame.bottom), to: (frame.right, frame.bottom), colour: (85, 85, 85))
        for (index, line) in lines.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let points = line.points.map { (frame.x($0.x), frame.y($0.y)) }
            if points.count == 1, let point = points.first {
                canvas.fill(x: Int(point.0) - 3, y: Int(point.1) - 3, width: 7, height: 7, colour: colour)
            }
            for (start, end) in zip(points, points.dropFirst()) {
                canvas.line(from: start, to: end, colour: colour, thickness: 2)
            }
            let legendY = Int(frame.top) + 4 + index * 16
            canvas.fill(x: Int(frame.right) - 150, y: legendY, width: 10, height: 10, colour: colour)
            canvas.text(line.label, x: Int(frame.right) - 134, y: legendY, colour: ink)
        }
        return try PNGEncoder.encode(width: width, height: height, rgb: canvas.pixels)
    }
}
