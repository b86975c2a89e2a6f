import FairArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The regular files of a local directory that `fair data push` sends, by relative path, and
/// what it leaves out (symbolic links and special files: a claim gets what the files hold, never
/// what a link points at). A single file is a tree of one, named by its own name.
public struct LocalTree: Sendable {
    public struct File: Sendable, Equatable {
        /// Relative to the tree's root, segments joined by `/`.
        public var path: String
        public var absolutePath: String
        public var size: Int64
    }

    public var files: [File]
    public var skipped: [(path: String, why: String)]

    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    public static func walk(_ root: String) throws -> LocalTree {
        var info = stat()
        guard stat(root, &info) == 0 else { throw ArchiveError.io(path: root, operation: "read", errno: errno) }
        var tree = LocalTree(files: [], skipped: [])
        if (info.st_mode & S_IFMT) == S_IFREG {
            let name = URL(fileURLWithPath: root).lastPathComponent
            tree.files = [File(path: name, absolutePath: root, size: Int64(info.st_size))]
            return tree
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw DataTransferError.localConflict(path: root, problem: "is neither a directory nor a regular file")
        }
        try tree.add(directory: root, relative: "")
        tree.files.sort { $0.path < $1.path }
        return tree
    }

    private mutating func add(directory: String, relative: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw DataTransferError.localConflict(path: directory, problem: "cannot be listed (\(error.localizedDescription))")
        }
        for name in names {
            let path = "\(directory)/\(name)"
            let rel = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0 else { throw ArchiveError.io(path: path, operation: "stat", errno: errno) }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: try add(directory: path, relative: rel)
            case S_IFREG: files.append(File(path: rel, absolutePath: path, size: Int64(info.st_size)))
            case S_IFLNK: skipped.append((rel, "a symbolic link"))
            default: skipped.append((rel, "not a regular file"))
            }
        }
    }
}
