#if canImport(Glibc)
import Glibc
#endif

/// File-type bits of `st_mode` (S_IFMT values); `FileType` has only the three tar writes.
enum InodeKind {
    static let mask: UInt32 = 0o170000
    static let fifo: UInt32 = 0o010000
    static let characterDevice: UInt32 = 0o020000
    static let directory: UInt32 = 0o040000
    static let blockDevice: UInt32 = 0o060000
    static let regular: UInt32 = 0o100000
    static let symlink: UInt32 = 0o120000
    static let socket: UInt32 = 0o140000

    static func of(_ status: stat) -> UInt32 { status.st_mode & mask }
    static func isDirectory(_ status: stat) -> Bool { of(status) == directory }
}

/// A file's identity on this machine: device and inode number.
struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}

enum FileStatus {
    /// fstat(2) of an open descriptor (O_PATH ones included); `path` names it in errors.
    static func of(_ descriptor: Int32, path: String) throws -> stat {
        var status = stat()
        if fstat(descriptor, &status) != 0 {
            throw ArchiveError.io(path: path, operation: "inspect", errno: errno)
        }
        return status
    }

    /// fstatat(2) of `name` in `directory`, never following a symbolic link; nil if nothing is there.
    static func at(_ directory: Int32, _ name: [UInt8], path: String) throws -> stat? {
        var status = stat()
        let result = withCName(name) { fstatat(directory, $0, &status, AT_SYMLINK_NOFOLLOW) }
        if result != 0 {
            if errno == ENOENT { return nil }
            throw ArchiveError.io(path: path, operation: "inspect", errno: errno)
        }
        return status
    }
}
