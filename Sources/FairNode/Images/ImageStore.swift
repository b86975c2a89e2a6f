import FairArchive
import FairKube
import FairOCI
import FairRegistry
import FairSupport
import Foundation

/// The node's images: pulled through `FairRegistry` into a content-addressed blob cache, then
/// unpacked once per manifest digest into a root filesystem that every container of the image
/// shares read-only.
///
/// On disk, under the node's data directory:
/// - `blobs/<hex>`: layers as the registry sent them, verified against their digests;
/// - `images/<manifest digest>/rootfs`: the unpacked image, with `config.json` (the image
///   config) and `manifest.json` beside it. The directory appears by one rename when it is
///   complete, so a crash never leaves a half-unpacked image that looks ready;
/// - `images/references/`: which digest each reference last resolved to (for IfNotPresent).
///
/// One ImageStore per data directory: at start it removes unpacks a crash left behind.
public final class ImageStore: @unchecked Sendable {
    public let dataDirectory: String
    public let platform: Platform
    let imagesDirectory: String
    let registries: RegistryClients
    let records: ImageReferenceRecords
    /// Where images of each registry are pulled from first.
    let mirrors: RegistryMirrors
    /// One resolution per reference, one unpack per digest, at a time.
    private let referenceLocks = KeyedLock()
    private let digestLocks = KeyedLock()
    /// One mount of an image's root filesystem at a time.
    let mountLocks = KeyedLock()

    static let stagingPrefix = ".unpack-"
    /// The most one image may unpack to (the sum of its files' sizes).
    public var maximumUnpackedBytes: Int64 = 32 << 30
    /// Free disk space an unpack never takes.
    public var reservedFreeBytes: Int64 = 512 << 20
    /// Layer snapshots shared by images (overlay), or nil: each image unpacked whole.
    let snapshots: LayerSnapshots?

    /// `registries` defaults to clients with the docker configuration's credentials and the blob
    /// cache under `dataDirectory/blobs`; loopback registries are reached over plain HTTP.
    ///
    /// `layout`: `.snapshots` shares each layer between images through overlay mounts (root and
    /// a kernel with overlay needed), `.copies` unpacks every image whole, `.automatic` takes
    /// snapshots where they work.
    public init(dataDirectory: String, registries: RegistryClients? = nil, mirrors: RegistryMirrors = RegistryMirrors(),
                platform: Platform = .linuxAMD64, layout: Layout = .copies) throws {
        self.dataDirectory = dataDirectory
        self.platform = platform
        self.mirrors = mirrors
        imagesDirectory = "\(dataDirectory)/images"
        self.registries = registries ?? RegistryClients(store: BlobStore(directory: "\(dataDirectory)/blobs"),
                                                        insecureHosts: mirrors.plainHTTPHosts)
        records = ImageReferenceRecords(directory: "\(imagesDirectory)/references")
        // Unpacked images keep their setuid binaries: other local users must not reach them.
        try PrivateDirectory.ensure(imagesDirectory)
        switch layout {
        case .copies:
            snapshots = nil
        case .snapshots, .automatic:
            if OverlayMount.works(in: dataDirectory) {
                snapshots = try LayerSnapshots(directory: "\(dataDirectory)/snapshots")
            } else if layout == .snapshots {
                throw ImageSnapshotError(description: "layer snapshots need overlay mounts, which do not work in \(dataDirectory) (root and a kernel with overlay are needed)")
            } else {
                snapshots = nil
            }
        }
        removeAbandonedUnpacks()
    }

    /// How images lie on the node's disk (`--image-layout`).
    public enum Layout: String, Sendable, CaseIterable {
        /// Snapshots where overlay mounts work, copies elsewhere; which one is logged.
        case automatic = "auto"
        /// Each layer unpacked once and shared by the images that have it (overlay).
        case snapshots
        /// Each image unpacked whole into a directory of its own.
        case copies
    }

    /// How images are laid out on this node, in words for the log.
    public var layoutDescription: String {
        snapshots != nil ? "layer snapshots (overlay) in \(snapshots!.directory)" : "one unpacked copy per image"
    }

    /// Makes `reference` ready to run according to `pullPolicy` (Always, IfNotPresent, Never).
    /// Concurrent calls for the same reference wait for the first and then find its result.
    /// Throws `ImageError`, whose reason and message become the container's waiting state.
    ///
    /// `credentials` are the pod's pull secrets, used for their registry instead of the node's.
    /// An image they pulled stays theirs: a pod without the same credentials asks the registry
    /// again (whatever its pull policy) and gets the registry's answer, so a private image on
    /// this node is never a way around the registry's access control (kubelet's KEP-2535).
    public func prepare(image reference: String, pullPolicy: String, credentials: PullCredentials = .none) throws -> PreparedImage {
        let parsed: RegistryReference
        do {
            parsed = try RegistryReference(parsing: reference)
        } catch {
            throw ImageError(.invalidName, reference: reference, detail: "\(error)")
        }
        let policy = try PullPolicy(parsing: pullPolicy, for: parsed, written: reference)
        let key = parsed.description
        let podCredentials = credentials.credentials(for: parsed.host)
        let fingerprint = podCredentials.map { Self.fingerprint($0, host: parsed.host) }
        return try referenceLocks.withLock(key) {
            let entry = records.entry(for: key)
            let mayUseCopy = entry.map { $0.pulledWith == nil || $0.pulledWith == fingerprint } ?? false
            // A digest names the same image forever: if it is here, even Always has nothing to do.
            if policy != .always || parsed.digest != nil, mayUseCopy,
               let digest = entry?.digest, let image = unpacked(digest, reference: reference) {
                return image
            }
            if policy == .never {
                throw ImageError(.neverPull, reference: reference, detail: entry != nil && !mayUseCopy
                    ? "the image on this node was pulled with credentials this pod does not have, and imagePullPolicy is Never"
                    : "the image is not present on this node and imagePullPolicy is Never")
            }
            return try pull(parsed, key: key, written: reference, credentials: credentials, fingerprint: fingerprint)
        }
    }

