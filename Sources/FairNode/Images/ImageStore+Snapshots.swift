import FairArchive
import FairKube
import FairOCI
import FairRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Images assembled from layer snapshots: `images/<digest>/` holds the image's config and
/// manifest, `snapshots.json` (its layers' snapshot ids, bottom first), `top/` (the mount points
/// runc needs, made in a writable overlay of the layers, so an image's link in the way is seen
/// as it would be in a whole unpack) and `rootfs/`, where the stack is mounted read-only.
extension ImageStore {
    static let snapshotList = "snapshots.json"

    func assemble(_ pulled: ImagePuller.Pulled, layers: [Digest: String], reference: String,
                  snapshots: LayerSnapshots) throws -> PreparedImage {
        let digest = pulled.manifestDigest
        let count = pulled.manifest.layers.count
        let ids = try snapshots.prepare(pulled.manifest.layers.map(\.digest), paths: layers, budget: try unpackBudget(reference: reference)) {
            index, error in
            ImageError(.pull, reference: reference, detail: "layer \(index + 1) of \(count) (\(pulled.manifest.layers[index].digest)): \(error)")
        }
        let staging = "\(imagesDirectory)/\(Self.stagingPrefix)\(digest.encoded.prefix(16))-\(UUID().uuidString)"
        TemporaryFiles.register(staging)
        defer {
            TemporaryFiles.unregister(staging)
            if FileManager.default.fileExists(atPath: staging) { try? FileManager.default.removeItem(atPath: staging) }
        }
        let failed = { (detail: String) in ImageError(.pull, reference: reference, detail: detail) }
        do {
            let (top, work, merged) = ("\(staging)/top", "\(staging)/work", "\(staging)/merged")
            for made in [top, work, merged, "\(staging)/rootfs"] {
                try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            try OverlayMount.mountWritable(lower: ids.reversed().map(snapshots.filesystem(of:)), upper: top, work: work, at: merged)
            defer { OverlayMount.unmount(merged) }
            try RuntimeMountPoints.create(in: merged)
        } catch {
            throw failed("cannot prepare the image's mount points: \(error)")
        }
        // An empty work directory for the image's own mount.
        try? FileManager.default.removeItem(atPath: "\(staging)/work")
        try? FileManager.default.removeItem(atPath: "\(staging)/merged")
        try FileManager.default.createDirectory(atPath: "\(staging)/work", withIntermediateDirectories: true)
        try AtomicFile.write(to: "\(staging)/config.json", bytes: pulled.configBytes)
        try AtomicFile.write(to: "\(staging)/manifest.json", bytes: pulled.manifestBytes)
        try AtomicFile.write(to: "\(staging)/\(Self.snapshotList)", bytes: Array(JSONCoding.encode(.array(ids.map { .string($0) }))))
        try FilesystemFlush.flush(staging)

        let final = imageDirectory(digest)
        if rename(staging, final) != 0 {
            let code = errno
            guard code == EEXIST || code == ENOTEMPTY, let image = unpacked(digest, reference: reference) else {
                throw failed("cannot move the assembled image into \(final): \(String(cString: strerror(code)))")
            }
            return image
        }
        do {
            try mountLocks.withLock(digest.description) { try mountRootfs(final) }
        } catch {
            throw failed("cannot mount the assembled image at \(final): \(error)")
        }
        guard let image = unpacked(digest, reference: reference) else {
            throw failed("the assembled image at \(final) cannot be read back")
        }
        return image
    }

    /// Mounts an assembled image's root filesystem unless it is mounted already.
    func mountRootfs(_ directory: String) throws {
        let rootfs = "\(directory)/rootfs"
        if OverlayMount.isMounted(rootfs) { return }
        guard let snapshots else { throw ImageSnapshotError(description: "\(directory) was assembled from snapshots, which this node does not use now") }
        let ids = try snapshotIDs(directory)
        for id in ids where !FileManager.default.fileExists(atPath: snapshots.filesystem(of: id)) {
            throw ImageSnapshotError(description: "snapshot \(id) of \(directory) is missing")
        }
        try OverlayMount.mountWritable(lower: ids.reversed().map(snapshots.filesystem(of:)), upper: "\(directory)/top",
                                       work: "\(directory)/work", at: rootfs)
    }

    func snapshotIDs(_ directory: String) throws -> [String] {
        guard let bytes = FileManager.default.contents(atPath: "\(directory)/\(Self.snapshotList)"),
              let ids = try? JSONCoding.decode(Array(bytes)).arrayValue?.compactMap(\.stringValue) else {
            throw ImageSnapshotError(description: "\(directory)/\(Self.snapshotList) is unreadable")
        }
        return ids
    }

    // MARK: - Garbage collection

    /// Image garbage collection, as kubelet's: when the disk holding the node's data is fuller
    /// than `highPercent`, the images no container uses go, least recently used first, until it
    /// is below `lowPercent`; then every snapshot no image uses goes. `inUse` holds the manifest
    /// digests (`sha256:…`) of the node's containers; those images and their snapshots stay,
    /// whatever the disk says. Returns what was removed.
    @discardableResult
    public func collectGarbage(inUse: Set<String>, highPercent: Double = 85, lowPercent: Double = 80, minimumAge: TimeInterval = 0,
                               usedPercent: () -> Double? = { nil }) -> (images: [String], snapshots: [String]) {
        func measure() -> Double { usedPercent() ?? Self.usedPercent(of: imagesDirectory) }
        var removedImages: [String] = []
        if measure() > highPercent {
            let youngest = Date().addingTimeInterval(-minimumAge)
            for (digest, used) in imagesByLastUse() where !inUse.contains(digest) && used <= youngest {
                if measure() <= lowPercent { break }
                removeImage(digest)
                removedImages.append(digest)
            }
        }
        var removedSnapshots: [String] = []
        if let snapshots {
            var kept = Set<String>()
            for name in (try? FileManager.default.contentsOfDirectory(atPath: imagesDirectory)) ?? [] where name.hasPrefix("sha256:") {
                if let ids = try? snapshotIDs("\(imagesDirectory)/\(name)") { kept.formUnion(ids) }
            }
            // A snapshot made in the last `minimumAge` may belong to an image still being
            // assembled, not yet listed in images/: it stays until the next collection.
            let youngest = Date().addingTimeInterval(-minimumAge)
            for id in snapshots.all() where !kept.contains(id) && snapshots.created(id).map({ $0 <= youngest }) ?? true {
                snapshots.remove(id)
                removedSnapshots.append(id)
            }
        }
        return (removedImages, removedSnapshots)
    }

    /// Removes one image: its mount (lazily, so nothing running loses its view), its directory
    /// and the references that named it.
    public func removeImage(_ digest: String) {
        let directory = "\(imagesDirectory)/\(digest)"
        mountLocks.withLock(digest) {
            OverlayMount.unmount("\(directory)/rootfs")
            let doomed = "\(imagesDirectory)/\(Self.stagingPrefix)gone-\(UUID().uuidString)"
            if rename(directory, doomed) == 0 { try? FileManager.default.removeItem(atPath: doomed) }
        }
    }

    /// Images with the time they were last used (their rootfs' access stamp: touched on each
    /// prepare), least recent first.
    func imagesByLastUse() -> [(String, Date)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: imagesDirectory)) ?? []).filter { $0.hasPrefix("sha256:") }
        return names.map { name -> (String, Date) in
            let stamp = (try? FileManager.default.attributesOfItem(atPath: "\(imagesDirectory)/\(name)/\(Self.lastUsedStamp)"))?[.modificationDate] as? Date
            return (name, stamp ?? .distantPast)
        }.sorted { $0.1 < $1.1 }
    }

    static let lastUsedStamp = "last-used"

    /// Marks an image as used now (for the least-recently-used order of garbage collection).
    func stampUse(_ directory: String) {
        let path = "\(directory)/\(Self.lastUsedStamp)"
        if utimensat(AT_FDCWD, path, nil, 0) != 0 {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
    }

    static func usedPercent(of path: String) -> Double {
        var info = statvfs()
        guard statvfs(path, &info) == 0, info.f_blocks > 0 else { return 0 }
        return 100 * (1 - Double(info.f_bavail) / Double(info.f_blocks))
    }
}
