import ArgumentParser
import FairNode
import FairServer
import FairServing
import Foundation

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the bundled control plane: API server, scheduler, controllers, a node agent and an OCI registry.",
        discussion: """
        State lives in the data directory (SQLite store, registry blobs, token); restarting with the \
        same directory resumes everything. A kubeconfig for kubectl and fair is written there.
        """)

    @Option(help: "Where the server keeps its state.")
    var dataDir: String = FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share/fair/server"

    @Option(help: "Address of the API (HTTPS), HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:6443"

    @Option(help: "Port of the embedded registry (plain HTTP, same host; 0 picks a free one).")
    var registryPort: Int = 5000

    @Option(help: "Port of the service proxy (plain HTTP, same host; 0 picks a free one): /serving/NAMESPACE/SERVICE/… reaches a Service's ready pods.")
    var servingPort: Int = 0

    @Flag(help: "Do not run a node agent in the server (nodes join with `fair node`).")
    var noNode = false

    @Option(help: "Name of this machine's node (default: the host name).")
    var nodeName: String?

    @Option(help: "Pod addresses of this machine's node, a range inside 127.0.0.0/8.")
    var podCidr: String = "127.20.0.0/16"

    @Option(name: .customLong("service-cluster-ip-range"),
            help: "Services' cluster IPs, a range inside 127.0.0.0/8 apart from the pods' (kube-apiserver's flag).")
    var serviceClusterIPRange: String = ServerOptions.defaultServiceCIDR

    @Option(help: "How this machine's node makes cluster IPs answer (kube-proxy's flag): nftables (the kernel rewrites each connection; needs root and nft), userspace (the node copies the bytes), or auto (nftables when it can).")
    var proxyMode: ServiceProxyMode = .automatic

    @Option(help: "How this machine's node keeps images: snapshots (each layer unpacked once and shared through overlay mounts; needs root), copies (each image unpacked whole), or auto (snapshots when overlay works).")
    var imageLayout: ImageStore.Layout = .automatic

    @Option(name: .customLong("cdi-spec-dir"),
            help: "A directory of CDI specs for this machine's node, read in the order given, later ones overriding (repeatable; default /etc/cdi, then /var/run/cdi).")
    var cdiSpecDirectories: [String] = []

    @Option(help: "Seconds without a heartbeat before a node is NotReady and its pods are replaced.")
    var nodeMonitorGracePeriod: Double = 40

    @Option(name: .customLong("kubeconfig-update"), help: ArgumentHelp(
        "Merge a `fair` context into your kubeconfig ($KUBECONFIG, else ~/.kube/config), current only when none is, as kind and minikube do.",
        valueName: "true|false"))
    var kubeconfigUpdate: Bool = true

    @Flag(help: "Remove the `fair` context from your kubeconfig and exit.")
    var cleanup = false

    @Flag(help: "On Ctrl-C (SIGINT), leave this node's pods running for the next start to adopt, as SIGTERM always does.")
    var keepPods = false

    @Flag(help: "Let pods run privileged containers on this machine's node (every capability, no seccomp filter).")
    var allowPrivileged = false

    @OptionGroup var mirrorOptions: RegistryMirrorOptions

    @Option(name: .customLong("in-process"), help: ArgumentHelp(
        "Whether the bundled controllers, scheduler and node agent call the API server in this process (true, the default), or over HTTPS through the kubeconfig as a separate process would (false).",
        valueName: "true|false"))
    var inProcess: Bool = true

    func run() async throws {
        if cleanup {
            let kubeconfig = UserKubeconfig()
            do {
                let removed = try kubeconfig.remove()
                Console.progress(removed ? "removed the fair context from \(kubeconfig.path)" : "no fair context in \(kubeconfig.path)")
            } catch {
                Console.error("\(error)")
                throw ExitCode.failure
            }
            return
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, got \(listen)")
        }
        var options = ServerOptions(dataDirectory: URL(fileURLWithPath: dataDir).standardizedFileURL.path)
        options.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        options.port = port
        guard (0...65535).contains(registryPort) else { throw ValidationError("--registry-port must be 0...65535") }
        options.registryPort = registryPort
        guard (0...65535).contains(servingPort) else { throw ValidationError("--serving-port must be 0...65535") }
        options.servingPort = servingPort
        options.runsControlPlane = true
        options.runsNode = !noNode
        if let nodeName { options.nodeName = nodeName }
        options.podCIDR = podCidr
        options.serviceCIDR = serviceClusterIPRange
        options.serviceProxyMode = proxyMode
        options.imageLayout = imageLayout
        if !cdiSpecDirectories.isEmpty { options.cdiSpecDirectories = cdiSpecDirectories }
        guard nodeMonitorGracePeriod > 0 else { throw ValidationError("--node-monitor-grace-period must be positive") }
        options.nodeMonitorGracePeriod = nodeMonitorGracePeriod
        options.allowPrivileged = allowPrivileged
        options.inProcess = inProcess
        options.registryMirrors = try mirrorOptions.mirrors()
        let server: BundledServer
        do {
            server = try BundledServer(options: options)
        } catch {
            Console.error("cannot start: \(error)")
            throw ExitCode.failure
        }
        // Ctrl-C in the terminal means "stop all of it": the pods stop too, unless --keep-pods.
        // SIGTERM (a service manager, a restart) leaves them for the next start to adopt.
        let interrupted = InterruptFlag()
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupts.setEventHandler { interrupted.set() }
        interrupts.resume()
        defer { interrupts.cancel() }
        let keepPods = self.keepPods
        server.stopsPodsOnExit = {
            let stopping = interrupted.isSet && !keepPods
            if stopping { Console.progress("stopping this node's pods (fair server --keep-pods leaves them running)") }
            return stopping
        }
        do {
            let update = kubeconfigUpdate
            try await server.run { endpoints in
                Console.progress("fair server: API at \(endpoints.apiURL), registry at \(endpoints.registry), serving at http://\(endpoints.serving)/serving/")
                guard update else {
                    Console.progress("export KUBECONFIG=\(endpoints.kubeconfig)")
                    return
                }
                do {
                    let merged = try UserKubeconfig().merge(from: endpoints.kubeconfig)
                    if merged.madeCurrent {
                        Console.progress("kubectl and fair now use this server: context \"fair\" in \(merged.path) (fair server --cleanup removes it)")
                    } else {
                        Console.progress("context \"fair\" added to \(merged.path); the current context stays \"\(merged.currentContext ?? "")\": "
                            + "use kubectl --context fair, fair train --context fair, or kubectl config use-context fair")
                    }
                } catch {
                    Console.warning("cannot update your kubeconfig (\(error)); export KUBECONFIG=\(endpoints.kubeconfig)")
                }
            }
        } catch {
            Console.error("server stopped: \(error)")
            throw ExitCode.failure
        }
    }
}

/// Set from a signal handler's queue, read when the server stops.
private final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

extension ServiceProxyMode: ExpressibleByArgument {}
extension ImageStore.Layout: ExpressibleByArgument {}
