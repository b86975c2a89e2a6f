import FairAPIServer
import FairControllers
import FairKube
import FairNode
import FairScheduler
import FairServing
import FairTLS
import Foundation

/// The loops that make declared state real: controllers, the scheduler, this machine's node
/// agent, and the service proxy's watch on Services and Endpoints. Each reaches the API through
/// the kubeconfig like a separate process would, so any of them could run elsewhere.
final class ControlPlane: @unchecked Sendable {
    private let options: ServerOptions
    private let serviceProxy: ServiceProxy?
    private let certificateAuthority: CertificateAuthority?
    private var controllers: ControllerManager?
    private var scheduler: Scheduler?
    private var node: NodeAgent?
    private var nodeServiceProxy: NodeServiceProxy?
    private let lock = NSLock()
    private var stopped = false

    /// Where the loops' requests go when they run in process (`ServerOptions.inProcess`).
    private let api: APIServer?

    init(options: ServerOptions, serviceProxy: ServiceProxy? = nil, certificateAuthority: CertificateAuthority? = nil, api: APIServer? = nil) {
        self.options = options
        self.api = api
        self.serviceProxy = serviceProxy
        self.certificateAuthority = certificateAuthority
    }

    /// This machine's node talks to the API as itself (`system:node:NAME`), limited by the Node
    /// authorizer as any node is: in process, or with a client certificate from the cluster's
    /// root, as kubeadm writes a control-plane node's kubelet.conf.
    private func nodeClient(config: FairKube.Kubeconfig) throws -> KubeClient {
        let user = UserInfo(name: NodeIdentity.userName(of: options.nodeName), groups: [NodeIdentity.group, UserInfo.authenticatedGroup])
        if options.inProcess, let api { return KubeClient(config: config, transport: InProcessTransport(api: api, user: user)) }
        guard let certificateAuthority else { return try KubeClient(config: config) }
        let identity = try certificateAuthority.issue(commonName: user.name, organization: NodeIdentity.group, profile: .client)
        var nodeConfig = FairKube.Kubeconfig(server: config.server, certificateAuthorityPEM: config.certificateAuthorityPEM,
                                             namespace: config.namespace, context: config.context)
        nodeConfig.clientCertificatePEM = identity.certificatePEM
        nodeConfig.clientKeyPEM = identity.privateKeyPEM
        return try KubeClient(config: nodeConfig)
    }

    /// Starts every loop; an agent that cannot start (runc missing) is reported, not fatal, so
    /// the API stays up for `kubectl` and for nodes joining from elsewhere.
    func start(config: FairKube.Kubeconfig, log: @escaping (String) -> Void) throws {
        let client = try options.inProcess && api != nil
            ? KubeClient(config: config, transport: InProcessTransport(api: api!))
            : KubeClient(config: config)
        var controllerOptions = ControllerOptions()
        controllerOptions.nodeMonitorGracePeriod = options.nodeMonitorGracePeriod
        controllerOptions.localVolumeDirectory = "\(options.dataDirectory)/volumes"
        controllerOptions.clusterSigner = certificateAuthority
        let controllers = ControllerManager(client: client, options: controllerOptions)
        let scheduler = Scheduler(client: client)
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        controllers.start()
        scheduler.start()
        serviceProxy?.start(client: client)
        self.controllers = controllers
        self.scheduler = scheduler
        guard options.runsNode else { return }
        do {
            var nodeOptions = NodeOptions(name: options.nodeName, dataDirectory: "\(options.dataDirectory)/node")
            nodeOptions.podCIDR = options.podCIDR
            nodeOptions.allowPrivileged = options.allowPrivileged
            nodeOptions.cdiSpecDirectories = options.cdiSpecDirectories
            // This machine's node is the cluster's own: its serving certificate comes from the
            // cluster's root, as a kubelet's does once its certificate request is approved.
            nodeOptions.servingCertificateIssuer = certificateAuthority
            // At least four heartbeats per grace period, as kubelet's 10 s against 40 s.
            nodeOptions.heartbeatInterval = min(nodeOptions.heartbeatInterval, options.nodeMonitorGracePeriod / 4)
            var runcOptions = RuncRuntime.Options()
            runcOptions.cgroupParent = "/fair/\(options.nodeName)"
            runcOptions.logWriter = ContainerLogWriter.selfCommand
            let images = try ImageStore(dataDirectory: nodeOptions.dataDirectory, mirrors: options.registryMirrors, layout: options.imageLayout)
            log("images as \(images.layoutDescription)")
            let runtime = try RuncRuntime(dataDirectory: nodeOptions.dataDirectory, images: images, options: runcOptions)
            let client = try nodeClient(config: config)
            let serviceProxy = try NodeServiceProxy(client: client, dns: startClusterDNS(log: log), nodeName: options.nodeName,
                                                    mode: options.serviceProxyMode)
            log("cluster IPs in \(serviceProxy.mode.rawValue)\(serviceProxy.nftablesTable.map { " (nftables table ip \($0))" } ?? "")")
            nodeOptions.clusterDNS = serviceProxy.dns?.address
            serviceProxy.start()
            nodeServiceProxy = serviceProxy
            let node = try NodeAgent(client: client, options: nodeOptions, runtime: runtime)
            try node.start()
            self.node = node
        } catch {
            log("the node agent did not start: \(error)")
        }
    }

    /// The cluster DNS on the service range's tenth address; nil (pods then resolve as the host
    /// does, and it is said why) when it cannot start, e.g. without the root that port 53 needs.
    private func startClusterDNS(log: (String) -> Void) -> ClusterDNSServer? {
        do {
            let range = try ServiceIPRange(cidr: options.serviceCIDR)
            let dns = ClusterDNSServer(address: range.clusterDNSAddress, domain: NodeOptions.defaultClusterDomain,
                                       stateDirectory: "\(options.dataDirectory)/node/dns")
            try dns.start()
            return dns
        } catch {
            log("the cluster DNS did not start: \(error); pods resolve names as this machine does")
            return nil
        }
    }

    /// Queue depths of the running loops, for `/metrics`.
    var queueDepths: [(queue: String, depth: Int)] {
        lock.lock()
        let controllers = self.controllers, scheduler = self.scheduler
        lock.unlock()
        var depths = controllers?.queueDepths ?? []
        if let scheduler { depths.append(("scheduler", scheduler.statistics.pending)) }
        return depths
    }

    /// `stoppingPods`: also stop and remove this node's containers (a stop from the terminal);
    /// otherwise they keep running for the next start to adopt.
    func stop(stoppingPods: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        stopped = true
        serviceProxy?.stop()
        node?.stop()
        nodeServiceProxy?.stop()
        if stoppingPods { node?.stopContainers(grace: Self.podStopGrace) }
        scheduler?.stop()
        controllers?.stop()
    }

    /// How long pods get to end on a stop from the terminal before they are killed.
    static let podStopGrace: TimeInterval = 10
}
