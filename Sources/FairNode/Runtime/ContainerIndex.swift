import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where each container's bundle is: the agent chooses bundle directories, and a restarted
/// runtime must find them from the id alone. One symbolic link per container, named by its id.
struct ContainerIndex {
    let directory: String

    func add(_ id: String, bundle: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let link = path(id)
        unlink(link)
        if symlink(bundle, link) != 0 {
            throw RuntimeError.io(path: link, operation: "record the bundle of", detail: String(cString: strerror(errno)))
        }
    }

    func bundle(for id: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path(id))
    }

    func remove(_ id: String) {
        unlink(path(id))
    }

    func ids() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { !$0.hasPrefix(".") } ?? []
    }

    private func path(_ id: String) -> String { "\(directory)/\(id)" }
}
