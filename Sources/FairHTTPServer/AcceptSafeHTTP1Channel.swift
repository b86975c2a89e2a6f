import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel, with each accepted connection wrapped in an
/// `AcceptedConnection` so that a server stopping while clients connect closes them instead of
/// crashing (see there). Serving is Hummingbird's own, unchanged.
public struct AcceptSafeHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = AcceptedConnection

    private let base: HTTP1Channel

    public init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP1Channel.Configuration = .init()) {
        self.base = HTTP1Channel(responder: responder, configuration: configuration)
    }

    public var responder: HTTPChannelHandler.Responder { base.responder }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<AcceptedConnection> {
        base.setup(channel: channel, logger: logger).map(AcceptedConnection.init)
    }

    public func handle(value: AcceptedConnection, logger: Logger) async {
        await base.handle(value: value.connection, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 that survives a stop racing an arriving connection; use it (or wrap it in
    /// `.tls(...)`) wherever `.http1()` would be used.
    public static func acceptSafeHTTP1(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in AcceptSafeHTTP1Channel(responder: responder, configuration: configuration) }
    }
}
