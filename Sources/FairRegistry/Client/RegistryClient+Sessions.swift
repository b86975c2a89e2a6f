import FairHTTP
import FairOCI
import Foundation

/// The steps of a chunked upload session, for a blob sent while it is still being written
/// (`StreamedBlobUpload`): open, append ranges (resuming where the registry says it stands
/// after a dropped connection), close with the digest known only at the end.
extension RegistryClient {
    /// POST …/blobs/uploads/: the session's location and the smallest chunk the registry takes.
    func openUpload(_ repository: String) throws -> (location: String, minimumChunk: Int64) {
        let start = try perform(HTTPRequest(method: "POST", url: url("/v2/\(repository)/blobs/uploads/")), scopes: [Self.pushScope(repository)])
        guard start.status == 202, let first = start.headers["Location"] else {
            throw failure(start, method: "POST", repository: repository, action: "push", what: "repository \(repository)")
        }
        return (resolve(first, against: start.url), Int64(start.headers["OCI-Chunk-Min-Length"] ?? "") ?? 0)
    }

    /// PATCH one range of the open file `descriptor`; the session's next location.
    func appendUpload(at location: String, repository: String, descriptor: Int32, name: String, offset: Int64, length: Int64) throws -> String {
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/octet-stream")
        headers.set("Content-Range", "\(offset)-\(offset + length - 1)")
        headers.set("Content-Length", String(length))
        let response = try perform(
            HTTPRequest(method: "PATCH", url: location, headers: headers,
                        body: .descriptor(descriptor, name: name, offset: offset, length: length)),
            scopes: [Self.pushScope(repository)], retrying: false)
        guard response.status == 202 else {
            throw failure(response, method: "PATCH", repository: repository, action: "push", what: "upload to \(repository)")
        }
        countSent(length)
        return response.headers["Location"].map { resolve($0, against: response.url) } ?? location
    }

    /// GET on the session: how many bytes the registry holds (its `Range: 0-N`), and where the
    /// session now is; nil when the session is gone.
    func uploadProgress(at location: String, repository: String) throws -> (received: Int64, location: String)? {
        let response = try perform(HTTPRequest(method: "GET", url: location), scopes: [Self.pushScope(repository)])
        guard response.status == 204 else { return nil }
        let next = response.headers["Location"].map { resolve($0, against: response.url) } ?? location
        guard let range = response.headers["Range"] else { return (0, next) }
        let parts = range.split(separator: "-")
        guard parts.count == 2, let last = Int64(parts[1]) else { return nil }
        return (last + 1, next)
    }
}
