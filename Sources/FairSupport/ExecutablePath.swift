import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a system command is: on PATH, else in the sbin directories that a user's (or a
/// non-login root shell's) PATH often lacks, where Debian puts dnsmasq and nft.
public enum ExecutablePath {
    public static func find(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        let directories = (path ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        for directory in directories where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
