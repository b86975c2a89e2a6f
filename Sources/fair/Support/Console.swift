import Foundation

/// Where fair talks to people: progress and warnings go to standard error, results to standard
/// output, so `DIGEST=$(fair build …)` and `fair build --output-format json | jq` both work.
enum Console {
    /// A live display at the bottom of the terminal (transfer bars), which other lines must go
    /// above instead of being drawn over.
    nonisolated(unsafe) static var liveArea: TransferDisplay? {
        get { liveAreaLock.lock(); defer { liveAreaLock.unlock() }; return currentLiveArea }
        set { liveAreaLock.lock(); currentLiveArea = newValue; liveAreaLock.unlock() }
    }
    nonisolated(unsafe) private static var currentLiveArea: TransferDisplay?
    private static let liveAreaLock = NSLock()

    static func progress(_ message: String) {
        if let area = liveArea { area.printAbove(message) } else { write(message) }
    }

    static func warning(_ message: String) {
        progress("warning: " + message)
    }

    static func error(_ message: String) {
        progress("error: " + message)
    }

    /// A line to standard error, as it is.
    static func write(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func result(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Rows as aligned columns (three spaces apart, the last column unpadded), as kubectl prints tables.
    static func columns(_ rows: [[String]]) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
            }.joined()
        }
    }

    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
