import FairKube
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The bundled server's service proxy, kube-proxy's job done at the HTTP level (pods share the
/// host's network, each on a loopback address of its own): requests for a Service go to its
/// ready endpoints in turn, over pooled keep-alive connections.
///
/// Two ways in: the serving port's `/serving/{namespace}/{service}[:{port}]/{path}`, and the
/// Kubernetes service proxy path on the API port, `/api/v1/namespaces/{namespace}/services/{name}[:{port}]/proxy/{path}`.
public final class ServiceProxy: Sendable {
    public let table: EndpointTable
    private let pool: BackendConnectionPool
    let health: BackendHealth
    let forwarder: HTTPForwarder
    private let informers = NIOLockedValueBox<EndpointInformers?>(nil)

    public init(eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "fair.serving")) {
        table = EndpointTable()
        pool = BackendConnectionPool(group: eventLoopGroup)
        health = BackendHealth()
        forwarder = HTTPForwarder(table: table, pool: pool, health: health, logger: logger)
    }

    /// Follows Services and Endpoints through `client` until `stop()`.
    public func start(client: KubeClient) {
        let pool = self.pool, health = self.health, table = self.table
        let watch = EndpointInformers(client: client, table: table) { _, _, _ in
            let live = table.backends()
            pool.retain(only: live)
            health.retain(only: live)
        }
        let replaced = informers.withLockedValue { current -> EndpointInformers? in
            defer { current = watch }
            return current
        }
        replaced?.stop()
        watch.start()
    }

    /// Blocks until the informers have their first lists (false if `start` was not called, or on timeout).
    @discardableResult
    public func waitUntilSynced(timeout: TimeInterval = 30) -> Bool {
        informers.withLockedValue { $0 }?.waitUntilSynced(timeout: timeout) ?? false
    }

    public func stop() {
        informers.withLockedValue { current -> EndpointInformers? in
            defer { current = nil }
            return current
        }?.stop()
        pool.closeAll()
    }

    /// Idle pooled connections to pods, for tests and metrics.
    public var idleConnections: Int { pool.idleCount }

    /// The serving port: `/serving/…`, and a 404 with directions for any other path.
    public func respond(to request: Request, clientAddress: SocketAddress?) async throws -> Response {
        let target: ProxyTarget
        do {
            guard let parsed = try ProxyTarget.serving(request.head.path ?? "/") else { return ProxyError.notAServingPath.response }
            target = parsed
        } catch {
            return error.response
        }
        return try await forwarder.forward(request, to: target, client: clientAddress, dropAuthorization: false)
    }

    /// The API port: the Kubernetes service proxy path, for callers `authorize` accepts (given
    /// the Authorization header); nil for every other path, which the API server answers. The
    /// bearer token stays here: it opens the whole API and is no business of a pod.
    public func respondToKubernetesProxy(_ request: Request, clientAddress: SocketAddress?,
                                         authorize: (String?) -> Bool) async throws -> Response? {
        let parsed = Result { () throws(ProxyError) in try ProxyTarget.kubernetes(request.head.path ?? "/") }
        if case .success(nil) = parsed { return nil }
        guard authorize(request.headers[.authorization]) else { return ProxyError.unauthorized.response }
        switch parsed {
        case let .failure(error):
            return error.response
        case let .success(target):
            guard let target else { return nil }
            return try await forwarder.forward(request, to: target, client: clientAddress, dropAuthorization: true)
        }
    }
}
