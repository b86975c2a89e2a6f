/// A file to put in a layer: where it goes in the image and where its bytes come from.
public struct LayerEntry: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case file(sourcePath: String, size: Int64)
        case bytes([UInt8])
        case directory
        case symlink(target: String)
        /// A hard link to another path of the same layer (kept so a rootfs is not doubled in size).
        case hardlink(target: String)
    }

    /// Path inside the image, relative to `/`, without a leading or trailing slash.
    public var path: String
    public var content: Content
    public var mode: UInt32
    public var uid: Int64
    public var gid: Int64

    public init(path: String, content: Content, mode: UInt32, uid: Int64 = 0, gid: Int64 = 0) {
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }

    /// The normalised mode fair gives project files: directories 0755, files 0755 when any
    /// execute bit is set and 0644 otherwise, symlinks 0777.
    public static func normalisedMode(for content: Content, sourceMode: UInt32) -> UInt32 {
        switch content {
        case .directory: return 0o755
        case .symlink: return 0o777
        case .file, .bytes, .hardlink: return sourceMode & 0o111 != 0 ? 0o755 : 0o644
        }
    }
}
