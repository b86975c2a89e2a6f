import FairArchive
import FairOCI
import FairSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Each image layer unpacked once, into a directory of its own, and shared by every image whose
/// layers up to it are the same, as containerd's overlayfs snapshotter does.
///
/// A snapshot is one layer applied on top of its parents: it is keyed by the chain of verified
/// blob digests from the bottom layer up to it (`chainKey`), since what a layer leaves (its
/// files, and whiteouts for what it removes) depends on what lies below. The bottom layer is
/// unpacked straight into its directory; every other one into the upper directory of a writable
/// overlay of its parents, so the kernel turns each removal into a whiteout and a hard link to a
/// lower file into a copy. Either way the layer goes through `LayerExtractor` with the same
/// hostile-layer rules as a whole-image unpack.
///
/// On disk, under `snapshots/`: `<id>/fs` (the layer's directory) and `<id>/key` (its chain
/// key), where `<id>` is 16 hex digits of the key's hash: short, since an overlay mount names
/// every directory in one page. A snapshot appears by one rename when complete.
final class LayerSnapshots: @unchecked Sendable {
    let directory: String
    private let locks = KeyedLock()
    static let stagingPrefix = ".new-"

    init(directory: String) throws {
        self.directory = directory
        try PrivateDirectory.ensure(directory)
        removeAbandoned()
    }

    /// The key of layer `index` of `layers` (bottom first).
    static func chainKey(_ layers: [Digest], upTo index: Int) -> String {
        layers[...index].map(\.description).joined(separator: " ")
    }

    static func id(of key: String) -> String {
        String(Digest.sha256(of: Array(key.utf8)).encoded.prefix(16))
    }

    func filesystem(of id: String) -> String { "\(directory)/\(id)/fs" }

    /// The snapshot ids of `layers` (bottom first), unpacking those this node does not have yet.
    /// `paths` holds each layer's verified blob; `budget` bounds what new snapshots may write.
    func prepare(_ layers: [Digest], paths: [Digest: String], budget: ExtractionBudget?,
                 describe: (Int, Error) -> Error) throws -> [String] {
        var ids: [String] = []
        for (index, layer) in layers.enumerated() {
            let key = Self.chainKey(layers, upTo: index)
            let id = Self.id(of: key)
            try locks.withLock(id) {
                if has(id, key: key) { return }
                guard let path = paths[layer] else {
                    throw describe(index, ImageSnapshotError(description: "layer \(layer) was not downloaded"))
                }
                do {
                    try create(id, key: key, layer: path, parents: ids, budget: budget)
                } catch {
                    throw describe(index, error)
                }
            }
            ids.append(id)
        }
        return ids
    }

    /// Whether snapshot `id` is here, complete, for `key` (a different key under the same id,
    /// which 64 bits make all but impossible, is treated as absent and refused on rename).
    func has(_ id: String, key: String) -> Bool {
        guard let stored = FileManager.default.contents(atPath: "\(directory)/\(id)/key") else { return false }
        return String(decoding: stored, as: UTF8.self) == key && FileManager.default.fileExists(atPath: filesystem(of: id))
    }

    /// Every complete snapshot's id.
    func all() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// When snapshot `id` was completed (its key file's time).
    func created(_ id: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(id)/key"))?[.modificationDate] as? Date
    }

    /// Removes snapshot `id` (the caller knows no image uses it).
    func remove(_ id: String) {
        locks.withLock(id) {
            let doomed = "\(directory)/\(Self.stagingPrefix)gone-\(id)-\(UUID().uuidString)"
            if rename("\(directory)/\(id)", doomed) == 0 { try? FileManager.default.removeItem(atPath: doomed) }
        }
    }

    private func create(_ id: String, key: String, layer path: String, parents: [String], budget: ExtractionBudget?) throws {
        let staging = "\(directory)/\(Self.stagingPrefix)\(id)-\(UUID().uuidString)"
        TemporaryFiles.register(staging)
        defer {
            TemporaryFiles.unregister(staging)
            if FileManager.default.fileExists(atPath: staging) { try? FileManager.default.removeItem(atPath: staging) }
        }
        let upper = "\(staging)/fs"
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var root = upper
        if !parents.isEmpty {
            let (work, merged) = ("\(staging)/work", "\(staging)/merged")
            for made in [work, merged] { try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true) }
            try OverlayMount.mountWritable(lower: parents.reversed().map(filesystem(of:)), upper: upper, work: work, at: merged)
            root = merged
        }
        do {
            var extractor = LayerExtractor(root: root, refusesAbsoluteLinks: true)
            extractor.budget = budget
            try extractor.apply(layerAt: path)
        } catch {
            if root != upper { OverlayMount.unmount(root) }
            throw error
        }
        if root != upper {
            OverlayMount.unmount(root)
            try? FileManager.default.removeItem(atPath: "\(staging)/work")
            try? FileManager.default.removeItem(atPath: root)
        }
        try AtomicFile.write(to: "\(staging)/key", bytes: Array(key.utf8))
        try FilesystemFlush.flush(staging)
        if rename(staging, "\(directory)/\(id)") != 0 {
            let code = errno
            guard (code == EEXIST || code == ENOTEMPTY) && has(id, key: key) else {
                throw ImageSnapshotError(description: "cannot move snapshot \(id) into place: \(String(cString: strerror(code)))")
            }
        }
    }

    /// Snapshots a crash left half made.
    private func removeAbandoned() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(Self.stagingPrefix) {
            let path = "\(directory)/\(name)"
            OverlayMount.unmount("\(path)/merged")
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

struct ImageSnapshotError: Error, CustomStringConvertible {
    var description: String
}
