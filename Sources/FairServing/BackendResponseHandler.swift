import NIOCore
import NIOHTTP1

/// The start of a pod's response: its head, and the body bytes that came in the same reads.
struct ResponseStart {
    var head: HTTPResponseHead
    var body: BodyChunk
}

/// Body bytes received since the reader last asked, merged into one buffer (usually a single
/// part, so nothing is copied), and whether the response ended with them.
struct BodyChunk {
    var bytes: ByteBuffer?
    var isEnd = false
    var trailers: HTTPHeaders?

    var isEmpty: Bool { bytes == nil && !isEnd }

    mutating func append(_ part: ByteBuffer) {
        guard part.readableBytes > 0 else { return }
        if bytes == nil {
            bytes = part
        } else {
            bytes!.writeImmutableBuffer(part)
        }
    }
}

/// The end of a backend connection's pipeline, confined to its event loop. It sends one request
/// at a time and hands the response to the task waiting for it. Reads happen only while someone
/// waits (autoRead is off), which is what makes a slow client slow down the pod instead of
/// filling memory; and what arrives in one read is handed over in one piece, so a small
/// response costs a single wake-up.
final class BackendResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum Waiter {
        case none
        case head(CheckedContinuation<ResponseStart, Error>)
        case body(CheckedContinuation<BodyChunk, Error>)
    }

    let backend: Backend
    private var context: ChannelHandlerContext?
    private var waiter = Waiter.none
    /// Between sending a request and receiving the end of its response.
    private var exchanging = false
    private var head: HTTPResponseHead?
    private var headDelivered = false
    private var pending = BodyChunk()
    private var failure: BackendError?
    private var closed = false

    init(backend: Backend) { self.backend = backend }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: - Called on the event loop by BackendConnection

    /// Writes a request head and, if given, body bytes; `end` finishes the request.
    func send(_ requestHead: HTTPRequestHead, body: ByteBuffer?, end: Bool) {
        exchanging = true
        head = nil
        headDelivered = false
        pending = BodyChunk()
        failure = nil
        guard let context, !closed else {
            failure = .closedBeforeResponse(backend, "the connection was already closed")
            return
        }
        context.write(wrapOutboundOut(.head(requestHead)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        if end { context.write(wrapOutboundOut(.end(nil)), promise: nil) }
        context.flush()
    }

    /// Ends a request whose body was streamed.
    func finishRequest() {
        guard let context, !closed else { return }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func awaitHead(_ continuation: CheckedContinuation<ResponseStart, Error>) {
        waiter = .head(continuation)
        deliver()
    }

    func awaitBody(_ continuation: CheckedContinuation<BodyChunk, Error>) {
        waiter = .body(continuation)
        deliver()
    }

    // MARK: - Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(responseHead):
            guard exchanging, head == nil else {
                fail(.invalidResponse(backend, "a response arrived that no request asked for"), context: context)
                return
            }
            head = responseHead
        case let .body(part):
            pending.append(part)
        case let .end(trailers):
            pending.isEnd = true
            pending.trailers = trailers
            exchanging = false
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliver()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        if exchanging && failure == nil {
            failure = head == nil ? .closedBeforeResponse(backend, "connection closed") : .closedMidResponse(backend, "connection closed")
        }
        // What arrived before the close is handed over first (an HTTP/1.0 body ends this way).
        deliver()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if failure == nil {
            if head == nil && error is HTTPParserError {
                failure = .invalidResponse(backend, "\(error)")
            } else if head == nil {
                failure = .closedBeforeResponse(backend, "\(error)")
            } else {
                failure = .closedMidResponse(backend, "\(error)")
            }
        }
        context.close(promise: nil)
    }

    // MARK: - Handing over

    private func fail(_ error: BackendError, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        context.close(promise: nil)
    }

    /// Resumes the waiter when there is something for it: the head (with any body bytes), the
    /// next body bytes, or the failure. Otherwise it asks the channel for another read.
    private func deliver() {
        switch waiter {
        case .none:
            return
        case let .head(continuation):
            if let head, !headDelivered {
                waiter = .none
                headDelivered = true
                let body = pending
                pending = BodyChunk()
                continuation.resume(returning: ResponseStart(head: head, body: body))
                return
            }
            if let failure {
                waiter = .none
                continuation.resume(throwing: failure)
                return
            }
            if closed {
                waiter = .none
                continuation.resume(throwing: BackendError.closedBeforeResponse(backend, "connection closed"))
                return
            }
        case let .body(continuation):
            if !pending.isEmpty {
                waiter = .none
                let chunk = pending
                pending = BodyChunk()
                continuation.resume(returning: chunk)
                return
            }
            if failure != nil || closed {
                waiter = .none
                continuation.resume(throwing: failure ?? BackendError.closedMidResponse(backend, "connection closed"))
                return
            }
        }
        context?.read()
    }
}
