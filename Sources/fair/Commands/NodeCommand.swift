import ArgumentParser
import FairKube
import FairWorkloads
import FairNode
import FairServing
import Foundation

extension RuntimeKind: ExpressibleByArgument {}

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a node agent: register a Node with an API server and run the pods bound to it.",
        discussion: """
        The agent runs until SIGINT or SIGTERM. Its containers keep running when it stops; started \
        again with the same data directory, it adopts them. Pod addresses come from --pod-cidr, \
        inside 127.0.0.0/8 (pods share the host network).
        """)

    @Option(help: "The kubeconfig the node asks for its own client certificate with (kubelet's bootstrap kubeconfig; default: $KUBECONFIG, else ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The Node's name.")
    var name: String

    @Option(help: "Container runtime: runc, or fake (runs nothing; for scheduling benchmarks).")
    var runtime: RuntimeKind = .runc

    @Option(help: "Pod addresses, an IPv4 CIDR inside 127.0.0.0/8.")
    var podCIDR: String = "127.20.0.0/16"

    @Option(help: "How the node makes cluster IPs answer (kube-proxy's flag): nftables (the kernel rewrites each connection; needs root and nft), userspace (the node copies the bytes), or auto (nftables when it can).")
    var proxyMode: ServiceProxyMode = .automatic

    @Option(help: "How the node keeps images: snapshots (each layer unpacked once and shared through overlay mounts; needs root), copies (each image unpacked whole), or auto (snapshots when overlay works).")
    var imageLayout: ImageStore.Layout = .automatic

    @Option(help: "The cluster DNS address this node serves its pods on (port 53, needs root), inside the server's service range (kubelet's --cluster-dns).")
    var clusterDNS: String = "127.96.0.10"

    @Option(help: "The domain Services' names end in (kubelet's --cluster-domain).")
    var clusterDomain: String = NodeOptions.defaultClusterDomain

    @Option(help: "Where the agent keeps pod state, volumes and logs (default: ~/.local/share/fair/node/NAME).")
    var dataDir: String?

    @Option(help: "Seconds between Node heartbeats.")
    var heartbeatInterval: Double = 10

    @Option(help: "Port of the log server on 127.0.0.1 (0 picks a free one).")
    var kubeletPort: Int = 0

    @OptionGroup var mirrorOptions: RegistryMirrorOptions

    @Option(name: .customLong("label"), help: "An extra Node label, KEY=VALUE (repeatable).")
    var labels: [String] = []

    @Option(name: .customLong("capacity"), help: "A capacity override, RESOURCE=QUANTITY, e.g. cpu=4 or nvidia.com/gpu=1 (repeatable).")
    var capacity: [String] = []

    @Flag(help: "Let pods run privileged containers on this node (every capability, no seccomp filter).")
    var allowPrivileged = false

    @Option(name: .customLong("cdi-spec-dir"),
            help: "A directory of CDI specs, read in the order given, later ones overriding (repeatable; default /etc/cdi, then /var/run/cdi).")
    var cdiSpecDirectories: [String] = []

    /// The agent blocks (start-up, then waiting for a signal): it runs on a thread of its own so
    /// that the Swift concurrency pool stays free for the log server.
    func run() async throws {
        let command = self
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try command.runAgent() })
            }
            thread.name = "fair node"
            thread.start()
        }
    }

    private func runAgent() throws {
        var options = NodeOptions(name: name, dataDirectory: dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share/fair/node/\(name)")
        options.podCIDR = podCIDR
        options.heartbeatInterval = heartbeatInterval
        options.kubeletPort = kubeletPort
        options.labels = try Self.pairs(labels, option: "--label")
        options.capacity = try Self.pairs(capacity, option: "--capacity")
        options.allowPrivileged = allowPrivileged
        options.clusterDomain = clusterDomain
        if !cdiSpecDirectories.isEmpty { options.cdiSpecDirectories = cdiSpecDirectories }

        let containerRuntime: ContainerRuntime
        switch runtime {
        case .fake:
            containerRuntime = FakeRuntime()
        case .runc:
            do {
                var runcOptions = RuncRuntime.Options()
                runcOptions.cgroupParent = "/fair/\(name)"
                runcOptions.logWriter = ContainerLogWriter.selfCommand
                let images = try ImageStore(dataDirectory: options.dataDirectory, mirrors: try mirrorOptions.mirrors(), layout: imageLayout)
                Console.progress("images as \(images.layoutDescription)")
                containerRuntime = try RuncRuntime(dataDirectory: options.dataDirectory, images: images, options: runcOptions)
            } catch {
                Console.error("\(error)")
                throw ExitCode.failure
            }
        }

        let agent: NodeAgent
        var serviceProxy: NodeServiceProxy?
        do {
            // The kubeconfig given is only what asks for the node's own certificate.
            var bootstrap = NodeClientBootstrap(nodeName: name, directory: "\(options.dataDirectory)/pki")
            bootstrap.waiting = { Console.progress("fair node \(name): \($0)") }
            let client = try KubeClient(config: try bootstrap.credentials(bootstrap: try Kubeconfig.load(path: kubeconfig)))
            // Cluster IPs and names for real pods (kube-proxy's and the cluster DNS's part of a
            // node); the fake runtime's pods have no network to serve.
            if runtime == .runc {
                let proxy = try NodeServiceProxy(client: client, dns: startClusterDNS(options: options), nodeName: name, mode: proxyMode)
                options.clusterDNS = proxy.dns?.address
                proxy.start()
                serviceProxy = proxy
            }
            agent = try NodeAgent(client: client, options: options, runtime: containerRuntime)
            try agent.start()
        } catch {
            Console.error("\(error)")
            throw ExitCode.failure
        }
        if runtime == .fake { Console.warning("the fake runtime runs nothing: pods on node \(name) only pretend to run") }
        Console.progress("fair node \(name): running (\(runtime.rawValue) runtime, pods from \(podCIDR), logs on 127.0.0.1:\(agent.kubeletPort)\(serviceProxy.map { ", cluster IPs in \($0.mode.rawValue)" } ?? ""), data in \(options.dataDirectory))")

        let stop = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        stop.wait()
        Console.progress("fair node \(name): stopping (containers keep running and are adopted on the next start)")
        agent.stop()
        serviceProxy?.stop()
        sources.forEach { $0.cancel() }
    }

    private func startClusterDNS(options: NodeOptions) -> ClusterDNSServer? {
        let dns = ClusterDNSServer(address: clusterDNS, domain: clusterDomain, stateDirectory: "\(options.dataDirectory)/dns")
        do {
            try dns.start()
            return dns
        } catch {
            Console.warning("fair node \(name): the cluster DNS did not start: \(error); pods resolve names as this machine does")
            return nil
        }
    }

    private static func pairs(_ values: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("\(option) must be KEY=VALUE, got \"\(value)\"") }
            result[parts[0]] = parts[1]
        }
        return result
    }
}
