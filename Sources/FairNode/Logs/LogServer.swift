import FairKube
import Foundation
import Hummingbird
import FairHTTPServer
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// The node's log endpoint, kubelet's `GET /containerLogs/{namespace}/{pod}/{container}` with
/// every `PodLogOptions` field kubelet reads: `follow`, `previous`, `tailLines`, `timestamps`,
/// `sinceSeconds`, `sinceTime` and `limitBytes`. Bound to 127.0.0.1 only, and TLS only: a
/// connection without a client certificate from the cluster's root ends in the handshake, so
/// neither logs (they can hold secrets) nor any credential ever cross loopback in clear, where
/// a pod with NET_RAW could read them.
final class LogServer: @unchecked Sendable {
    private let requestedPort: Int
    private let tls: NodeServingIdentity
    private let locate: ContainerLogLocator
    private let exec: NodeExecEndpoint?
    /// kubelet's `/stats/summary`, for the API server's metrics.k8s.io.
    private let summary: (@Sendable () -> JSONValue)?
    private let lock = NSLock()
    private var group: ServiceGroup?
    private var stopped = false
    private(set) var port = 0

    init(port: Int, tls: NodeServingIdentity, locate: @escaping ContainerLogLocator, exec: ContainerExecLocator? = nil,
         pod: PodAddressLocator? = nil, summary: (@Sendable () -> JSONValue)? = nil) {
        requestedPort = port
        self.summary = summary
        self.tls = tls
        self.locate = locate
        self.exec = exec.map { NodeExecEndpoint(locate: $0, locatePod: pod, locateLog: locate) }
    }

    static let webSocketConfiguration = PodStreamWebSocket.configuration

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    private func tlsConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(tls.identity.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.identity.privateKeyPEM.utf8), format: .pem)))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(tls.clientAuthorityPEM.utf8)))
        // On a server this demands a client certificate that chains to the roots above, with
        // client use; host names are a client's concern.
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        configuration.shutdownTimeout = .milliseconds(200)
        return configuration
    }

    /// Binds and serves in the background; returns the port once it accepts connections.
    @discardableResult
    func start(timeout: TimeInterval = 15) throws -> Int {
        let outcome = StartOutcome()
        var logger = Logger(label: "fair.node.logs")
        // Failures to bind come back from `start`; a stop cancels the server, which
        // Hummingbird would log as an error every time.
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder<LogRequestContext> { [self] request, context in
                if let refusal = exec?.refusal(path: request.uri.path, query: request.uri.query, isControlPlane: await context.isControlPlane) {
                    return Self.text(refusal.message + "\n", status: HTTPResponse.Status(code: refusal.status))
                }
                guard await context.isControlPlane else {
                    return Self.text("only the API server reads logs here\n", status: .forbidden)
                }
                return await respond(to: request)
            },
            server: try .tls(.acceptSafeHTTP1(webSocket: Self.webSocketConfiguration) { [exec] head, channel, _ in
                await exec?.decide(head, channel: channel) ?? .dontUpgrade
            }, tlsConfiguration: tlsConfiguration()),
            configuration: .init(address: .hostname("127.0.0.1", port: requestedPort), serverName: "fair-node"),
            onServerRunning: { channel in outcome.finish(.success(channel.localAddress?.port ?? 0)) },
            logger: logger)
        let requested = requestedPort
        // Run as a ServiceGroup so that a stop is a graceful shutdown (stop accepting, let
        // responses in progress end), never a cancellation in the middle of a write.
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(Self.gracefulShutdownLimit)
        let group = ServiceGroup(configuration: configuration)
        Task {
            do {
                try await group.run()
                outcome.finish(.failure(StartError(description: "the log server on 127.0.0.1:\(requested) stopped at once")))
            } catch {
                outcome.finish(.failure(StartError(description: "cannot serve logs on 127.0.0.1:\(requested): \(error)")))
            }
        }
        lock.lock()
        self.group = group
        lock.unlock()
        guard let result = outcome.wait(timeout: timeout) else {
            stop()
            throw StartError(description: "the log server on 127.0.0.1:\(requested) did not start within \(Int(timeout)) s")
        }
        switch result {
        case let .success(bound):
            port = bound
            return bound
        case let .failure(error):
            stop()
            throw error
        }
    }

    /// Follows notice a stop within a poll (0.2 s); this bounds a stuck response.
    static let gracefulShutdownLimit: Int64 = 5

    /// Stops accepting, and ends follows in progress at their next poll.
    func stop() {
        lock.lock()
        stopped = true
        let group = self.group
        self.group = nil
        lock.unlock()
        if let group { Task { await group.triggerGracefulShutdown() } }
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    // MARK: - Requests

    private func respond(to request: Request) async -> Response {
        guard request.method == .get else {
            return Self.text("only GET is served here\n", status: .methodNotAllowed)
        }
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        if segments == ["stats", "summary"], let summary {
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: JSONCoding.encodeBytes(summary()))))
        }
        guard segments.count == 4, segments[0] == "containerLogs" else {
            return Self.text("not found: logs are at /containerLogs/{namespace}/{pod}/{container}\n", status: .notFound)
        }
        let query = request.uri.queryParameters
        func flag(_ name: String) -> Bool { QueryFlag.value(query[name[...]].map(String.init)) }
        var options = ContainerLogOptions(follow: flag("follow"), timestamps: flag("timestamps"), previous: flag("previous"))
        if let text = query["tailLines"] {
            guard let lines = Int(text), lines >= 0 else {
                return Self.text("tailLines must be a non-negative integer, got \"\(text)\"\n", status: .badRequest)
            }
            options.tailLines = lines
        }
        if let text = query["limitBytes"] {
            guard let bytes = Int(text), bytes > 0 else {
                return Self.text("limitBytes must be a positive integer, got \"\(text)\"\n", status: .badRequest)
            }
            options.limitBytes = bytes
        }
        if let text = query["sinceSeconds"] {
            guard let seconds = Int(text), seconds > 0 else {
                return Self.text("sinceSeconds must be a positive integer, got \"\(text)\"\n", status: .badRequest)
            }
            options.since = Date().addingTimeInterval(-TimeInterval(seconds))
        }
        if let text = query["sinceTime"] {
            guard options.since == nil else {
                return Self.text("at most one of sinceTime or sinceSeconds may be specified\n", status: .badRequest)
            }
            guard let time = KubeTime.parse(String(text)) else {
                return Self.text("sinceTime must be an RFC 3339 time, got \"\(text)\"\n", status: .badRequest)
            }
            options.since = time
        }
        let source: ContainerLogSource
        do {
            source = try locate(segments[1], segments[2], segments[3], options.previous)
        } catch let error as ContainerLogError {
            return Self.text(error.message + "\n", status: HTTPResponse.Status(code: error.status))
        } catch {
            return Self.text("\(error)\n", status: .internalServerError)
        }
        let streamer = LogStreamer(source: source, options: options, isStopped: { [weak self] in self?.isStopped ?? true })
        let body = ResponseBody { writer in
            try await streamer.stream { bytes in try await writer.write(ByteBuffer(bytes: bytes)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    private static func text(_ message: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}

/// The first of "bound on port N" or "failed", handed from the server task to `start`.
private final class StartOutcome: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Int, Error>?

    func finish(_ value: Result<Int, Error>) {
        condition.lock(); defer { condition.unlock() }
        if result == nil { result = value }
        condition.broadcast()
    }

    func wait(timeout: TimeInterval) -> Result<Int, Error>? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        while result == nil {
            if !condition.wait(until: deadline) { break }
        }
        return result
    }
}
