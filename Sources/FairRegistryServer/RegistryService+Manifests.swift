import FairArchive
import FairOCI
import FairSupport
import Foundation
import Hummingbird

/// Manifests: PUT by tag or digest (checked against the blobs and manifests they reference),
/// GET/HEAD with the media type they were put with, DELETE.
extension RegistryService {
    /// What the registry reads of a manifest or index: the references it must check.
    private struct ManifestDocument: Decodable {
        struct Reference: Decodable {
            var mediaType: String?
            var digest: String
            var urls: [String]?
        }
        var schemaVersion: Int?
        var mediaType: String?
        var config: Reference?
        var layers: [Reference]?
        var manifests: [Reference]?
        var blobs: [Reference]?
    }

    private enum ManifestReference {
        case tag(String)
        case digest(Digest)
    }

    private func parseReference(_ reference: String) throws -> ManifestReference {
        if reference.contains(":") { return .digest(try parseDigest(reference)) }
        guard Grammar.isTag(reference) else { throw DistributionError.tagInvalid(reference) }
        return .tag(reference)
    }

    func getManifest(_ name: String, reference: String, head: Bool) throws -> Response {
        let parsed = try parseReference(reference)
        guard storage.repositoryExists(name) else { throw DistributionError.nameUnknown(name) }
        let digest: Digest
        switch parsed {
        case let .tag(tag):
            guard let target = storage.resolveTag(name, tag) else { throw DistributionError.manifestUnknown(reference) }
            digest = target
        case let .digest(value):
            digest = value
        }
        guard let mediaType = storage.manifestMediaType(name, digest), let size = storage.blobSize(digest) else {
            throw DistributionError.manifestUnknown(reference)
        }
        var headers = HTTPFields()
        headers[.contentType] = mediaType
        headers[Headers.contentDigest] = digest.description
        headers[.eTag] = "\"\(digest)\""
        headers[.contentLength] = String(size)
        if head { return Response(status: .ok, headers: headers) }
        let bytes = try storage.readBlob(digest)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func putManifest(_ name: String, reference: String, request: Request) async throws -> Response {
        let parsed = try parseReference(reference)
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= Self.manifestLimit else {
                throw DistributionError.sizeInvalid("manifests are limited to \(Self.manifestLimit) bytes")
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        let digest = Digest.sha256(of: bytes)
        if case let .digest(expected) = parsed, expected != digest {
            throw DistributionError.digestInvalid("the manifest has digest \(digest), not \(expected)", digest: expected.description)
        }
        guard let document = try? JSONDecoder().decode(ManifestDocument.self, from: Data(bytes)) else {
            throw DistributionError.manifestInvalid("the manifest is not a JSON document of the expected shape")
        }
        let mediaType = try Self.mediaType(of: document, contentType: request.headers[.contentType])

        return try await repositoryLocks.withLock(name) {
            try checkReferences(document, mediaType: mediaType, name: name)
            var tag: String?
            if case let .tag(value) = parsed { tag = value }
            try storage.storeManifest(name, bytes: bytes, digest: digest, mediaType: mediaType, tag: tag)
            var headers = HTTPFields()
            headers[.location] = "/v2/\(name)/manifests/\(digest)"
            headers[Headers.contentDigest] = digest.description
            return Responses.empty(.created, headers: headers)
        }
    }

    func deleteManifest(_ name: String, reference: String) async throws -> Response {
        let parsed = try parseReference(reference)
        guard storage.repositoryExists(name) else { throw DistributionError.nameUnknown(name) }
        return try await repositoryLocks.withLock(name) {
            switch parsed {
            case let .tag(tag):
                guard storage.deleteTag(name, tag) else { throw DistributionError.manifestUnknown(reference) }
            case let .digest(digest):
                guard storage.deleteManifest(name, digest) else { throw DistributionError.manifestUnknown(reference) }
            }
            return Responses.empty(.accepted)
        }
    }

    /// The media type a manifest is stored (and served) with: the request's Content-Type, or the
    /// document's own `mediaType` when the client sent a generic type. The two must agree.
    private static func mediaType(of document: ManifestDocument, contentType: String?) throws -> String {
        let declared = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let generic = ["", "application/json", "application/octet-stream", "text/plain"]
        let mediaType: String
        if generic.contains(declared) {
            mediaType = document.mediaType ?? (document.manifests != nil ? FairOCI.MediaType.imageIndex : FairOCI.MediaType.imageManifest)
        } else {
            if let own = document.mediaType, own != declared {
                throw DistributionError.manifestInvalid("the manifest's mediaType \(own) differs from its Content-Type \(declared)")
            }
            mediaType = declared
        }
        if mediaType.hasPrefix("application/vnd.docker.distribution.manifest.v1") {
            throw DistributionError.manifestInvalid("Docker schema 1 manifests are not supported")
        }
        if let version = document.schemaVersion, version != 2 {
            throw DistributionError.manifestInvalid("schemaVersion \(version) is not supported")
        }
        return mediaType
    }

    /// Everything the manifest references must already be in the repository: the config and
    /// layers of an image (foreign layers with URLs excepted), the manifests of an index.
    private func checkReferences(_ document: ManifestDocument, mediaType: String, name: String) throws {
        func digest(_ reference: ManifestDocument.Reference) throws -> Digest {
            guard let digest = try? Digest(parsing: reference.digest) else {
                throw DistributionError.manifestInvalid("invalid digest \"\(reference.digest)\" in the manifest")
            }
            return digest
        }
        if FairOCI.MediaType.isManifest(mediaType) && document.config == nil {
            throw DistributionError.manifestInvalid("an image manifest needs a config")
        }
        if FairOCI.MediaType.isIndex(mediaType) && document.manifests == nil {
            throw DistributionError.manifestInvalid("an image index needs a manifests list")
        }
        var blobs = document.config.map { [$0] } ?? []
        blobs += document.layers ?? []
        blobs += document.blobs ?? []
        for reference in blobs where (reference.urls ?? []).isEmpty {
            let value = try digest(reference)
            if storage.linkedBlobSize(name, value) == nil {
                throw DistributionError.manifestBlobUnknown(value.description)
            }
        }
        for reference in document.manifests ?? [] {
            let value = try digest(reference)
            if storage.manifestMediaType(name, value) == nil && storage.linkedBlobSize(name, value) == nil {
                throw DistributionError.manifestBlobUnknown(value.description)
            }
        }
    }
}
