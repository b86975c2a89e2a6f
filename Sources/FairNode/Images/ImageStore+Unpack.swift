import FairArchive
import FairKube
import FairOCI
import FairRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// Applies the layers in order to a fresh directory next to the final one, adds the mount
    /// points runc needs, flushes it to disk and renames it into place. Until that rename nothing
    /// at `images/<digest>` exists, so a crash or a refused layer leaves no image that looks ready.
    func unpack(_ pulled: ImagePuller.Pulled, layers: [Digest: String], reference: String) throws -> PreparedImage {
        if let snapshots { return try assemble(pulled, layers: layers, reference: reference, snapshots: snapshots) }
        let digest = pulled.manifestDigest
        let staging = "\(imagesDirectory)/\(Self.stagingPrefix)\(digest.encoded.prefix(16))-\(UUID().uuidString)"
        let rootfs = "\(staging)/rootfs"
        TemporaryFiles.register(staging)
        defer {
            TemporaryFiles.unregister(staging)
            if FileManager.default.fileExists(atPath: staging) { try? FileManager.default.removeItem(atPath: staging) }
        }
        try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])

        let count = pulled.manifest.layers.count
        let budget = try unpackBudget(reference: reference)
        for (index, layer) in pulled.manifest.layers.enumerated() {
            guard let path = layers[layer.digest] else {
                throw ImageError(.pull, reference: reference, detail: "layer \(layer.digest) was not downloaded")
            }
            do {
                var extractor = LayerExtractor(root: rootfs, refusesAbsoluteLinks: true)
                extractor.budget = budget
                try extractor.apply(layerAt: path)
            } catch {
                throw ImageError(.pull, reference: reference,
                                 detail: "layer \(index + 1) of \(count) (\(layer.digest)): \(error)")
            }
        }
        try RuntimeMountPoints.create(in: rootfs)
        try AtomicFile.write(to: "\(staging)/config.json", bytes: pulled.configBytes)
        try AtomicFile.write(to: "\(staging)/manifest.json", bytes: pulled.manifestBytes)
        try FilesystemFlush.flush(staging)

        let final = imageDirectory(digest)
        if rename(staging, final) != 0 {
            let code = errno
            // Another process got there first with the same content: theirs is as good.
            guard code == EEXIST || code == ENOTEMPTY, let image = unpacked(digest, reference: reference) else {
                throw ImageError(.pull, reference: reference,
                                 detail: "cannot move the unpacked image into \(final): \(String(cString: strerror(code)))")
            }
            return image
        }
        guard let image = unpacked(digest, reference: reference) else {
            throw ImageError(.pull, reference: reference, detail: "the unpacked image at \(final) cannot be read back")
        }
        return image
    }

    /// What one image may unpack to: the node's limit per image, and never so much that the
    /// disk keeps less than `reservedFreeBytes` free (kubelet's image GC and eviction thresholds
    /// guard the same). An image that needs more fails its pull, naming the limit.
    func unpackBudget(reference: String) throws -> ExtractionBudget {
        var info = statvfs()
        guard statvfs(imagesDirectory, &info) == 0 else {
            return ExtractionBudget(bytes: maximumUnpackedBytes, name: "the node's limit per image")
        }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        let room = free - reservedFreeBytes
        guard room > 0 else {
            throw ImageError(.pull, reference: reference,
                             detail: "the node's disk has \(free / (1 << 20)) MiB free, less than the \(reservedFreeBytes / (1 << 20)) MiB it keeps free")
        }
        if room < maximumUnpackedBytes {
            return ExtractionBudget(bytes: room, name: "the node's free disk space less \(reservedFreeBytes / (1 << 20)) MiB kept free")
        }
        return ExtractionBudget(bytes: maximumUnpackedBytes, name: "the node's limit per image")
    }
}

/// syncfs(2): the files must be on disk before the rename that declares them complete.
enum FilesystemFlush {
    static func flush(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { throw ArchiveError.io(path: path, operation: "open", errno: errno) }
        defer { close(descriptor) }
        guard let syncfs = FilesystemSync.syncfs else {
            sync()
            return
        }
        if syncfs(descriptor) != 0 { throw ArchiveError.io(path: path, operation: "flush to disk", errno: errno) }
    }
}

/// glibc's syncfs, which Swift's Glibc overlay hides behind _GNU_SOURCE; looked up once.
private enum FilesystemSync {
    typealias Function = @convention(c) (Int32) -> Int32

    static let syncfs: Function? = {
        guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
}
