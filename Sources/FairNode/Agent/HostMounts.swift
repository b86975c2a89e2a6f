import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The agent's own bind mounts under a pod's directory (staged subPaths). A recursive delete
/// of that directory while one is live would delete the files it shows, inside the volume or on
/// the host, so they are unmounted first, deepest first, and a directory that still has one is
/// never deleted.
enum HostMounts {
    /// Mount points at or below `directory`, from /proc/self/mountinfo.
    static func mountPoints(under directory: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        // mountinfo names resolved paths.
        let resolved = realpath(directory, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? directory
        let prefix = resolved.hasSuffix("/") ? resolved : resolved + "/"
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = unescape(String(fields[4]))
            return point == resolved || point.hasPrefix(prefix) ? point : nil
        }
    }

    /// Unmounts everything at or below `directory`; returns the mount points that stayed.
    @discardableResult
    static func unmountAll(under directory: String) -> [String] {
        for _ in 0..<3 {
            let points = mountPoints(under: directory).sorted { $0.count > $1.count }
            if points.isEmpty { return [] }
            for point in points { unmount(point) }
        }
        return mountPoints(under: directory)
    }

    /// Detaches whatever is mounted at `path`; nothing mounted there is fine.
    static func unmount(_ path: String) {
        if umount2(path, 0) != 0 && errno != EINVAL && errno != ENOENT {
            umount2(path, Int32(MNT_DETACH))
        }
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (\040).
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
               let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
