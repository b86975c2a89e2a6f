import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Walks a root filesystem for packing into a base layer. Unlike a build context, ownership and
/// permission bits (setuid included) are kept as they are, and hard links stay hard links so the
/// layer holds each file's bytes once. Device nodes, sockets and fifos are left out: a runtime
/// provides /dev.
struct RootfsWalker {
    let root: String

    func walk() throws -> [LayerEntry] {
        var entries: [LayerEntry] = []
        var firstPathOfInode: [String: String] = [:]
        try walk("", &entries, &firstPathOfInode)
        return entries
    }

    private func walk(_ directory: String, _ entries: inout [LayerEntry], _ inodes: inout [String: String]) throws {
        let absoluteDirectory = directory.isEmpty ? root : "\(root)/\(directory)"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: absoluteDirectory) else {
            throw BuildError.unreadable(path: absoluteDirectory, reason: "cannot list directory")
        }
        for name in names.sorted() {
            let relative = directory.isEmpty ? name : "\(directory)/\(name)"
            let absolute = "\(root)/\(relative)"
            var info = stat()
            guard lstat(absolute, &info) == 0 else {
                throw BuildError.unreadable(path: absolute, reason: String(cString: strerror(errno)))
            }
            let mode = UInt32(info.st_mode) & 0o7777
            let uid = Int64(info.st_uid), gid = Int64(info.st_gid)
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                entries.append(LayerEntry(path: relative, content: .directory, mode: mode, uid: uid, gid: gid))
                try walk(relative, &entries, &inodes)
            case S_IFREG:
                let inode = "\(info.st_dev):\(info.st_ino)"
                if info.st_nlink > 1, let first = inodes[inode] {
                    entries.append(LayerEntry(path: relative, content: .hardlink(target: first), mode: mode, uid: uid, gid: gid))
                } else {
                    if info.st_nlink > 1 { inodes[inode] = relative }
                    entries.append(LayerEntry(path: relative, content: .file(sourcePath: absolute, size: Int64(info.st_size)), mode: mode, uid: uid, gid: gid))
                }
            case S_IFLNK:
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: absolute)
                entries.append(LayerEntry(path: relative, content: .symlink(target: target), mode: 0o777, uid: uid, gid: gid))
            default:
                continue
            }
        }
    }
}
