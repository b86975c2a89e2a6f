import FairAPIServer
import FairNode
import FairServing
import Foundation

/// How `fair server` runs.
public struct ServerOptions: Sendable {
    public var dataDirectory: String
    public var host: String = "127.0.0.1"
    /// 0 picks a free port; the kubeconfig records the one in use.
    public var port: Int = 6443
    /// The embedded registry's plain-HTTP port on the same host (0: a free one).
    public var registryPort: Int = 5000
    /// The service proxy's plain-HTTP port on the same host (0: a free one), where
    /// `/serving/{namespace}/{service}/…` reaches a Service's ready pods.
    public var servingPort: Int = 0

    /// Run the controllers and the scheduler (and the node agent, below) in the server process.
    /// `fair server` does; a test of one component runs only that component.
    public var runsControlPlane = false
    /// Run a node agent for this machine in the server process (`--no-node` turns it off).
    public var runsNode = true
    /// The node's name; like a kubelet, the machine's host name by default.
    public var nodeName: String = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init)?.lowercased() ?? "fair-node"
    /// Where this machine's node puts pod addresses (inside 127.0.0.0/8).
    public var podCIDR = "127.20.0.0/16"
    /// Where Services' cluster IPs come from (inside 127.0.0.0/8, apart from every pod range).
    public var serviceCIDR = ServerOptions.defaultServiceCIDR
    public static let defaultServiceCIDR = "127.96.0.0/16"
    /// How the node makes cluster IPs answer (kube-proxy's `--proxy-mode`).
    public var serviceProxyMode: ServiceProxyMode = .automatic
    /// How the node keeps images: shared layer snapshots (overlay) or a copy per image.
    public var imageLayout: ImageStore.Layout = .automatic
    /// Where this machine's node reads CDI specs (`--cdi-spec-dir`), lowest priority first.
    public var cdiSpecDirectories = CDIRegistry.defaultDirectories
    /// A node is NotReady after this long without a heartbeat (kube-controller-manager's flag).
    public var nodeMonitorGracePeriod: Double = 40
    /// Let this machine's node run `privileged` containers (refused by default).
    public var allowPrivileged = false
    /// The bundled loops (controllers, scheduler, node agent, service proxy) call the API server's
    /// handlers in this process; false: over HTTPS through the kubeconfig, as a remote process.
    /// On by default: it binds more pods a second for less CPU than HTTPS. Under the scheduling
    /// benchmark's open-loop burst, creation then outruns binding for a while, so pods wait longer
    /// from creation to binding (a backlog; see README's control-plane benchmarks).
    public var inProcess = true
    /// Where this machine's node pulls images of each registry from first.
    public var registryMirrors = RegistryMirrors()

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// Loopback-only servers allow anonymous registry access (pushes from the same machine);
    /// anything reachable from elsewhere needs the token for everything.
    public var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}

extension ServerOptions {
    /// The Services' range, checked against the pods': a cluster IP that could also be a pod's
    /// address would send a Service's traffic to whichever bound it first.
    func serviceIPRange() throws -> ServiceIPRange {
        let services: ServiceIPRange
        do {
            services = try ServiceIPRange(cidr: serviceCIDR)
        } catch {
            throw ServerOptionsError(description: "--service-cluster-ip-range \(serviceCIDR): \(error)")
        }
        if runsNode, let pods = try? ServiceIPRange(cidr: podCIDR), services.overlaps(pods) {
            throw ServerOptionsError(description: "--service-cluster-ip-range \(serviceCIDR) overlaps --pod-cidr \(podCIDR): Services and pods need addresses of their own")
        }
        return services
    }
}

public struct ServerOptionsError: Error, CustomStringConvertible {
    public let description: String
}