    /// The unpacked image for a manifest digest, if this node has it.
    public func unpacked(_ digest: Digest, reference: String) -> PreparedImage? {
        let directory = imageDirectory(digest)
        if FileManager.default.fileExists(atPath: "\(directory)/\(Self.snapshotList)") {
            // Assembled from snapshots: its root filesystem is an overlay mount, made again
            // after a reboot (mounts do not outlive one; the directories do). A node that no
            // longer uses snapshots unpacks the image afresh.
            if snapshots == nil {
                removeImage(digest.description)
                return nil
            }
            guard (try? mountLocks.withLock(digest.description) { try mountRootfs(directory) }) != nil else { return nil }
        }
        guard FileManager.default.fileExists(atPath: "\(directory)/rootfs"),
              let configBytes = FileManager.default.contents(atPath: "\(directory)/config.json"),
              let config = try? JSONCoding.decode(configBytes)
        else { return nil }
        stampUse(directory)
        return PreparedImage(reference: reference, digest: digest.description, rootfs: "\(directory)/rootfs",
                             config: Self.executionConfig(of: config))
    }

    func imageDirectory(_ digest: Digest) -> String {
        "\(imagesDirectory)/\(digest.description)"
    }

    /// The `config` object of an image config (Entrypoint, Cmd, Env, WorkingDir, User); `{}`
    /// for images that have none.
    static func executionConfig(of imageConfig: JSONValue) -> JSONValue {
        if let config = imageConfig["config"], config.objectValue != nil { return config }
        return .object([:])
    }

    // MARK: - Pulling

    /// Who pulled an image, without keeping the password: a hash of host, user and password.
    static func fingerprint(_ credentials: Credentials, host: String) -> String {
        Digest.sha256(of: Array("\(host)\u{0}\(credentials.username)\u{0}\(credentials.password)".utf8)).encoded
    }

    /// Resolves the reference at its registry's mirrors, then at the registry (the first that
    /// has it serves the whole image), and unpacks it.
    private func pull(_ reference: RegistryReference, key: String, written: String,
                      credentials: PullCredentials, fingerprint: String?) throws -> PreparedImage {
        let failed = { (detail: String) in ImageError(.pull, reference: written, detail: detail) }
        var resolved: (puller: ImagePuller, pulled: ImagePuller.Pulled, source: String)?
        var failures: [String] = []
        for host in mirrors.candidates(for: reference.host) {
            let candidate = RegistryReference(host: host, repository: reference.repository, tag: reference.tag, digest: reference.digest)
            do {
                let puller = try credentials.credentials(for: host).map { registries.puller(for: host, credentials: $0) }
                    ?? registries.puller(for: host)
                resolved = (puller, try puller.resolve(candidate, platform: platform), host)
                break
            } catch let error as RegistryError {
                failures.append((host == reference.host ? "" : "mirror \(host): ") + Self.describeResolution(error, of: candidate))
            } catch {
                failures.append((host == reference.host ? "" : "mirror \(host): ") + "\(error)")
            }
        }
        guard let (puller, pulled, source) = resolved else { throw failed(failures.joined(separator: "; ")) }
        let digest = pulled.manifestDigest
        if var image = unpacked(digest, reference: written) {
            try remember(key, digest, written, pulledWith: fingerprint)
            image.pulledFrom = source
            return image
        }
        for layer in pulled.manifest.layers where !MediaType.layerTypes.contains(layer.mediaType) {
            throw failed("layer \(layer.digest) has media type \(layer.mediaType), which is not an image layer")
        }
        let layers: [Digest: String]
        do {
            layers = try puller.fetchLayers(pulled)
        } catch {
            throw failed("\(error)")
        }
        let image = try digestLocks.withLock(digest.description) { () throws -> PreparedImage in
            if let image = unpacked(digest, reference: written) { return image }
            do {
                return try unpack(pulled, layers: layers, reference: written)
            } catch let error as ImageError {
                throw error
            } catch {
                throw failed("\(error)")
            }
        }
        try remember(key, digest, written, pulledWith: fingerprint)
        var served = image
        served.pulledFrom = source
        return served
    }

    private func remember(_ key: String, _ digest: Digest, _ written: String, pulledWith: String?) throws {
        do {
            try records.record(key, digest: digest, pulledWith: pulledWith)
        } catch {
            throw ImageError(.pull, reference: written, detail: "cannot record the image's digest: \(error)")
        }
    }

    /// Registry failures while resolving the reference, in the registry's own words where it
    /// has them: a missing tag is "manifest unknown", as docker and containerd say.
    static func describeResolution(_ error: RegistryError, of reference: RegistryReference) -> String {
        if case let .notFound(what) = error, what == "\(reference.host)/\(reference.repository):\(reference.manifestReference)" {
            return "manifest unknown"
        }
        return error.description
    }

    /// Removes staging directories of unpacks that never finished (the process died mid-way).
    private func removeAbandonedUnpacks() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: imagesDirectory)) ?? []
        for name in names where name.hasPrefix(Self.stagingPrefix) {
            // An assembly cut short may have left its writable view mounted.
            OverlayMount.unmount("\(imagesDirectory)/\(name)/merged")
            OverlayMount.unmount("\(imagesDirectory)/\(name)/rootfs")
            try? FileManager.default.removeItem(atPath: "\(imagesDirectory)/\(name)")
        }
    }
}
