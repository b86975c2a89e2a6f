import Foundation

/// A code layer over 100 MB usually means data, checkpoints or build outputs went in by mistake;
/// every push and every pod start then moves them. Says which top-level entries weigh the most.
enum CodeLayerSize {
    static let warningThreshold: Int64 = 100_000_000

    /// A warning when the files under `workdir` (an image path without leading "/") add up to
    /// more than the threshold, naming the five largest top-level entries.
    static func warning(for entries: [LayerEntry], workdir: String) -> String? {
        var totals: [String: Int64] = [:]
        var isDirectory: Set<String> = []
        var sum: Int64 = 0
        for entry in entries {
            let size: Int64
            switch entry.content {
            case let .file(_, fileSize): size = fileSize
            case let .bytes(bytes): size = Int64(bytes.count)
            default: continue
            }
            var relative = Substring(entry.path)
            if !workdir.isEmpty, relative.hasPrefix(workdir + "/") { relative = relative.dropFirst(workdir.count + 1) }
            let components = relative.split(separator: "/", maxSplits: 1)
            guard let top = components.first.map(String.init) else { continue }
            if components.count > 1 { isDirectory.insert(top) }
            totals[top, default: 0] += size
            sum += size
        }
        guard sum > warningThreshold else { return nil }
        let largest = totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
        let listed = largest.map { "\($0.key)\(isDirectory.contains($0.key) ? "/" : "") (\(describe($0.value)))" }
        return "the code layer holds \(describe(sum)) of files, more than \(describe(warningThreshold)); largest: "
            + listed.joined(separator: ", ") + ". Leave data, checkpoints and outputs out with .fairignore"
    }

    /// Decimal units, as `fair build` prints layer sizes.
    static func describe(_ bytes: Int64) -> String {
        let units = ["kB", "MB", "GB", "TB"]
        guard bytes >= 1000 else { return "\(bytes) B" }
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        // Whole numbers from 10 up: "110 MB" says enough; "1.5 kB" needs its decimal.
        if value >= 10 || value == value.rounded() { return "\(Int(value.rounded())) \(units[unit])" }
        return String(format: "%.1f %@", value, units[unit])
    }
}
