import Hummingbird

/// The serving port's responder: every request is the service proxy's.
public struct ServingResponder: HTTPResponder {
    public typealias Context = ProxyRequestContext
    public let proxy: ServiceProxy

    public init(proxy: ServiceProxy) { self.proxy = proxy }

    public func respond(to request: Request, context: ProxyRequestContext) async throws -> Response {
        try await proxy.respond(to: request, clientAddress: context.remoteAddress)
    }
}
