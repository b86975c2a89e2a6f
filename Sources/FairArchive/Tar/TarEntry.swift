/// One entry of a tar stream as fair writes it: everything that ends up in the header is here,
/// so whoever builds the entry decides (and can normalise) every byte of it.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A regular file whose contents are read from `sourcePath`, or written by the caller.
        case file(size: Int64)
        case directory
        case symlink(target: String)
        /// A hard link to an entry written earlier in the same archive.
        case hardlink(target: String)
        /// Anything else found when reading (devices, fifos, sockets), by its S_IFMT type bits.
        case other(fileType: UInt32)
    }

    public var path: String
    public var kind: Kind
    /// Permission bits only (e.g. 0o644); the file type comes from `kind`.
    public var mode: UInt32
    public var uid: Int64
    public var gid: Int64
    /// Seconds since the epoch; fair never writes sub-second times, atime or ctime.
    public var mtime: Int64

    public init(path: String, kind: Kind, mode: UInt32, uid: Int64 = 0, gid: Int64 = 0, mtime: Int64) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
    }

    public var isDirectory: Bool {
        if case .directory = kind { return true }
        return false
    }
}
