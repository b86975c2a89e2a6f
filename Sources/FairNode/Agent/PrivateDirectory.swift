import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A directory only the node's own user may enter (0700): the node's data, whose pod logs,
/// Secrets and unpacked images (setuid binaries included) are not for other local users.
/// An existing directory is tightened too, so a data directory made by an older version is
/// fixed on the next start.
enum PrivateDirectory {
    static let mode: mode_t = 0o700
    /// Files the node writes for itself: pod state, logs.
    static let fileMode: mode_t = 0o600

    static func ensure(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw PrivateDirectoryError(path: path, detail: error.localizedDescription)
        }
        guard chmod(path, mode) == 0 else {
            throw PrivateDirectoryError(path: path, detail: "chmod 0700: \(String(cString: strerror(errno)))")
        }
    }
}

struct PrivateDirectoryError: Error, CustomStringConvertible {
    let path: String
    let detail: String
    var description: String { "cannot make \(path) a private (0700) directory of the node: \(detail)" }
}
