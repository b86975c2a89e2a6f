#if canImport(Glibc)
import Glibc
#endif

/// Errors from archiving, compression and file I/O, worded for the person running the build.
public enum ArchiveError: Error, CustomStringConvertible, Equatable {
    case io(path: String, operation: String, errno: Int32)
    case libarchive(operation: String, message: String)
    case compression(String)
    case unsafeEntry(path: String, reason: String)
    case notFound(path: String)

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            let reason = String(cString: strerror(code))
            if code == ENOSPC || code == EDQUOT {
                return "\(operation) \(path): no space left on device; free some space and try again"
            }
            return "\(operation) \(path): \(reason)"
        case let .libarchive(operation, message):
            return "\(operation): \(message)"
        case let .compression(message):
            return "compression: \(message)"
        case let .unsafeEntry(path, reason):
            return "refusing archive entry \(path): \(reason)"
        case let .notFound(path):
            return "\(path): not found"
        }
    }
}
