import FairArchive
import FairOCI
import FairSupport
import Foundation

/// Pulls an image for one platform into the content store: the manifest (through an index when
/// the tag names several platforms), the config, and the layers in parallel, each verified.
public struct ImagePuller {
    public let client: RegistryClient
    public var jobs: Int
    public var store: BlobStore
    public var events: ((TransferEvent) -> Void)?

    public init(client: RegistryClient, jobs: Int = 4, store: BlobStore, events: ((TransferEvent) -> Void)? = nil) {
        self.client = client
        self.jobs = jobs
        self.store = store
        self.events = events
    }

    public struct Pulled: Sendable {
        public var reference: RegistryReference
        public var manifestBytes: [UInt8]
        public var manifestDigest: Digest
        public var manifestMediaType: String
        public var manifest: ImageManifest
        public var configBytes: [UInt8]
        public var config: ImageConfig
    }

    /// Resolves `reference` to one image manifest and its config (no layers).
    public func resolve(_ reference: RegistryReference, platform: Platform) throws -> Pulled {
        var fetched = try client.fetchManifest(reference.repository, reference: reference.manifestReference)
        if MediaType.isIndex(fetched.mediaType) {
            let index = try CanonicalJSON.decode(ImageIndex.self, from: fetched.bytes, source: "\(reference) index")
            let available = index.manifests.compactMap { $0.platform?.description }
            guard let match = index.manifests.first(where: {
                $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture
                    && (platform.variant == nil || $0.platform?.variant == platform.variant)
            }) else {
                throw RegistryError.notFound(what: "\(reference) for \(platform) (it has: \(available.joined(separator: ", ")))")
            }
            fetched = try client.fetchManifest(reference.repository, reference: match.digest.description)
        }
        guard MediaType.isManifest(fetched.mediaType) else {
            throw RegistryError.unsupported("\(reference) is a \(fetched.mediaType), not an image manifest")
        }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: fetched.bytes, source: "\(reference) manifest")
        let configBytes = try client.fetchSmallBlob(reference.repository, digest: manifest.config.digest)
        let config = try CanonicalJSON.decode(ImageConfig.self, from: configBytes, source: "\(reference) config")
        return Pulled(reference: reference, manifestBytes: fetched.bytes, manifestDigest: fetched.digest,
                      manifestMediaType: fetched.mediaType, manifest: manifest, configBytes: configBytes, config: config)
    }

    /// Downloads every layer the store lacks; returns each layer's path in the store.
    public func fetchLayers(_ pulled: Pulled) throws -> [Digest: String] {
        let lock = NSLock()
        var paths: [Digest: String] = [:]
        try forEachInParallel(pulled.manifest.layers, jobs: jobs) { layer in
            let event = { (kind: TransferEvent.Kind) in events?(TransferEvent(digest: layer.digest, size: layer.size, kind: kind)) }
            event(.started)
            let existed = store.existingPath(layer.digest) != nil
            let path = try client.downloadBlob(pulled.reference.repository, digest: layer.digest, into: store) { event(.progress(bytes: $0)) }
            BlobLocations(store: store).record(layer.digest, on: client.host, repository: pulled.reference.repository)
            event(existed ? .exists : .done)
            lock.lock()
            paths[layer.digest] = path
            lock.unlock()
        }
        return paths
    }

    /// The pulled image as something `OCIArchiveWriter`/`OCILayoutWriter` can write, tagged `tag`.
    public func imageToWrite(_ pulled: Pulled, layers: [Digest: String], tag: String) -> ImageToWrite {
        var blobs = [
            BlobToWrite(digest: pulled.manifestDigest, size: Int64(pulled.manifestBytes.count), content: .bytes(pulled.manifestBytes), verify: false),
            BlobToWrite(digest: pulled.manifest.config.digest, size: Int64(pulled.configBytes.count), content: .bytes(pulled.configBytes), verify: false),
        ]
        for layer in pulled.manifest.layers {
            blobs.append(BlobToWrite(digest: layer.digest, size: layer.size, content: .file(path: layers[layer.digest]!), verify: false))
        }
        let descriptor = Descriptor(mediaType: pulled.manifestMediaType, digest: pulled.manifestDigest,
                                    size: Int64(pulled.manifestBytes.count), annotations: [AnnotationKey.refName: tag])
        return ImageToWrite(manifest: descriptor, blobs: blobs)
    }
}
