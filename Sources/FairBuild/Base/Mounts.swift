import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// debootstrap mounts /proc (and, in containers, binds device files) inside its target while it
/// works, and may leave them behind if it fails. Nothing under a root filesystem may be trimmed or
/// deleted while a mount is live there, so these are unmounted first, deepest first.
enum Mounts {
    /// Mount points at or below `directory`, from /proc/self/mountinfo.
    static func mountPoints(under directory: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            // mountinfo escapes spaces and similar as octal (\040).
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            return point == directory || point.hasPrefix(prefix) ? point : nil
        }
    }

    /// Unmounts everything under `directory`; returns the mount points that would not go away.
    @discardableResult
    static func unmountAll(under directory: String) -> [String] {
        for _ in 0..<3 {
            let points = mountPoints(under: directory).sorted { $0.count > $1.count }
            if points.isEmpty { return [] }
            for point in points where umount2(point, 0) != 0 {
                umount2(point, Int32(MNT_DETACH))
            }
        }
        return mountPoints(under: directory)
    }
}
