import FairHTTPServer
import FairTLS
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
@_spi(WSInternal) import WSCore

/// A WebSocket client for the hop to a node, which swift-websocket's `WebSocketClient` cannot
/// make: the node is trusted by the key it published with its Node (the log relay's pin), not
/// by a chain and a host name, so the TLS handshake checks the key's pin itself. Everything
/// else (the upgrade, frames, pings, close) is swift-websocket's and NIO's.
///
/// The connection is its own bootstrap, not swift-websocket's, for one more reason: that one
/// allows half-closure, and NIO's client upgrade handler does not hold back the input-closed
/// event while it upgrades, so a node that answers, sends its last frames and closes at once
/// (a port-forward whose dial failed) left the relay waiting for good. Without half-closure the
/// node's close closes the channel, which every handler sees.
struct PinnedWebSocketClient {
    struct Context: WebSocketContext {
        let logger: Logger
    }

    enum Upgrade: Sendable {
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case declined
    }

    typealias Value = EventLoopFuture<Upgrade>
    typealias Result = WebSocketCloseFrame?

    struct Declined: Error, CustomStringConvertible {
        var description: String { "the node declined the WebSocket upgrade" }
    }

    let host: String
    let port: Int
    /// Path and query.
    let target: String
    let pin: String
    let headers: HTTPFields
    let tls: TLSConfiguration
    let maximumFrame: Int
    let handler: WebSocketDataHandler<Context>

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pin = self.pin
            let context = try NIOSSLContext(configuration: tls)
            // No server name: the address is an IP, which TLS may not carry, and the key is
            // what identifies the node.
            let ssl = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, verified in
                let matches = certificates.first.flatMap { try? $0.toDERBytes() }
                    .flatMap { try? TLSIdentity.publicKeyPin(ofCertificateDER: $0) } == pin
                verified.succeed(matches ? .certificateVerified : .failed)
            }
            try channel.pipeline.syncOperations.addHandler(ssl)
            let maximumFrame = self.maximumFrame
            let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: maximumFrame) { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    .webSocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                }
            }
            var head = HTTPHeaders(headers)
            head.replaceOrAdd(name: "Host", value: "\(host):\(port)")
            let upgrade = NIOTypedHTTPClientUpgradeConfiguration(
                upgradeRequestHead: HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: head),
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .declined } })
            var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
            pipeline.leftOverBytesStrategy = .forwardBytes
            return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
        }
    }

    func handle(value: Value, logger: Logger) async throws -> Result {
        switch try await value.get() {
        case let .webSocket(connection):
            return try await WebSocketHandler.handle(
                type: .client,
                configuration: .init(extensions: [], autoPing: .disabled, closeTimeout: PodStreamWebSocket.closeTimeout, validateUTF8: false,
                                     maxFrameSize: maximumFrame),
                asyncChannel: connection, context: Context(logger: logger), handler: handler)
        case .declined:
            throw Declined()
        }
    }

    /// Connects, runs `handler` on the upgraded connection, and returns once it has closed.
    func run(logger: Logger) async throws {
        let upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in setup(channel: channel, logger: logger) }
        _ = try await handle(value: upgrade, logger: logger)
    }
}
