import FairArchive
import FairOCI
import FairSupport
import Foundation
import Hummingbird

/// Blob uploads (distribution-spec "pushing blobs"): sessions opened by POST, bytes appended by
/// PATCH, closed by PUT with the digest; monolithic POST with `?digest=`; mounts with `?mount=`.
/// Bytes go straight from the request body to the session file, hashed on the way where possible;
/// a blob enters the content store only through a rename after its digest matched.
extension RegistryService {
    func startUpload(_ name: String, request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        if let mount = query["mount"].map(String.init) {
            // The store is content-addressed: a blob present under any repository can be linked
            // here. Otherwise the client gets an ordinary session (202), as the spec asks.
            if let digest = try? parseDigest(mount), storage.blobSize(digest) != nil {
                try storage.linkBlob(name, digest)
                return blobCreated(name, digest)
            }
        } else if let text = query["digest"].map(String.init) {
            let digest = try parseDigest(text)
            let id = try storage.createUpload(name)
            return try await sessionLocks.withLock(id) {
                do {
                    return try await closeUpload(name, id: id, digest: digest, request: request)
                } catch {
                    storage.deleteUpload(id)
                    throw error
                }
            }
        }
        let id = try storage.createUpload(name)
        return uploadAccepted(name, id: id, size: 0, status: .accepted)
    }

    func uploadStatus(_ name: String, id: String) throws -> Response {
        guard let size = storage.uploadSize(name, id) else { throw DistributionError.blobUploadUnknown(id) }
        return uploadAccepted(name, id: id, size: size, status: .noContent)
    }

    func cancelUpload(_ name: String, id: String) throws -> Response {
        guard storage.uploadSize(name, id) != nil else { throw DistributionError.blobUploadUnknown(id) }
        hashers.remove(id)
        storage.deleteUpload(id)
        return Responses.empty(.noContent)
    }

    func patchUpload(_ name: String, id: String, request: Request) async throws -> Response {
        try await sessionLocks.withLock(id) {
            guard let size = storage.uploadSize(name, id) else { throw DistributionError.blobUploadUnknown(id) }
            let expected = try checkContentRange(request, name: name, id: id, size: size)
            // Keep hashing where the previous chunk stopped; a session without a running hash
            // (after a restart) is hashed from its file when it is closed.
            let hasher = hashers.take(id, size: size) ?? (size == 0 ? DigestingSink() : nil)
            let written = try await append(request.body, to: storage.uploadDataPath(id), size: size, hasher: hasher,
                                           expected: expected, name: name, id: id)
            if let hasher { hashers.put(id, hasher) }
            return uploadAccepted(name, id: id, size: size + written, status: .accepted)
        }
    }

    func putUpload(_ name: String, id: String, request: Request) async throws -> Response {
        guard let text = request.uri.queryParameters["digest"].map(String.init) else {
            throw DistributionError.digestInvalid("the digest query parameter is required to close an upload")
        }
        let digest = try parseDigest(text)
        return try await sessionLocks.withLock(id) {
            try await closeUpload(name, id: id, digest: digest, request: request)
        }
    }

    /// Appends the request body (the last chunk, or the whole blob) and commits the session as
    /// `digest` when the bytes hash to it. On a mismatch the session is discarded.
    private func closeUpload(_ name: String, id: String, digest: Digest, request: Request) async throws -> Response {
        guard let size = storage.uploadSize(name, id) else { throw DistributionError.blobUploadUnknown(id) }
        let expected = try checkContentRange(request, name: name, id: id, size: size)
        let dataPath = storage.uploadDataPath(id)
        let hasher: DigestingSink
        if let running = hashers.take(id, size: size) {
            hasher = running
        } else if size == 0 {
            hasher = DigestingSink()
        } else {
            hasher = try await runBlocking {
                let hasher = DigestingSink()
                try ReadableFile(path: dataPath).copy(length: size, to: hasher)
                return hasher
            }
        }
        _ = try await append(request.body, to: dataPath, size: size, hasher: hasher, expected: expected, name: name, id: id)
        try hasher.finish()
        let actual = Digest.sha256(hex: hasher.hexDigest!)
        guard actual == digest else {
            storage.deleteUpload(id)
            throw DistributionError.digestInvalid("the uploaded content has digest \(actual), not \(digest)", digest: digest.description)
        }
        try storage.commitBlob(from: dataPath, digest: digest)
        try storage.linkBlob(name, digest)
        storage.deleteUpload(id)
        return blobCreated(name, digest)
    }

    /// Streams `body` to the end of the session file, feeding `hasher` too. A chunk that fails
    /// part-way (dropped connection, wrong length) is cut off again, leaving the session as it was.
    private func append(_ body: RequestBody, to path: String, size: Int64, hasher: DigestingSink?, expected: Int64?,
                        name: String, id: String) async throws -> Int64 {
        let file = try AppendingFile(path: path)
        var written: Int64 = 0
        do {
            for try await buffer in body {
                try buffer.withUnsafeReadableBytes { bytes in
                    try file.write(bytes)
                    try hasher?.write(bytes)
                }
                written += Int64(buffer.readableBytes)
            }
            if let expected, written != expected {
                throw DistributionError.rangeInvalid(
                    "the chunk has \(written) bytes, its Content-Range says \(expected)", location: uploadLocation(name, id), size: size)
            }
            try file.finish()
        } catch {
            file.truncate(to: size)
            try? file.finish()
            hashers.remove(id)
            throw error
        }
        return written
    }

    /// Validates `Content-Range: <start>-<end>`: the chunk must start where the session ends.
    /// Returns the chunk length it announces, if any.
    private func checkContentRange(_ request: Request, name: String, id: String, size: Int64) throws -> Int64? {
        guard let header = request.headers[.contentRange] else { return nil }
        var text = Substring(header.trimmingCharacters(in: .whitespaces))
        for prefix in ["bytes=", "bytes "] where text.hasPrefix(prefix) { text = text.dropFirst(prefix.count) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), let end = Int64(parts[1]), end >= start - 1 else {
            throw DistributionError.rangeInvalid("invalid Content-Range \"\(header)\"", location: uploadLocation(name, id), size: size)
        }
        guard start == size else {
            throw DistributionError.rangeInvalid(
                "the chunk starts at \(start), the upload has \(size) bytes", location: uploadLocation(name, id), size: size)
        }
        return end - start + 1
    }

    func uploadLocation(_ name: String, _ id: String) -> String { "/v2/\(name)/blobs/uploads/\(id)" }

    private func uploadAccepted(_ name: String, id: String, size: Int64, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.location] = uploadLocation(name, id)
        headers[.range] = Headers.uploadRange(size)
        headers[Headers.uploadUUID] = id
        return Responses.empty(status, headers: headers)
    }

    func blobCreated(_ name: String, _ digest: Digest) -> Response {
        var headers = HTTPFields()
        headers[.location] = "/v2/\(name)/blobs/\(digest)"
        headers[Headers.contentDigest] = digest.description
        return Responses.empty(.created, headers: headers)
    }
}
