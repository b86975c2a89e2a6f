import FairArchive
import FairOCI
import Foundation

/// Built layers kept by the hash of everything that went into them, so unchanged inputs are
/// never rebuilt. The index entry is written after the blob, each by rename: a reader sees a
/// complete entry pointing at a complete blob, or nothing.
public struct LayerCache {
    public let home: FairHome

    public init(home: FairHome) { self.home = home }

    private func indexPath(_ key: String) -> String { "\(home.layerCache)/\(key).json" }

    public func lookup(_ key: String) -> BuiltLayer? {
        guard let data = FileManager.default.contents(atPath: indexPath(key)),
              var layer = try? JSONDecoder().decode(BuiltLayer.self, from: data) else { return nil }
        let blob = home.blobPath(hex: layer.digest.encoded)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: blob),
              (attributes[.size] as? NSNumber)?.int64Value == layer.size else { return nil }
        layer.path = blob
        return layer
    }

    /// Moves a freshly built layer into the blob store and records it under `key`.
    public func store(_ layer: BuiltLayer, key: String) throws -> BuiltLayer {
        try FileManager.default.createDirectory(atPath: home.blobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home.layerCache, withIntermediateDirectories: true)
        let destination = home.blobPath(hex: layer.digest.encoded)
        if rename(layer.path, destination) != 0 {
            throw ArchiveError.io(path: destination, operation: "store layer in cache", errno: errno)
        }
        var stored = layer
        stored.path = destination
        try AtomicFile.write(to: indexPath(key), bytes: try CanonicalJSON.encode(stored))
        return stored
    }
}
