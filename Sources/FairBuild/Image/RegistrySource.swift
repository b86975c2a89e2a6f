import FairArchive
import FairOCI
import FairRegistry

/// A base image in a registry. Building only needs its manifest and config; layers are fetched
/// (into the shared content store, verified) only when an output must contain them. Pushed back to
/// the same registry, they are HEAD-checked or mounted and never downloaded.
public final class RegistrySource: ImageSource {
    public let reference: String
    private let registryReference: RegistryReference
    private let puller: ImagePuller

    public init(reference: RegistryReference, puller: ImagePuller) {
        self.reference = reference.description
        self.registryReference = reference
        self.puller = puller
    }

    public func resolve(platform: Platform) throws -> ResolvedImage? {
        let pulled = try puller.resolve(registryReference, platform: platform)
        return ResolvedImage(manifestDigest: pulled.manifestDigest, manifest: pulled.manifest, config: pulled.config,
                             reference: registryReference.withDigest(pulled.manifestDigest.description).description)
    }

    public func layerContent(_ layer: Descriptor) -> BlobContent {
        let client = puller.client
        let store = puller.store
        let repository = registryReference.repository
        return .remote(RemoteBlob(host: client.host, repository: repository) { sink in
            let path = try client.downloadBlob(repository, digest: layer.digest, into: store)
            try ReadableFile(path: path).copy(to: sink)
        })
    }
}
