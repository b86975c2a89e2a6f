#if canImport(Glibc)
import Glibc
#endif

/// Removes files and whole trees relative to directory descriptors, never following a symbolic
/// link: a link is unlinked itself, and directories are entered with O_NOFOLLOW | O_DIRECTORY, so
/// a link planted inside a tree cannot lead the removal anywhere else.
enum TreeRemoval {
    /// Trees deeper than this are refused rather than risk the stack: a layer can build a chain of
    /// directories far deeper than any real image has.
    static let maximumDepth = 1024

    /// The names in `directory` (any descriptor of it, O_PATH included), without `.` and `..`.
    static func names(in directory: Int32, path: String) throws -> [[UInt8]] {
        let descriptor = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { throw ArchiveError.io(path: path, operation: "open directory", errno: errno) }
        guard let stream = fdopendir(descriptor) else {
            let code = errno
            close(descriptor)
            throw ArchiveError.io(path: path, operation: "open directory", errno: code)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw ArchiveError.io(path: path, operation: "list directory", errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == EntryPath.dot || name == EntryPath.dotDot { continue }
            names.append(name)
        }
        return names
    }

    /// Removes `name` from `directory`, with everything below it if it is a directory. Nothing
    /// there is not an error.
    static func remove(_ name: [UInt8], in directory: Int32, path: String, depth: Int = 0) throws {
        if depth > maximumDepth {
            throw ArchiveError.unsafeEntry(path: path, reason: "removes a tree more than \(maximumDepth) directories deep")
        }
        guard let status = try FileStatus.at(directory, name, path: path) else { return }
        if InodeKind.isDirectory(status) {
            let child = withCName(name) {
                openat(directory, $0, LinuxOpenFlag.path | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if child < 0 { throw ArchiveError.io(path: path, operation: "open directory", errno: errno) }
            let handle = OwnedDescriptor(child)
            for inner in try names(in: handle.raw, path: path) {
                try remove(inner, in: handle.raw, path: path, depth: depth + 1)
            }
            if withCName(name, { unlinkat(directory, $0, AT_REMOVEDIR) }) != 0 && errno != ENOENT {
                throw ArchiveError.io(path: path, operation: "remove directory", errno: errno)
            }
        } else if withCName(name, { unlinkat(directory, $0, 0) }) != 0 && errno != ENOENT {
            throw ArchiveError.io(path: path, operation: "remove", errno: errno)
        }
    }
}
