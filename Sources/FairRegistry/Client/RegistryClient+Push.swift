import FairArchive
import FairHTTP
import FairOCI
import Foundation

/// Blob and manifest uploads (distribution-spec "push"): HEAD first, cross-repository mount,
/// monolithic PUT for small blobs, chunked PATCH with Content-Range for large ones.
extension RegistryClient {
    /// Blobs up to this size go in one PUT; larger ones in PATCH chunks of `chunkSize`.
    static let monolithicLimit: Int64 = 32 << 20
    static let chunkSize: Int64 = 64 << 20

    public func blobExists(_ repository: String, digest: Digest) throws -> Bool {
        let response = try perform(HTTPRequest(method: "HEAD", url: url("/v2/\(repository)/blobs/\(digest)")),
                                   scopes: [Self.pushScope(repository)])
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw failure(response, method: "HEAD", repository: repository, action: "push", what: "blob \(digest)")
        }
    }

    /// Asks the registry to link a blob from another repository; true when it did (201). On 202
    /// the registry declined, and the upload session it opened is cancelled.
    public func mountBlob(_ repository: String, digest: Digest, from source: String) throws -> Bool {
        let query = "mount=\(percentEncoded(digest.description))&from=\(percentEncoded(source))"
        let response = try perform(
            HTTPRequest(method: "POST", url: url("/v2/\(repository)/blobs/uploads/?\(query)")),
            scopes: [Self.pushScope(repository), Self.pullScope(source)])
        switch response.status {
        case 201:
            return true
        case 202:
            if let location = response.headers["Location"] { cancelUpload(resolve(location, against: response.url), repository: repository) }
            return false
        default:
            throw failure(response, method: "POST", repository: repository, action: "push", what: "repository \(repository)")
        }
    }

    /// Uploads a blob whose bytes are a file range (or in memory). The registry checks the digest
    /// when the upload is closed; a failed upload is cancelled so no partial blob is left behind.
    public func uploadBlob(_ repository: String, digest: Digest, size: Int64, body: HTTPBody,
                           progress: ((Int64) -> Void)? = nil) throws {
        let scopes = [Self.pushScope(repository)]
        let start = try perform(HTTPRequest(method: "POST", url: url("/v2/\(repository)/blobs/uploads/")), scopes: scopes)
        guard start.status == 202, let first = start.headers["Location"] else {
            throw failure(start, method: "POST", repository: repository, action: "push", what: "repository \(repository)")
        }
        var location = resolve(first, against: start.url)
        do {
            let minimumChunk = Int64(start.headers["OCI-Chunk-Min-Length"] ?? "") ?? 0
            let chunk = max(Self.chunkSize, minimumChunk)
            if size <= Self.monolithicLimit {
                try closeUpload(at: location, repository: repository, digest: digest, body: body, length: size, progress: progress)
            } else {
                guard case let .file(path, offset, _) = body else {
                    throw RegistryError.unsupported("large blobs are uploaded from files")
                }
                var sentSoFar: Int64 = 0
                while sentSoFar < size {
                    let length = min(chunk, size - sentSoFar)
                    var headers = HTTPHeaders()
                    headers.set("Content-Type", "application/octet-stream")
                    headers.set("Content-Range", "\(sentSoFar)-\(sentSoFar + length - 1)")
                    headers.set("Content-Length", String(length))
                    let base = sentSoFar
                    let response = try perform(
                        HTTPRequest(method: "PATCH", url: location, headers: headers,
                                    body: .file(path: path, offset: offset + sentSoFar, length: length)),
                        scopes: scopes, retrying: false, progress: { sentBytes, _ in progress?(base + sentBytes) })
                    guard response.status == 202 else {
                        throw failure(response, method: "PATCH", repository: repository, action: "push", what: "upload of \(digest)")
                    }
                    countSent(length)
                    sentSoFar += length
                    // Always continue at the newest Location: registries may move the session.
                    if let next = response.headers["Location"] { location = resolve(next, against: response.url) }
                }
                try closeUpload(at: location, repository: repository, digest: digest, body: .empty, length: 0, progress: nil)
            }
        } catch {
            cancelUpload(location, repository: repository)
            throw error
        }
    }

    func closeUpload(at location: String, repository: String, digest: Digest, body: HTTPBody, length: Int64,
                             progress: ((Int64) -> Void)?) throws {
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/octet-stream")
        headers.set("Content-Length", String(length))
        let separator = location.contains("?") ? "&" : "?"
        let response = try perform(
            HTTPRequest(method: "PUT", url: "\(location)\(separator)digest=\(percentEncoded(digest.description))",
                        headers: headers, body: body),
            scopes: [Self.pushScope(repository)], retrying: false,
            progress: { sentBytes, _ in progress?(sentBytes) })
        guard response.status == 201 else {
            throw failure(response, method: "PUT", repository: repository, action: "push", what: "upload of \(digest)")
        }
        countSent(length)
    }

    /// Best effort: a cancelled session frees the registry's partial data.
    func cancelUpload(_ location: String, repository: String) {
        _ = try? perform(HTTPRequest(method: "DELETE", url: location), scopes: [Self.pushScope(repository)], retrying: false)
    }

    /// Uploads a manifest under a tag (or its digest) with the exact Content-Type of its media type.
    @discardableResult
    public func putManifest(_ repository: String, reference: String, bytes: [UInt8], mediaType: String) throws -> Digest {
        var headers = HTTPHeaders()
        headers.set("Content-Type", mediaType)
        let response = try perform(
            HTTPRequest(method: "PUT", url: url("/v2/\(repository)/manifests/\(reference)"), headers: headers, body: .bytes(bytes)),
            scopes: [Self.pushScope(repository)])
        guard response.status == 201 else {
            throw failure(response, method: "PUT", repository: repository, action: "push", what: "manifest \(repository):\(reference)")
        }
        let digest = Digest.sha256(of: bytes)
        if let echoed = response.headers["Docker-Content-Digest"], echoed != digest.description {
            throw RegistryError.digestMismatch(what: "manifest \(repository):\(reference)", expected: digest.description, actual: echoed)
        }
        return digest
    }

    /// Resolves a Location header, which may be relative, against the URL that returned it.
    func resolve(_ location: String, against base: String) -> String {
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else { return location }
        return resolved.absoluteString
    }

    func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: ":/?&=+")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
