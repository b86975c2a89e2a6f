import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Sends one client request to a ready endpoint of its Service and relays the answer. A request
/// whose attempt fails before any of the response arrived (connection refused, or closed: a
/// stopping pod, a keep-alive connection the pod dropped) goes to another endpoint, up to
/// `maxAttempts` in all, as long as its body can be sent again.
final class HTTPForwarder: Sendable {
    let table: EndpointTable
    let pool: BackendConnectionPool
    let health: BackendHealth
    let maxAttempts: Int
    let replayLimit: Int
    let logger: Logger

    init(table: EndpointTable, pool: BackendConnectionPool, health: BackendHealth, maxAttempts: Int = 3,
         replayLimit: Int = 1 << 20, logger: Logger) {
        self.table = table
        self.pool = pool
        self.health = health
        self.maxAttempts = maxAttempts
        self.replayLimit = replayLimit
        self.logger = logger
    }

    /// Where a request goes: the request target for the pod, the backends to pick from (looked
    /// up again on every attempt, as they may change in between), and what to answer when no
    /// attempt got a response.
    struct Destination {
        var forwardedTarget: String
        var backends: () throws(ProxyError) -> (backends: [Backend], picker: RoundRobinPicker)
        var failed: (_ detail: String) -> ProxyError
    }

    /// The pod's response, or the proxy's own error response. Throws only when the client's
    /// request body cannot be read (the client is gone).
    func forward(_ request: Request, to target: ProxyTarget, client: SocketAddress?, dropAuthorization: Bool) async throws -> Response {
        let table = self.table
        let destination = Destination(
            forwardedTarget: target.forwardedTarget,
            backends: { () throws(ProxyError) in
                let port = try Self.resolve(target, in: table)
                return (port.backends, port.picker)
            },
            failed: { .badGateway(namespace: String(target.namespace), name: String(target.service), detail: $0) })
        return try await forward(request, to: destination, client: client, dropAuthorization: dropAuthorization)
    }

    /// The same for one pod, at `backend`.
    func forward(_ request: Request, to target: PodProxyTarget, at backend: Backend, client: SocketAddress?,
                 dropAuthorization: Bool) async throws -> Response {
        let picker = RoundRobinPicker()
        let destination = Destination(
            forwardedTarget: target.forwardedTarget,
            backends: { () throws(ProxyError) in ([backend], picker) },
            failed: { .podUnreachable(namespace: String(target.namespace), name: String(target.pod), detail: $0) })
        return try await forward(request, to: destination, client: client, dropAuthorization: dropAuthorization)
    }

    private func forward(_ request: Request, to destination: Destination, client: SocketAddress?, dropAuthorization: Bool) async throws -> Response {
        do {
            return try await send(request, to: destination, client: client, dropAuthorization: dropAuthorization)
        } catch let error as ProxyError {
            return error.response
        }
    }

    private func send(_ request: Request, to destination: Destination, client: SocketAddress?, dropAuthorization: Bool) async throws -> Response {
        // Checked before the body is read, so a request for a missing Service fails at once.
        _ = try destination.backends()
        var headers = ForwardedHeaders.request(request.head, client: client, dropAuthorization: dropAuthorization)
        let body = try await ForwardedBody.read(request, replayLimit: replayLimit)
        switch body {
        case .empty:
            if request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil { headers.add(name: "Content-Length", value: "0") }
        case let .buffered(bytes):
            headers.add(name: "Content-Length", value: String(bytes.readableBytes))
        case let .streaming(_, _, contentLength):
            if let contentLength {
                headers.add(name: "Content-Length", value: String(contentLength))
            } else {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            }
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue),
                                   uri: destination.forwardedTarget, headers: headers)
        let isHead = request.method == .head

        var tried: [Backend] = []
        var lastFailure: BackendError?
        for _ in 0..<maxAttempts {
            // Resolved again on every attempt: the endpoints may have changed in between.
            let (backends, picker) = try destination.backends()
            guard let backend = picker.pick(from: backends, excluding: tried, health: health) else { break }
            // Back to a pod already tried (the only one left): on a new connection, not another
            // pooled one that may have been closed the same way.
            let again = tried.contains(backend)
            tried.append(backend)
            head.headers.replaceOrAdd(name: "Host", value: backend.hostAndPort)

            let connection: BackendConnection
            do {
                connection = try await pool.acquire(backend, fresh: again)
            } catch {
                health.markUnavailable(backend)
                lastFailure = error as? BackendError ?? .connectFailed(backend, "\(error)")
                logger.debug("service proxy: \(lastFailure!)")
                continue
            }
            do {
                let start: ResponseStart
                switch body {
                case .empty:
                    start = try await connection.exchange(head, body: nil)
                case let .buffered(bytes):
                    start = try await connection.exchange(head, body: bytes)
                case .streaming(let prefix, var rest, _):
                    // Consumed as it is sent: whatever happens from here, it cannot be sent again.
                    connection.beginRequest(head, body: prefix)
                    while let part = try await rest.next() { try await connection.writeBody(part) }
                    start = try await connection.finishRequest()
                }
                return respond(start, over: connection, isHead: isHead)
            } catch let error as BackendError {
                connection.close()
                lastFailure = error
                logger.debug("service proxy: \(error)")
                guard error.isRetriable, body.isReplayable else { throw destination.failed(error.description) }
                // A new connection that closed unanswered: the pod is going away.
                if connection.completedExchanges == 0 { health.markUnavailable(backend) }
            } catch {
                connection.close()
                throw error
            }
        }
        throw destination.failed(lastFailure?.description ?? "no endpoint could be tried")
    }

    /// The Service port a request goes to, or why there is none.
    private static func resolve(_ target: ProxyTarget, in table: EndpointTable) throws(ProxyError) -> RoutePort {
        guard let route = table.route(namespace: target.namespace, name: target.service) else {
            throw .noService(namespace: String(target.namespace), name: String(target.service))
        }
        guard let port = route.port(target.port) else {
            throw .noSuchPort(namespace: route.namespace, name: route.name, port: String(target.port ?? ""),
                              available: route.ports.map { $0.name.isEmpty ? String($0.port) : "\($0.name) (\($0.port))" })
        }
        guard !port.backends.isEmpty else { throw .noReadyEndpoints(namespace: route.namespace, name: route.name) }
        return port
    }

    /// The client's response. When the pod's whole response came with its head (small
    /// responses), the connection goes back to the pool before the client is even answered;
    /// otherwise the body streams through as the pod sends it.
    private func respond(_ start: ResponseStart, over connection: BackendConnection, isHead: Bool) -> Response {
        let status = HTTPResponse.Status(code: Int(start.head.status.code), reasonPhrase: start.head.status.reasonPhrase)
        let headers = ForwardedHeaders.response(start.head.headers)
        let keepAlive = start.head.isKeepAlive
        guard start.body.isEnd, start.body.trailers == nil else {
            let lease = ConnectionLease(connection, pool: pool, keepAlive: keepAlive, logger: logger)
            let first = start.body.bytes
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                try await lease.relay(first: first, to: &writer)
            })
        }
        connection.completed()
        if keepAlive { pool.release(connection) } else { connection.close() }
        var response = Response(status: status, headers: headers, body: start.body.bytes.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
        // No body and no length from the pod: say nothing about a length either (204, 304, HEAD).
        if start.body.bytes == nil && !start.head.headers.contains(name: "Content-Length")
            && (isHead || status.code == 204 || status.code == 304 || status.kind == .informational) {
            response.headers[.contentLength] = nil
        }
        return response
    }
}
