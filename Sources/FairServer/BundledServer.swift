import FairAPIServer
import FairKube
import FairRegistryServer
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging

/// `fair server`: the API server with its store (HTTPS, bearer token) and the embedded registry
/// (plain HTTP on its own loopback port, as local registries are reached), in one process.
/// Controllers, the scheduler and node agents reach the API like any other client.
public final class BundledServer: @unchecked Sendable {
    public let options: ServerOptions
    public let api: APIServer
    public let registry: RegistryService
    public let token: String
    private let certificate: ServerCertificate

    public init(options: ServerOptions) throws {
        self.options = options
        try FileManager.default.createDirectory(atPath: options.dataDirectory, withIntermediateDirectories: true)
        token = try ServerToken.load(dataDirectory: options.dataDirectory)
        certificate = try ServerCertificate.loadOrCreate(directory: "\(options.dataDirectory)/tls", host: options.host)
        api = try APIServer(dataDirectory: options.dataDirectory, token: token)
        let token = self.token
        let openOnLoopback = options.isLoopback
        registry = try RegistryService(root: "\(options.dataDirectory)/registry") { _, _, authorization in
            if openOnLoopback { return true }
            return authorization == "Bearer \(token)"
        }
    }

    public struct Endpoints: Sendable {
        public var kubeconfig: String
        public var apiURL: String
        public var registry: String
    }

    /// Serves until SIGINT/SIGTERM. `ready` runs once both ports are bound and the kubeconfig written.
    public func run(ready: @escaping @Sendable (Endpoints) -> Void) async throws {
        let api = self.api, registry = self.registry, options = self.options, token = self.token
        let logger: Logger = {
            var logger = Logger(label: "fair.server")
            logger.logLevel = .warning
            return logger
        }()
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host

        let controlPlane = ControlPlane(options: options)
        api.queueDepths = { controlPlane.queueDepths }
        let registryBound = BoundPort()
        let registryApp = Application(
            responder: CallbackResponder<BasicRequestContext> { request, context in
                if let response = try await registry.handle(request, context: context) { return response }
                return Response(status: .notFound)
            },
            configuration: .init(address: .hostname(options.host, port: options.registryPort), serverName: "fair-registry"),
            onServerRunning: { channel in registryBound.set(channel.localAddress?.port ?? options.registryPort) },
            logger: logger)

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificate.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificate.privateKeyPEM.utf8), format: .pem)))
        // Idle keep-alive clients (watchers, node agents) never answer a close_notify; waiting
        // the default 5 s for each only delays a stop.
        tls.shutdownTimeout = .milliseconds(200)
        let caPEM = certificate.certificatePEM
        let apiApp = Application(
            responder: CallbackResponder<BasicRequestContext> { request, context in
                // The registry answers on the API port too (with the token), for clients that
                // only know the API's address.
                if let response = try await registry.handle(request, context: context) { return response }
                return try await api.handle(request, context: context)
            },
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fair"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let url = "https://\(host):\(port)"
                let registryPort = await registryBound.wait()
                let registryAddress = "\(host):\(registryPort)"
                // The API serves only once this returns: what needs it happens on a thread of its own.
                Thread.detachNewThread {
                    // Published as kind and minikube do (KEP-1755), so `fair train` (and Tilt) find the
                    // registry without being told; before the kubeconfig, which tells clients the server is up.
                    if let failure = Self.publish(LocalRegistryHosting(host: registryAddress, help: "fair server's embedded OCI registry"),
                                                  config: FairKube.Kubeconfig(server: url, certificateAuthorityPEM: caPEM, token: token)) {
                        logger.error("cannot publish the registry address: \(failure)")
                    }
                    do {
                        let path = try ServerKubeconfig.write(dataDirectory: options.dataDirectory, server: url, token: token,
                                                              certificateAuthorityPEM: caPEM)
                        try (registryAddress + "\n").write(toFile: "\(options.dataDirectory)/registry-address", atomically: true, encoding: .utf8)
                        if options.runsControlPlane {
                            do {
                                try controlPlane.start(kubeconfig: path) { logger.warning("\($0)") }
                            } catch {
                                logger.error("the control plane did not start: \(error)")
                            }
                        }
                        ready(Endpoints(kubeconfig: path, apiURL: url, registry: registryAddress))
                    } catch {
                        logger.error("cannot write the kubeconfig: \(error)")
                    }
                }
            },
            logger: logger)

        defer { controlPlane.stop() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await registryApp.runService() }
            group.addTask { try await apiApp.runService() }
            try await group.next()
            group.cancelAll()
        }
    }
}

extension BundledServer {
    /// Retried briefly: the listener may take a moment to accept after it is bound.
    static func publish(_ hosting: LocalRegistryHosting, config: FairKube.Kubeconfig) -> Error? {
        var last: Error?
        for _ in 0..<50 {
            do {
                try hosting.publish(with: try KubeClient(config: config))
                return nil
            } catch {
                last = error
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        return last
    }
}

/// A port number published by one server's start-up and awaited by another's.
final class BoundPort: @unchecked Sendable {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []
    private let lock = NSLock()

    func set(_ value: Int) {
        lock.lock()
        port = value
        let pending = waiters
        waiters = []
        lock.unlock()
        for waiter in pending { waiter.resume(returning: value) }
    }

    func wait() async -> Int {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let port {
                lock.unlock()
                continuation.resume(returning: port)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}
