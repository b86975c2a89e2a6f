/// One image picked out of a source: its manifest (with digest) and its decoded config.
public struct ResolvedImage: Sendable {
    public var manifestDigest: Digest
    public var manifest: ImageManifest
    public var config: ImageConfig
    /// What the image was selected by, e.g. `oci-archive:base.tar:latest`, for labels and messages.
    public var reference: String
    /// The `org.opencontainers.image.ref.name` it carried in the source's index, if any.
    public var refName: String?

    public init(manifestDigest: Digest, manifest: ImageManifest, config: ImageConfig, reference: String, refName: String? = nil) {
        self.manifestDigest = manifestDigest
        self.manifest = manifest
        self.config = config
        self.reference = reference
        self.refName = refName
    }
}

extension BlobReader {
    /// Picks the image tagged `tag` (or the only image, when `tag` is nil) from the root index,
    /// descending into a nested index for `platform`.
    public func resolveImage(tag: String?, platform: Platform = .linuxAMD64) throws -> ResolvedImage {
        let index = try rootIndex()
        let descriptor: Descriptor
        let tags = index.manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
        if let tag {
            guard let match = index.manifests.first(where: { matches($0, tag: tag) }) else {
                throw OCIError.tagNotFound(source: sourceName, tag: tag, available: tags)
            }
            descriptor = match
        } else {
            guard let only = index.manifests.first else {
                throw OCIError.notAnImage(source: sourceName, reason: "index.json lists no manifests")
            }
            if index.manifests.count > 1 {
                throw OCIError.ambiguousImage(source: sourceName, tags: tags)
            }
            descriptor = only
        }
        let reference = tag.map { "\(sourceName):\($0)" } ?? sourceName
        var image = try resolve(descriptor, platform: platform, reference: reference, depth: 0)
        image.refName = descriptor.annotations?[AnnotationKey.refName]
        return image
    }

    private func matches(_ descriptor: Descriptor, tag: String) -> Bool {
        guard let name = descriptor.annotations?[AnnotationKey.refName] else { return false }
        return name == tag || name.hasSuffix(":" + tag)
    }

    private func resolve(_ descriptor: Descriptor, platform: Platform, reference: String, depth: Int) throws -> ResolvedImage {
        let bytes = try readSmallBlob(descriptor.digest)
        if MediaType.isIndex(descriptor.mediaType) {
            guard depth < 4 else {
                throw OCIError.notAnImage(source: sourceName, reason: "image indexes nested too deeply")
            }
            let index = try CanonicalJSON.decode(ImageIndex.self, from: bytes, source: "\(sourceName) index \(descriptor.digest)")
            let candidates = index.manifests.filter { MediaType.isManifest($0.mediaType) || MediaType.isIndex($0.mediaType) }
            guard let match = candidates.first(where: {
                $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture
                    && (platform.variant == nil || $0.platform?.variant == platform.variant)
            }) else {
                throw OCIError.platformNotFound(
                    source: sourceName, platform: platform.description,
                    available: candidates.compactMap { $0.platform?.description })
            }
            return try resolve(match, platform: platform, reference: reference, depth: depth + 1)
        }
        guard MediaType.isManifest(descriptor.mediaType) || descriptor.mediaType.isEmpty else {
            throw OCIError.notAnImage(source: sourceName, reason: "\(descriptor.digest) has media type \(descriptor.mediaType)")
        }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: bytes, source: "\(sourceName) manifest \(descriptor.digest)")
        let configBytes = try readSmallBlob(manifest.config.digest)
        let config = try CanonicalJSON.decode(ImageConfig.self, from: configBytes, source: "\(sourceName) config \(manifest.config.digest)")
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw OCIError.notAnImage(
                source: sourceName,
                reason: "config lists \(config.rootfs.diff_ids.count) diff_ids for \(manifest.layers.count) layers")
        }
        for layer in manifest.layers where !MediaType.layerTypes.contains(layer.mediaType) {
            throw OCIError.notAnImage(source: sourceName, reason: "unsupported layer media type \(layer.mediaType)")
        }
        return ResolvedImage(manifestDigest: descriptor.digest, manifest: manifest, config: config, reference: reference)
    }
}
