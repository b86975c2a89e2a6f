/// An RGB raster to draw a chart on: filled rectangles, thick lines and text in a small bitmap
/// font (`PixelFont`), nothing more, since a chart needs nothing more.
struct PixelCanvas {
    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    typealias Colour = (UInt8, UInt8, UInt8)

    init(width: Int, height: Int, background: Colour = (255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, colour: background)
    }

    mutating func set(_ x: Int, _ y: Int, _ colour: Colour) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let offset = (y * width + x) * 3
        pixels[offset] = colour.0
        pixels[offset + 1] = colour.1
        pixels[offset + 2] = colour.2
    }

    mutating func fill(x: Int, y: Int, width: Int, height: Int, colour: Colour) {
        for row in max(y, 0)..<min(y + height, self.height) {
            for column in max(x, 0)..<min(x + width, self.width) { set(column, row, colour) }
        }
    }

    /// Bresenham's line, `thickness` pixels wide.
    mutating func line(from start: (Double, Double), to end: (Double, Double), colour: Colour, thickness: Int = 1) {
        var x0 = Int(start.0.rounded()), y0 = Int(start.1.rounded())
        let x1 = Int(end.0.rounded()), y1 = Int(end.1.rounded())
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        let reach = thickness / 2
        while true {
            fill(x: x0 - reach, y: y0 - reach, width: thickness, height: thickness, colour: colour)
            if x0 == x1 && y0 == y1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x0 += sx }
            if doubled <= dx { error += dx; y0 += sy }
        }
    }

    /// Text in `PixelFont` at `scale`; x is its left edge, or its right edge with `alignRight`.
    mutating func text(_ string: String, x: Int, y: Int, colour: Colour, scale: Int = 2, alignRight: Bool = false) {
        let glyphs = string.uppercased().map { PixelFont.glyph($0) }
        let advance = (PixelFont.width + 1) * scale
        var left = alignRight ? x - glyphs.count * advance : x
        for glyph in glyphs {
            for (row, bits) in glyph.enumerated() {
                for column in 0..<PixelFont.width where bits & (1 << (PixelFont.width - 1 - column)) != 0 {
                    fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, colour: colour)
                }
            }
            left += advance
        }
    }
}
