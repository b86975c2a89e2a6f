/// A metric's course in one line of block characters, as terminal dashboards draw it: the values
/// (at most `width`, evenly picked from a longer series) scaled between their minimum and maximum.
public enum Sparkline {
    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    public static func render(_ values: [Double], width: Int = 32) -> String {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), width > 0 else { return "" }
        let picked = values.count <= width ? values : (0..<width).map { values[$0 * (values.count - 1) / max(width - 1, 1)] }
        return String(picked.map { value -> Character in
            guard value.isFinite else { return " " }
            guard high > low else { return levels[levels.count / 2] }
            let index = Int(((value - low) / (high - low) * Double(levels.count - 1)).rounded())
            return levels[min(max(index, 0), levels.count - 1)]
        })
    }
}
