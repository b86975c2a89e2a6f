import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that fair.yaml names (entrypoint, requirements) must be inside the project: the image
/// holds the project, never a file that `../`, an absolute path or a symlink reaches elsewhere on
/// the build machine.
public enum ProjectPath {
    /// The real path of `path` (relative to `project`), or `BuildError.outsideProject` naming
    /// `field` when it resolves outside. A path that does not exist is checked as written, and
    /// the caller reports it missing.
    public static func resolve(_ path: String, in project: String, field: String) throws -> String {
        let root = realPath(project) ?? project
        let absolute = path.hasPrefix("/") ? path : "\(root)/\(path)"
        let lexical = URL(fileURLWithPath: absolute).standardizedFileURL.path
        let resolved = realPath(lexical) ?? lexical
        guard isInside(resolved, root) else {
            throw BuildError.outsideProject(field: field, path: path, resolved: resolved, project: root)
        }
        return resolved
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// realpath(3): absolute, every symlink resolved; nil when the path does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
