import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Walks a build context the way `docker build` does with a .dockerignore: ignored files are left
/// out, ignored directories are not even entered unless a `!` rule may re-include something below.
/// Symlinks stay symlinks; sockets, fifos and devices are skipped with a warning; a file that cannot
/// be read stops the build (a silently missing file would be a broken image).
public struct ContextWalker {
    public struct Entry: Sendable, Equatable {
        /// Path relative to the context root, '/'-separated.
        public var relativePath: String
        public var content: LayerEntry.Content
        public var sourceMode: UInt32
    }

    public let root: String
    public let rules: IgnoreRules
    /// Absolute paths never to include (e.g. the archive being written into the context).
    public let excludedAbsolutePaths: Set<String>
    /// Leave out directories holding a `pyvenv.cfg` unless the rules re-include them with `!`.
    public let skipsVirtualenvs: Bool
    public private(set) var warnings: [String] = []

    public init(root: String, rules: IgnoreRules, excludedAbsolutePaths: Set<String> = [], skipsVirtualenvs: Bool = false) {
        self.root = root
        self.rules = rules
        self.excludedAbsolutePaths = excludedAbsolutePaths
        self.skipsVirtualenvs = skipsVirtualenvs
    }

    public mutating func walk() throws -> [Entry] {
        var entries: [Entry] = []
        try walk(directory: "", rules: rules, into: &entries)
        return entries.sorted { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
    }

    private mutating func walk(directory: String, rules: IgnoreRules, into entries: inout [Entry]) throws {
        let absoluteDirectory = directory.isEmpty ? root : "\(root)/\(directory)"
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: absoluteDirectory)
        } catch {
            throw BuildError.unreadable(path: absoluteDirectory, reason: "cannot list directory (permission denied?)")
        }
        for name in names.sorted() {
            let relative = directory.isEmpty ? name : "\(directory)/\(name)"
            let absolute = "\(root)/\(relative)"
            if excludedAbsolutePaths.contains(absolute) { continue }
            var info = stat()
            guard lstat(absolute, &info) == 0 else {
                throw BuildError.unreadable(path: absolute, reason: String(cString: strerror(errno)))
            }
            var rules = rules
            var excluded = rules.isExcluded(relative)
            if !excluded, skipsVirtualenvs, info.st_mode & S_IFMT == S_IFDIR,
               FileManager.default.fileExists(atPath: "\(absolute)/\(DefaultIgnores.virtualenvMarker)") {
                rules = rules.excludingFirst(relative)
                excluded = rules.isExcluded(relative)
            }
            let permissions = UInt32(info.st_mode) & 0o7777
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if excluded && !rules.mayReincludeBelow(relative) { continue }
                if !excluded {
                    entries.append(Entry(relativePath: relative, content: .directory, sourceMode: permissions))
                }
                try walk(directory: relative, rules: rules, into: &entries)
            case S_IFREG:
                if excluded { continue }
                guard access(absolute, R_OK) == 0 else {
                    throw BuildError.unreadable(path: absolute, reason: "permission denied")
                }
                entries.append(Entry(relativePath: relative, content: .file(sourcePath: absolute, size: Int64(info.st_size)), sourceMode: permissions))
            case S_IFLNK:
                if excluded { continue }
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: absolute)
                entries.append(Entry(relativePath: relative, content: .symlink(target: target), sourceMode: 0o777))
            default:
                if !excluded { warnings.append("skipping \(relative): not a regular file, directory or symlink") }
            }
        }
    }
}
