import Hummingbird
import NIOCore

/// A request body on its way to a pod. Up to `replayLimit` bytes are read before anything is
/// sent, so the request can go to another pod if the first one fails before answering
/// (inference requests are small); a longer body streams through and is sent once.
enum ForwardedBody {
    case empty
    case buffered(ByteBuffer)
    /// What was read so far, and the rest still coming from the client.
    case streaming(prefix: ByteBuffer?, rest: RequestBody.AsyncIterator, contentLength: Int?)

    var isReplayable: Bool {
        if case .streaming = self { return false }
        return true
    }

    static func read(_ request: Request, replayLimit: Int) async throws -> ForwardedBody {
        let headers = request.headers
        let contentLength = headers[.contentLength].flatMap { Int($0) }
        // Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body; most
        // requests (GET) end here without touching the body stream.
        if contentLength == 0 || (contentLength == nil && headers[.transferEncoding] == nil) { return .empty }
        var iterator = request.body.makeAsyncIterator()
        if let contentLength, contentLength > replayLimit {
            return .streaming(prefix: nil, rest: iterator, contentLength: contentLength)
        }
        var collected: ByteBuffer?
        while let part = try await iterator.next() {
            if collected == nil {
                collected = part
            } else {
                collected!.writeImmutableBuffer(part)
            }
            if collected!.readableBytes > replayLimit {
                return .streaming(prefix: collected, rest: iterator, contentLength: contentLength)
            }
        }
        return collected.map { .buffered($0) } ?? .empty
    }
}
