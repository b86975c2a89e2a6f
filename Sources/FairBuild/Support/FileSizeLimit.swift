import Foundation

/// The most fair reads of the files it loads whole, checked before reading: a mistaken path to
/// a multi-gigabyte file must be an error, not a process that fills the machine's memory.
public enum FileSizeLimit {
    /// fair.yaml: a few hundred bytes in practice.
    public static let projectConfig: Int64 = 1 << 20
    /// .fairignore.
    public static let ignoreFile: Int64 = 1 << 20
    /// requirements.txt, read to check its options (hash-pinned files are large, never this large).
    public static let requirements: Int64 = 4 << 20
    /// A notebook is read and parsed whole; embedded outputs (plots) make them large, but rarely this large.
    public static let notebook: Int64 = 100 << 20

    /// Throws `BuildError.fileTooLarge` when `path` is larger than `limit`. A file that cannot be
    /// examined is left to the reader, which reports it in its own words.
    public static func check(_ path: String, limit: Int64, kind: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.int64Value else { return }
        if size > limit { throw BuildError.fileTooLarge(path: path, size: size, limit: limit, kind: kind) }
    }

    /// "1 MiB", "229.0 MiB", "512 bytes".
    public static func describe(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) bytes" }
        var value = Double(bytes)
        var unit = -1
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return value == value.rounded() ? "\(Int(value)) \(units[unit])" : String(format: "%.1f %@", value, units[unit])
    }
}
