import FairArchive
import FairOCI
import Foundation
import Hummingbird

/// Blobs: HEAD, GET (streamed from the store, with a single byte range), DELETE.
extension RegistryService {
    func getBlob<Context: RequestContext>(_ name: String, digest text: String, request: Request, context: Context,
                                          head: Bool) async throws -> Response {
        let digest = try parseDigest(text)
        guard let size = storage.linkedBlobSize(name, digest) else { throw DistributionError.blobUnknown(text) }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[Headers.contentDigest] = digest.description
        headers[.eTag] = "\"\(digest)\""
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "max-age=31536000"

        var status = HTTPResponse.Status.ok
        var range: ClosedRange<Int64>? = size > 0 ? 0...(size - 1) : nil
        if let header = request.headers[.range] {
            guard let requested = Self.parseByteRange(header, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                headers[.contentLength] = "0"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            status = .partialContent
            range = requested
            headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound)/\(size)"
        }
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? 0
        headers[.contentLength] = String(length)
        guard !head, let range else {
            // The Content-Length above stays: a HEAD answer describes the body it does not send.
            return Response(status: status, headers: headers)
        }
        let body: ResponseBody
        do {
            body = try await FileIO().loadFile(
                path: storage.blobPath(digest), range: Int(range.lowerBound)...Int(range.upperBound),
                context: context, chunkLength: 256 << 10)
        } catch {
            throw DistributionError.blobUnknown(text)
        }
        return Response(status: status, headers: headers, body: body)
    }

    func deleteBlob(_ name: String, digest text: String) throws -> Response {
        let digest = try parseDigest(text)
        guard storage.unlinkBlob(name, digest) else { throw DistributionError.blobUnknown(text) }
        return Responses.empty(.accepted, headers: [Headers.contentDigest: digest.description])
    }

    /// A single range `bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to the blob; nil when it
    /// cannot be satisfied (or names several ranges).
    static func parseByteRange(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes="), !text.contains(","), size > 0 else { return nil }
        let spec = text.dropFirst("bytes=".count)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(last), suffix > 0 else { return nil }
            return max(size - suffix, 0)...(size - 1)
        }
        guard let start = Int64(first), start >= 0, start < size else { return nil }
        if last.isEmpty { return start...(size - 1) }
        guard let end = Int64(last), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}
