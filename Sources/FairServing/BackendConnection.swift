import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection to a pod, used by one request at a time (whoever took it
/// from the pool). Every call hops onto the connection's event loop once; the handler there
/// does the work.
final class BackendConnection: @unchecked Sendable {
    let backend: Backend
    let channel: Channel
    private let handler: BackendResponseHandler
    /// Requests this connection has completed: more than zero means it came from the pool, so
    /// a close before the response says nothing about the pod's health. Touched only by the
    /// request holding the connection.
    private(set) var completedExchanges = 0

    private init(backend: Backend, channel: Channel, handler: BackendResponseHandler) {
        self.backend = backend
        self.channel = channel
        self.handler = handler
    }

    static func connect(to backend: Backend, group: EventLoopGroup, timeout: TimeAmount) async throws -> BackendConnection {
        let handler = BackendResponseHandler(backend: backend)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            // The handler reads when a request waits for bytes, and not otherwise.
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            let channel = try await bootstrap.connect(to: backend.socketAddress).get()
            return BackendConnection(backend: backend, channel: channel, handler: handler)
        } catch {
            throw BackendError.connectFailed(backend, Self.reason(error))
        }
    }

    /// Sends a whole request and waits for the response head.
    func exchange(_ head: HTTPRequestHead, body: ByteBuffer?) async throws -> ResponseStart {
        let handler = self.handler, loop = channel.eventLoop
        return try await withCheckedThrowingContinuation { continuation in
            loop.execute {
                handler.send(head, body: body, end: true)
                handler.awaitHead(continuation)
            }
        }
    }

    /// Sends a request head and the start of a body that is streamed on with `writeBody`.
    func beginRequest(_ head: HTTPRequestHead, body: ByteBuffer?) {
        let handler = self.handler
        channel.eventLoop.execute { handler.send(head, body: body, end: false) }
    }

    /// Waits until the bytes are written, so a large upload moves at the pod's pace.
    func writeBody(_ part: ByteBuffer) async throws {
        do {
            try await channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(part))).get()
        } catch {
            throw BackendError.requestBodyFailed(backend, Self.reason(error))
        }
    }

    /// Ends a streamed request and waits for the response head.
    func finishRequest() async throws -> ResponseStart {
        let handler = self.handler, loop = channel.eventLoop
        return try await withCheckedThrowingContinuation { continuation in
            loop.execute {
                handler.finishRequest()
                handler.awaitHead(continuation)
            }
        }
    }

    /// The body bytes that arrived since the last call (at least one byte, or the end).
    func nextBody() async throws -> BodyChunk {
        let handler = self.handler, loop = channel.eventLoop
        return try await withCheckedThrowingContinuation { continuation in
            loop.execute { handler.awaitBody(continuation) }
        }
    }

    /// Records a finished response, after which the connection may serve the next request.
    func completed() { completedExchanges += 1 }

    func close() { channel.close(promise: nil) }

    private static func reason(_ error: Error) -> String {
        if let error = error as? IOError { return error.description }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        return "\(error)"
    }
}
