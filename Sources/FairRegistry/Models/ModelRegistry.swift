import FairArchive
import FairOCI
import Foundation

/// The models a registry holds under `models/`: what `fair models`, `fair serve` and
/// `fair predict` read. Writing them is the training pod's job (`fair-model.py push`).
public struct ModelRegistry {
    public let client: RegistryClient

    public init(client: RegistryClient) { self.client = client }

    /// `vN` tags of a model, oldest first; empty when there is no such model.
    public func versions(of name: String) throws -> [String] {
        let tags = try client.tags("models/\(name)") ?? []
        return tags.compactMap { tag -> (Int, String)? in
            guard tag.hasPrefix("v"), let number = Int(tag.dropFirst()) else { return nil }
            return (number, tag)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Names of the models the registry lists.
    public func names() throws -> [String] {
        try client.catalog().filter { $0.hasPrefix("models/") }.map { String($0.dropFirst("models/".count)) }.sorted()
    }

    /// `NAME[:VERSION]` (VERSION: vN, latest or a sha256 digest; default latest), resolved to its
    /// manifest. `latest` is reported as the `vN` it points to.
    public func resolve(_ name: String, version: String? = nil) throws -> ModelVersion {
        let wanted = version ?? "latest"
        let repository = "models/\(name)"
        let fetched: RegistryClient.FetchedManifest
        do {
            fetched = try client.fetchManifest(repository, reference: wanted)
        } catch RegistryError.notFound {
            let known = (try? versions(of: name)) ?? []
            throw RegistryError.notFound(what: known.isEmpty
                ? "model \(name) in \(client.host) (train one with fair train, or see fair models list)"
                : "version \(wanted) of model \(name) in \(client.host) (it has \(known.joined(separator: ", ")))")
        }
        var resolved = try ModelVersion.decode(name: name, version: wanted, digest: fetched.digest, manifest: fetched.bytes,
                                               source: "\(client.host)/\(repository):\(wanted)")
        if !(wanted.hasPrefix("v") && Int(wanted.dropFirst()) != nil) {
            // Name the version: the newest vN with the same manifest.
            for tag in try versions(of: name).reversed() {
                if let other = try? client.fetchManifest(repository, reference: tag), other.digest == fetched.digest {
                    resolved.version = tag
                    break
                }
            }
        }
        return resolved
    }

    /// Downloads the model's layer (verified) and unpacks it into `directory`, which must not exist
    /// yet: it appears by rename, whole, or not at all.
    @discardableResult
    public func pull(_ model: ModelVersion, into directory: String, store: BlobStore) throws -> ExtractionSummary {
        if FileManager.default.fileExists(atPath: directory) {
            throw RegistryError.config(path: directory, reason: "already exists; pull into a new directory")
        }
        let blob = try client.downloadBlob(model.repository, digest: model.layer, into: store)
        let parent = (directory as NSString).deletingLastPathComponent
        let staging = "\(parent.isEmpty ? "." : parent)/.\((directory as NSString).lastPathComponent).partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        TemporaryFiles.register(staging)
        defer { TemporaryFiles.unregister(staging) }
        do {
            // Models come from training pods: unpacked as untrusted layers are, nothing outside the directory.
            let summary = try LayerExtractor(root: staging, refusesAbsoluteLinks: true).apply(layerAt: blob)
            guard rename(staging, directory) == 0 else {
                throw RegistryError.config(path: directory, reason: String(cString: strerror(errno)))
            }
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }
}
