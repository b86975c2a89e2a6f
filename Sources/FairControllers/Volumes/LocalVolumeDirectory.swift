import Foundation

/// Where the `local` provisioner keeps volumes: one directory per volume under a root of the
/// server's data directory. Directories are world-writable (as local-path provisioners make
/// them), so a pod running as any user can write its claim; the root above stays the server's.
struct LocalVolumeDirectory: Sendable {
    let root: String

    func path(for volumeName: String) -> String { "\(root)/\(volumeName)" }

    func make(_ volumeName: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let path = path(for: volumeName)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o777)
    }

    /// Removes a volume's directory, only when `path` is one of ours (a PersistentVolume's
    /// path is user data; nothing outside the root is ever removed).
    func remove(path: String) throws -> Bool {
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        guard standardized.hasPrefix(root + "/"), !standardized.dropFirst(root.count + 1).contains("/") else { return false }
        if FileManager.default.fileExists(atPath: standardized) { try FileManager.default.removeItem(atPath: standardized) }
        return true
    }
}
