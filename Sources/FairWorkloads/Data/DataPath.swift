import Foundation

/// A file's path relative to the directory being copied, as `fair data` and the data pod name
/// files to each other: segments joined by `/`, none of them empty, `.` or `..`. Paths from the
/// pod are checked as strictly as paths going to it: the claim may hold anything, and a name
/// that climbs out of the local directory must never be written.
public enum DataPath {
    /// Why `path` is not a plain relative path; nil when it is one.
    public static func problem(_ path: String) -> String? {
        if path.isEmpty { return "the path is empty" }
        if path.hasPrefix("/") { return "\(path) is absolute" }
        if path.contains("\0") { return "\(path) has a NUL byte" }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) where segment.isEmpty || segment == "." || segment == ".." {
            return "\(path) is not a plain relative path (it has an empty, '.' or '..' segment)"
        }
        return nil
    }

    /// `path` percent-encoded for a URL: each segment's UTF-8 bytes, unreserved characters as
    /// they are, the `/` between segments kept.
    public static func encoded(_ path: String) -> String {
        var result = ""
        result.reserveCapacity(path.utf8.count)
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}
