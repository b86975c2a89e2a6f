import FairArchive
import FairHTTP
import FairOCI
import Foundation

/// Manifest and blob downloads (distribution-spec "pull"), every byte checked against its digest.
extension RegistryClient {
    static let manifestAccept = [
        MediaType.imageManifest, MediaType.imageIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
    ].joined(separator: ", ")

    public struct FetchedManifest: Sendable {
        public var bytes: [UInt8]
        public var mediaType: String
        public var digest: Digest
    }

    public func fetchManifest(_ repository: String, reference: String) throws -> FetchedManifest {
        var headers = HTTPHeaders()
        headers.set("Accept", Self.manifestAccept)
        let response = try perform(HTTPRequest(method: "GET", url: url("/v2/\(repository)/manifests/\(reference)"), headers: headers),
                                   scopes: [Self.pullScope(repository)], maxBodyBytes: 4 << 20)
        guard response.status == 200 else {
            throw failure(response, method: "GET", repository: repository, action: "pull", what: "\(host)/\(repository):\(reference)")
        }
        let digest = Digest.sha256(of: response.body)
        if reference.hasPrefix("sha256:"), reference != digest.description {
            throw RegistryError.digestMismatch(what: "manifest \(repository)@\(reference)", expected: reference, actual: digest.description)
        }
        var mediaType = response.headers["Content-Type"]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if !MediaType.isManifest(mediaType) && !MediaType.isIndex(mediaType) {
            // Some registries send a generic type; the document says what it is.
            struct Probe: Decodable { var mediaType: String?; var manifests: [Descriptor]? }
            let probe = try? JSONDecoder().decode(Probe.self, from: Data(response.body))
            mediaType = probe?.mediaType ?? (probe?.manifests != nil ? MediaType.imageIndex : MediaType.imageManifest)
        }
        return FetchedManifest(bytes: response.body, mediaType: mediaType, digest: digest)
    }

    /// A small blob (an image config) in memory, verified.
    public func fetchSmallBlob(_ repository: String, digest: Digest) throws -> [UInt8] {
        let response = try perform(HTTPRequest(method: "GET", url: url("/v2/\(repository)/blobs/\(digest)")),
                                   scopes: [Self.pullScope(repository)], maxBodyBytes: 8 << 20)
        guard response.status == 200 else {
            throw failure(response, method: "GET", repository: repository, action: "pull", what: "blob \(digest) in \(repository)")
        }
        let actual = Digest.sha256(of: response.body)
        if actual != digest {
            throw RegistryError.digestMismatch(what: "blob \(digest) from \(host)/\(repository)", expected: digest.description, actual: actual.description)
        }
        return response.body
    }

    /// Streams a blob into the content store: written to a temporary file, hashed on the way, and
    /// renamed into place only when the digest matches. A mismatched blob never enters the store.
    public func downloadBlob(_ repository: String, digest: Digest, into store: BlobStore,
                             progress: ((Int64) -> Void)? = nil) throws -> String {
        if let existing = store.existingPath(digest) { return existing }
        return try store.ingest(digest) { temporaryPath in
            var hasher: DigestingSink?
            let response = try perform(
                HTTPRequest(method: "GET", url: url("/v2/\(repository)/blobs/\(digest)")),
                scopes: [Self.pullScope(repository)],
                makeSink: {
                    let sink = DigestingSink(downstream: try FileSink(path: temporaryPath))
                    hasher = sink
                    return sink
                },
                progress: { _, received in progress?(received) })
            guard response.status == 200, let hasher else {
                throw failure(response, method: "GET", repository: repository, action: "pull", what: "blob \(digest) in \(repository)")
            }
            try hasher.finish()
            let actual = Digest.sha256(hex: hasher.hexDigest!)
            if actual != digest {
                throw RegistryError.digestMismatch(what: "blob \(digest) from \(host)/\(repository)", expected: digest.description, actual: actual.description)
            }
        }
    }
}
