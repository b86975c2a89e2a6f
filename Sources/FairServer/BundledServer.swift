import FairArchive
import FairAPIServer
import FairKube
import FairRegistryServer
import FairServing
import FairTLS
import Foundation
import Hummingbird
import FairHTTPServer
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// `fair server`: the API server with its store (HTTPS, bearer token), the embedded registry
/// (plain HTTP on its own loopback port, as local registries are reached) and the service proxy
/// (plain HTTP on another), in one process. Controllers, the scheduler, node agents and the
/// proxy's watch reach the API like any other client.
public final class BundledServer: @unchecked Sendable {
    public let options: ServerOptions
    public let api: APIServer
    public let registry: RegistryService
    public let serviceProxy: ServiceProxy
    public let token: String
    private let pki: ServerPKI

    /// Asked once the server stops: whether this node's pods stop with it (a Ctrl-C in the
    /// terminal) or keep running to be adopted by the next start (SIGTERM, a service manager).
    public var stopsPodsOnExit: @Sendable () -> Bool = { false }

    public init(options: ServerOptions) throws {
        self.options = options
        // The data directory holds every object (Secrets among them), the registry's blobs and the
        // pods' logs: no other local user may enter it, whatever the umask made of it before.
        try FileManager.default.createDirectory(atPath: options.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        chmod(options.dataDirectory, 0o700)
        token = try ServerToken.load(dataDirectory: options.dataDirectory)
        pki = try ServerPKI.loadOrCreate(directory: "\(options.dataDirectory)/tls", host: options.host)
        api = try APIServer(dataDirectory: options.dataDirectory, token: token,
                            nodeClient: NodeClientCredential(certificateFile: pki.kubeletClientCertificatePath,
                                                             keyFile: pki.kubeletClientKeyPath),
                            serviceIPRange: try options.serviceIPRange())
        // Pods share the host's loopback, so being on loopback proves nothing: pulls are open
        // there (nodes and model servers pull anonymously), but a push, delete or mount needs
        // the server's token or a token scoped to the repository, which a service account gets
        // for what RBAC lets it do there (a training pod's model step, for its model).
        let api = self.api
        registry = try RegistryService(root: "\(options.dataDirectory)/registry",
                                       policy: RegistryAccessPolicy(adminSecret: token, anonymousPull: options.isLoopback,
                                                                    accounts: { api.registryAccess(token: $0) }))
        serviceProxy = ServiceProxy(logger: {
            var logger = Logger(label: "fair.serving")
            logger.logLevel = .warning
            return logger
        }())
    }

    public struct Endpoints: Sendable {
        public var kubeconfig: String
        public var apiURL: String
        public var registry: String
        /// host:port of the service proxy's plain-HTTP port.
        public var serving: String
    }

    /// Serves until SIGINT/SIGTERM, or until the task running it is cancelled. Either way the three
    /// servers shut down gracefully as one `ServiceGroup`: they stop accepting, finish what they
    /// are answering (at most `gracefulShutdownLimit`, then they are cancelled), and the loops stop
    /// after them. `ready` runs once every port is bound and the kubeconfig written.
    static let streamConfiguration = PodStreamWebSocket.configuration

    public func run(ready: @escaping @Sendable (Endpoints) -> Void) async throws {
        let api = self.api, registry = self.registry, serviceProxy = self.serviceProxy, options = self.options, token = self.token
        let logger: Logger = {
            var logger = Logger(label: "fair.server")
            logger.logLevel = .warning
            return logger
        }()
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host

        let controlPlane = ControlPlane(options: options, serviceProxy: serviceProxy, certificateAuthority: pki.authority, api: api)
        api.queueDepths = { controlPlane.queueDepths }
        let registryBound = BoundPort()
        let registryApp = Application(
            responder: CallbackResponder<BasicRequestContext> { request, context in
                if let response = try await registry.handle(request, context: context) { return response }
                return Response(status: .notFound)
            },
            server: .acceptSafeHTTP1(),
            configuration: .init(address: .hostname(options.host, port: options.registryPort), serverName: "fair-registry"),
            onServerRunning: { channel in registryBound.set(channel.localAddress?.port ?? options.registryPort) },
            logger: logger)

        let servingBound = BoundPort()
        let servingApp = Application(
            responder: ServingResponder(proxy: serviceProxy),
            server: .acceptSafeHTTP1(),
            // No server name: the pod's own Server header is the one that passes through.
            configuration: .init(address: .hostname(options.host, port: options.servingPort)),
            onServerRunning: { channel in servingBound.set(channel.localAddress?.port ?? options.servingPort) },
            logger: logger)

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(pki.server.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(pki.server.privateKeyPEM.utf8), format: .pem)))
        // Idle keep-alive clients (watchers, node agents) never answer a close_notify; waiting
        // the default 5 s for each only delays a stop.
        tls.shutdownTimeout = .milliseconds(200)
        // Client certificates are asked for, not required (tokens are the other way in); one
        // that is presented must chain to the cluster's root and be for client use, or the
        // handshake fails. Nodes prove who they are this way.
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pki.authority.certificatePEM.utf8)))
        tls.certificateVerification = .optionalVerification
        let caPEM = pki.authority.certificatePEM
        let apiApp = Application(
            responder: CallbackResponder<APIPortRequestContext> { request, context in
                // The registry answers on the API port too (with the token), for clients that
                // only know the API's address.
                if let response = try await registry.handle(request, context: context, overTLS: true) { return response }
                // So does the service proxy, at the Kubernetes path kubectl users know.
                if let response = try await serviceProxy.respondToKubernetesProxy(
                    request, clientAddress: context.remoteAddress, authorize: { SecretComparison.isBearer($0, token: token) }) {
                    return response
                }
                // And kube-apiserver's pod proxy, which the API server decides with RBAC.
                if let response = try await serviceProxy.respondToPodProxy(
                    request, clientAddress: context.remoteAddress,
                    authorize: { await api.refusal(toProxy: request, context: context, resource: "pods", namespace: String($0.namespace), name: String($0.pod)) },
                    pod: { api.proxiedPod(namespace: String($0.namespace), name: String($0.pod)) }) {
                    return response
                }
                return try await api.handle(request, context: context)
            },
            // exec streams upgrade to WebSocket; every other request, and an upgrade the API
            // server declines, is answered above.
            server: try .tls(.acceptSafeHTTP1(webSocket: Self.streamConfiguration) { head, channel, _ in
                await api.podStreamUpgrade(head) { await APIPortRequestContext.clientCertificateSubject(of: channel) }
            }, tlsConfiguration: tls),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fair"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let url = "https://\(host):\(port)"
                api.externalURL = url
                do {
                    try api.publishKubernetesService(host: host, port: port)
                } catch {
                    logger.error("cannot publish the kubernetes Service: \(error)")
                }
                // Challenges answered on the plain registry port send clients here for tokens.
                registry.tokenRealmOverTLS = "\(url)\(RegistryAccountAccess.tokenPath)"
                let registryPort = await registryBound.wait()
                let registryAddress = "\(host):\(registryPort)"
                let servingAddress = "\(host):\(await servingBound.wait())"
                // The API serves only once this returns: what needs it happens on a thread of its own.
                Thread.detachNewThread {
                    // Published as kind and minikube do (KEP-1755), so `fair train` (and Tilt) find the
                    // registry without being told; before the kubeconfig, which tells clients the server is up.
                    if let failure = Self.publish(LocalRegistryHosting(host: registryAddress, help: "fair server's embedded OCI registry",
                                                                       accountTokenPath: RegistryAccountAccess.tokenPath),
                                                  config: FairKube.Kubeconfig(server: url, certificateAuthorityPEM: caPEM, token: token)) {
                        logger.error("cannot publish the registry address: \(failure)")
                    }
                    do {
                        // The addresses first: the kubeconfig appearing is what tells clients all is up.
                        try (registryAddress + "\n").write(toFile: "\(options.dataDirectory)/registry-address", atomically: true, encoding: .utf8)
                        try (servingAddress + "\n").write(toFile: "\(options.dataDirectory)/serving-address", atomically: true, encoding: .utf8)
                        // The loops start first, so that a client seeing the kubeconfig also finds this
                        // machine's node registered, as after `kind create cluster`.
                        if options.runsControlPlane {
                            do {
                                try controlPlane.start(config: FairKube.Kubeconfig(server: url, certificateAuthorityPEM: caPEM, token: token)) {
                                    logger.warning("\($0)")
                                }
                            } catch {
                                logger.error("the control plane did not start: \(error)")
                            }
                        }
                        let path = try ServerKubeconfig.write(dataDirectory: options.dataDirectory, server: url, token: token,
                                                              certificateAuthorityPEM: caPEM)
                        ready(Endpoints(kubeconfig: path, apiURL: url, registry: registryAddress, serving: servingAddress))
                    } catch {
                        logger.error("cannot write the kubeconfig: \(error)")
                    }
                }
            },
            logger: logger)

        let stopsPods = stopsPodsOnExit
        defer { controlPlane.stop(stoppingPods: stopsPods()) }
        var configuration = ServiceGroupConfiguration(services: [registryApp, servingApp, apiApp],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(Self.gracefulShutdownLimit)
        let group = ServiceGroup(configuration: configuration)
        // A cancelled task (a test's teardown, an embedding program) shuts down as a signal
        // does, rather than tearing connections down mid-write.
        try await withTaskCancellationHandler {
            try await group.run()
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}

extension BundledServer {
    /// How long a stop waits for requests in progress (watches end at once) before cancelling them.
    static let gracefulShutdownLimit: Int64 = 5

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
