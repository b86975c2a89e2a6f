import FairKube
import Foundation

/// A runtime whose images can be garbage-collected: it knows which images its containers use.
public protocol ImageGarbageCollecting: AnyObject, Sendable {
    func collectImageGarbage()
}

extension RuncRuntime: ImageGarbageCollecting {
    /// Kubelet's image GC with its default thresholds (85 % of the disk used starts it, 80 % ends
    /// it, images used in the last 2 minutes stay): images of every container this node still
    /// has, running or exited, are never removed, nor their snapshots.
    public func collectImageGarbage() {
        var inUse = Set<String>()
        for id in (try? containerIDs()) ?? [] {
            if let digest = imageDigest(ofContainer: id) { inUse.insert(digest) }
        }
        _ = images.collectGarbage(inUse: inUse, minimumAge: 120)
    }

    /// `sha256:…` of the image whose root filesystem the container's bundle names.
    func imageDigest(ofContainer id: String) -> String? {
        guard let directory = containerBundleDirectory(id),
              let bytes = FileManager.default.contents(atPath: "\(directory)/config.json"),
              let root = try? JSONCoding.decode(Array(bytes)).value(at: "root.path")?.stringValue else { return nil }
        let parts = root.split(separator: "/")
        return parts.dropLast().last.map(String.init).flatMap { $0.hasPrefix("sha256:") ? $0 : nil }
    }
}
