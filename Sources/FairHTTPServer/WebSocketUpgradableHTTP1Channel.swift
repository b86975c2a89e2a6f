import HTTPTypes
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// HTTP/1.1 with a WebSocket upgrade, as Hummingbird's `HTTP1WebSocketUpgradeChannel` serves it,
/// with two differences that Kubernetes clients need:
/// - An upgrade that is declined is answered by the server's ordinary responder, not with an
///   empty 400: kube-apiserver answers a refused exec with its `Status` (403, 404, 400 with the
///   reason), and the Python client shows that to its user. NIO's upgrade handler has consumed
///   the request by then, so the head the decision saw is handed to the responder (an upgrade
///   request has no body), and the connection closes after the answer.
/// - Connections are held as `AcceptSafeHTTP1Channel` holds them, so a server stopping while a
///   client connects closes the connection instead of stopping the process.
/// The WebSocket protocol itself (frames, pings, close) stays swift-websocket's.
public struct WebSocketUpgradableHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    public typealias Decide = @Sendable (HTTPRequest, any Channel, Logger) async -> ShouldUpgradeResult<WebSocketDataHandler<Context>>
    typealias RunWebSocket = @Sendable (NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Logger) async -> Void

    /// What a WebSocket handler is told about its connection.
    public struct Context: WebSocketContext {
        public let logger: Logger
    }

    enum Negotiated: Sendable {
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, RunWebSocket, Logger)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade was asked for and declined (the request itself is in `Value.declined`).
        case declinedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    public final class Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        public let channel: any Channel
        /// The request whose upgrade was declined; nil if it could not be read as one.
        let declined: NIOLockedValueBox<HTTPRequest?>

        init(negotiated: EventLoopFuture<Negotiated>, channel: any Channel, declined: NIOLockedValueBox<HTTPRequest?>) {
            self.negotiated = negotiated
            self.channel = channel
            self.declined = declined
        }

        deinit {
            // Served values were finished by `executeThenClose`, and these calls are then
            // no-ops; a value NIO dropped (the server stopping) is finished here (see
            // `AcceptedConnection`).
            let channel = self.channel
            negotiated.whenSuccess { negotiated in
                switch negotiated {
                case let .webSocket(connection, _, _): connection.outbound.finish()
                case let .http(connection), let .declinedUpgrade(connection): connection.outbound.finish()
                }
                channel.close(promise: nil)
            }
        }
    }

    public let responder: HTTPChannelHandler.Responder
    private let plainResponder: HTTPChannelHandler.Responder
    private let configuration: HTTP1WebSocketUpgradeChannel.Configuration
    private let decide: Decide

    public init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP1WebSocketUpgradeChannel.Configuration,
                decide: @escaping Decide) {
        self.plainResponder = responder
        self.responder = Self.redirectingLateUpgrades(responder)
        self.configuration = configuration
        self.decide = decide
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let attempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let configuration = self.configuration, decide = self.decide
            // The decision's handler, handed to the pipeline step NIO runs next on this channel.
            let chosen = NIOLockedValueBox<WebSocketDataHandler<Context>?>(nil)
            let declined = NIOLockedValueBox<HTTPRequest?>(nil)
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: configuration.ws.maxFrameSize,
                shouldUpgrade: { channel, head in
                    attempted.value = true
                    let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                    let decision = channel.eventLoop.makePromise(of: ShouldUpgradeResult<WebSocketDataHandler<Context>>.self)
                    decision.completeWithTask {
                        // NIO hands the head in its HTTP/1 form; the decision reads swift-http-types.
                        let request = try HTTPRequest(head, secure: false, splitCookie: false)
                        let result = await decide(request, channel, logger)
                        if case .dontUpgrade = result { declined.withLockedValue { $0 = request } }
                        return result
                    }
                    decision.futureResult.whenComplete { result in
                        switch result {
                        case let .success(.upgrade(fields, handler)):
                            chosen.withLockedValue { $0 = handler }
                            promise.succeed(HTTPHeaders(fields))
                        case .success(.dontUpgrade), .failure:
                            promise.succeed(nil)
                        }
                    }
                    return promise.futureResult
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = chosen.withLockedValue { $0 }
                        let connection = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        let run: RunWebSocket = { connection, logger in
                            guard let handler else { return }
                            do {
                                _ = try await WebSocketHandler.handle(
                                    type: .server,
                                    configuration: .init(extensions: [], autoPing: configuration.ws.autoPing,
                                                         closeTimeout: configuration.ws.closeTimeout,
                                                         validateUTF8: configuration.ws.validateUTF8,
                                                         maxFrameSize: configuration.ws.maxFrameSize),
                                    asyncChannel: connection, context: Context(logger: logger), handler: handler)
                            } catch {
                                logger.debug("WebSocket ended: \(error)")
                            }
                        }
                        return .webSocket(connection, run, logger)
                    }
                })
            let serverUpgrade = NIOTypedHTTPServerUpgradeConfiguration(
                // SPDY (kubectl's fallback after a refused WebSocket) is never served here, but
                // must be declined as an upgrade to be answered: NIO drops the request of an
                // upgrade no upgrader claims.
                upgraders: [upgrader, DecliningUpgrader<Negotiated>(supportedProtocol: "SPDY/3.1") { request in
                    attempted.value = true
                    declined.withLockedValue { $0 = request }
                }],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try sync.addHandlers(configuration.http1.additionalChannelHandlers())
                        try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: configuration.http1.idleTimeout.map { .init($0) }, logger: logger))
                        let connection = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return attempted.value ? .declinedUpgrade(connection) : .http(connection)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<Negotiated>(upgradeConfiguration: serverUpgrade)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            pipeline.decoderConfiguration.maxHeaderFieldSize = configuration.http1.httpDecoder.maxHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = configuration.http1.httpDecoder.maxHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = configuration.http1.httpDecoder.maxHeaderFieldCount
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            return Value(negotiated: negotiated, channel: channel, declined: declined)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case let .http(connection):
                await handleHTTP(asyncChannel: connection, logger: logger)
            case let .declinedUpgrade(connection):
                await answerDeclined(value.declined.withLockedValue { $0 }, on: connection, logger: logger)
            case let .webSocket(connection, run, logger):
                await run(connection, logger)
            }
        } catch {
            logger.debug("connection ended before its first request: \(error)")
        }
    }

    /// The ordinary answer to a request whose upgrade was declined, then close.
    private func answerDeclined(_ head: HTTPRequest?, on connection: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        let responder = plainResponder
        do {
            try await connection.executeThenClose { _, outbound in
                guard let head else {
                    try await outbound.write(contentsOf: [.head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])), .end(nil)])
                    return
                }
                try await responder(Request(head: head, body: RequestBody(buffer: ByteBuffer())), ResponseWriter(outbound: outbound), connection.channel)
            }
        } catch {
            logger.debug("answering a declined upgrade failed: \(error)")
        }
    }

    /// NIO upgrades only a connection's first request; a later one that asks is sent to the same
    /// URL on a new connection (307 and close), which clients with a pool follow.
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectedUpgrade: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            var location = request.uri.path
            if let query = request.uri.query { location += "?\(query)" }
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw RedirectedUpgrade()
        }
    }
}

/// Claims an upgrade protocol only to decline it, keeping the request for the answer.
private struct DecliningUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    struct Declined: Error {}
    let supportedProtocol: String
    let requiredUpgradeHeaders: [String] = []
    let record: @Sendable (HTTPRequest?) -> Void

    init(supportedProtocol: String, record: @escaping @Sendable (HTTPRequest?) -> Void) {
        self.supportedProtocol = supportedProtocol
        self.record = record
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        record(try? HTTPRequest(upgradeRequest, secure: false, splitCookie: false))
        return channel.eventLoop.makeFailedFuture(Declined())
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeFailedFuture(Declined())
    }
}

extension HTTPServerBuilder {
    /// `acceptSafeHTTP1()` with WebSocket upgrades decided by `decide`; a declined upgrade is
    /// answered by the ordinary responder.
    public static func acceptSafeHTTP1(webSocket configuration: HTTP1WebSocketUpgradeChannel.Configuration,
                                       decide: @escaping WebSocketUpgradableHTTP1Channel.Decide) -> HTTPServerBuilder {
        .init { responder in WebSocketUpgradableHTTP1Channel(responder: responder, configuration: configuration, decide: decide) }
    }
}
