import FairBuild
import FairKube
import FairOCI
import FairRegistry
import Foundation

/// The image the data pod runs: `--image`, else the base image `fair build` builds on (FAIR_BASE,
/// the user's fair config, else the official Python image), which has python3 by construction.
/// Like a training image it goes to the cluster's registry first, so the nodes pull it from where
/// they pull everything fair pushes; it is sent once, and found there (by digest) after that.
enum DataPodImage {
    static let repository = "fair-base"

    static func resolve(_ options: DataOptions, client: KubeClient, talk: Bool) throws -> String {
        if let image = options.image { return image }
        let base = DefaultBase.choose()
        let reference = try ImageReference.parse(base.reference, relativeTo: FileManager.default.currentDirectoryPath)
        if case .scratch = reference {
            throw InputError(description: "the base image (\(base.origin)) is scratch, which has no python3 for the data pod; pass --image with an image that has python3")
        }
        let hosts: TargetRegistry.Hosts
        do {
            hosts = try TargetRegistry.resolve(flag: options.registry, project: nil, client: client)
        } catch let error as TargetRegistry.NotFound {
            // No registry of the cluster's: an image in a registry is pulled by the nodes themselves.
            if case .registry = reference { return base.reference }
            throw InputError(description: "\(error.description); or pass --image with an image that has python3")
        }
        if case let .registry(source) = reference, source.host == hosts.cluster { return base.reference }

        let registries = options.registryConnection.clients(jobs: options.jobs)
        let credentials = ClusterRegistryCredentials.forCluster(client, host: hosts.push)
        registries.fallbackCredentials = { host in host == hosts.push ? credentials : ClusterRegistryCredentials.lookup(host: host) }
        let (image, repository) = try imageToPush(reference, registries: registries)
        let digest = image.manifest.digest.description
        // Already there from an earlier transfer: nothing to send, nothing to show.
        if (try? registries.client(for: hosts.push).fetchManifest(repository, reference: digest)) != nil {
            return "\(hosts.cluster)/\(repository)@\(digest)"
        }
        if talk { Console.progress("pushing the data pod's image (\(base.reference)) to \(hosts.push)/\(repository)") }
        let display = TransferDisplay(verb: "pushing", quiet: !talk)
        do {
            _ = try registries.pusher(for: hosts.push, events: display.handle)
                .push(image, to: try RegistryReference(parsing: "\(hosts.push)/\(repository)@\(digest)"))
        } catch {
            display.finish()
            throw error
        }
        display.finish()
        return "\(hosts.cluster)/\(repository)@\(digest)"
    }

    /// Every blob of the base image, from a local archive or layout, or from its registry (layers
    /// are fetched only if the target registry lacks them), and the repository it goes to.
    private static func imageToPush(_ reference: ImageReference, registries: RegistryClients) throws -> (ImageToWrite, String) {
        switch reference {
        case .scratch:
            throw InputError(description: "scratch has no python3")
        case let .archive(path, tag):
            guard FileManager.default.fileExists(atPath: path) else {
                throw BuildError.invalidBase(reference: reference.description, reason: "\(path) does not exist (create a base with `fair base create --output \(path)`)")
            }
            let reader = try OCIArchiveReader(path: path)
            return (try PushCommand.imageToPush(try reader.resolveImage(tag: tag), reader: reader), repository)
        case let .layout(directory, tag):
            let reader = try OCILayoutReader(directory: directory)
            return (try PushCommand.imageToPush(try reader.resolveImage(tag: tag), reader: reader), repository)
        case let .registry(source):
            let puller = try registries.puller(for: source.host)
            let pulled = try puller.resolve(source, platform: .linuxAMD64)
            let layers = RegistrySource(reference: source, puller: puller)
            var blobs = [
                BlobToWrite(digest: pulled.manifestDigest, size: Int64(pulled.manifestBytes.count), content: .bytes(pulled.manifestBytes), verify: false),
                BlobToWrite(digest: pulled.manifest.config.digest, size: Int64(pulled.configBytes.count), content: .bytes(pulled.configBytes), verify: false),
            ]
            for layer in pulled.manifest.layers {
                blobs.append(BlobToWrite(digest: layer.digest, size: layer.size, content: layers.layerContent(layer), verify: true))
            }
            let manifest = Descriptor(mediaType: pulled.manifestMediaType, digest: pulled.manifestDigest, size: Int64(pulled.manifestBytes.count))
            return (ImageToWrite(manifest: manifest, blobs: blobs), source.repository)
        }
    }
}
