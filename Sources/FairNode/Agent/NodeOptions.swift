import FairKube
import FairTLS
import Foundation

/// Which runtime a node agent drives: `runc` for real work, `fake` for scheduling benchmarks.
public enum RuntimeKind: String, Sendable, CaseIterable {
    case runc, fake
}

/// How one node agent runs.
public struct NodeOptions: Sendable {
    /// The Node object's name (and `kubernetes.io/hostname`).
    public var name: String
    /// Pod state, volumes, logs and IP allocations live here; reusing it adopts what a previous run left.
    public var dataDirectory: String
    /// Pod IPs come from this range; it must lie inside 127.0.0.0/8 (pods share the host's network).
    public var podCIDR = "127.20.0.0/16"
    /// The cluster DNS pods resolve through (kubelet's `--cluster-dns`); nil: pods use the host's
    /// resolver configuration whatever their DNS policy.
    public var clusterDNS: String?
    /// The domain Services' names end in (kubelet's `--cluster-domain`).
    public var clusterDomain = NodeOptions.defaultClusterDomain
    public static let defaultClusterDomain = "cluster.local"
    public var heartbeatInterval: TimeInterval = 10
    /// The log server's port on 127.0.0.1; 0 picks a free one.
    public var kubeletPort = 0
    /// Overrides of the detected capacity: cpu, memory, pods, nvidia.com/gpu (quantities).
    public var capacity: [String: String] = [:]
    /// Extra labels on the Node.
    public var labels: [String: String] = [:]
    /// Where CDI specs are read, lowest priority first (`--cdi-spec-dir`): each device kind
    /// found becomes an extended resource of the Node.
    public var cdiSpecDirectories = CDIRegistry.defaultDirectories
    /// How often the runtime is asked whether containers are still running (kubelet's PLEG relist).
    public var relistInterval: TimeInterval = 1
    /// Whether pods may run `privileged` containers (every capability, no seccomp filter, host
    /// kernel interfaces writable). Off: such containers wait with CreateContainerConfigError.
    public var allowPrivileged = false
    /// Signs the log server's certificate when given (the bundled server's own node); otherwise
    /// the certificate signs itself. Either way the API server trusts the key the Node publishes.
    public var servingCertificateIssuer: CertificateAuthority?

    /// Crash-loop back-off: first delay, doubled per restart, capped (kubelet: 10 s to 5 min, reset
    /// after a container ran for 10 min). Internal so tests can shorten them.
    var crashBackOffInitial: TimeInterval = 10
    var crashBackOffMax: TimeInterval = 300
    var crashBackOffReset: TimeInterval = 600
    /// First delay after a failed image pull (doubling to 5 min), and between tries of a pod whose
    /// config cannot be met yet (a missing ConfigMap).
    var imagePullBackOffInitial: TimeInterval = 10
    var configRetryInterval: TimeInterval = 10

    public init(name: String, dataDirectory: String) {
        self.name = name
        self.dataDirectory = dataDirectory
    }
}

/// A mistake in `NodeOptions`, named by field so `fair node` can print it as is.
public struct NodeOptionsError: Error, CustomStringConvertible {
    public let description: String
}

extension NodeOptions {
    /// Checks every field and returns the parsed pod network.
    func validated() throws -> PodNetwork {
        guard !name.isEmpty, name.count <= 253,
              name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }),
              name.first?.isLetter == true || name.first?.isNumber == true,
              name.last?.isLetter == true || name.last?.isNumber == true else {
            throw NodeOptionsError(description: "node name \"\(name)\" is not a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')")
        }
        guard !dataDirectory.isEmpty else { throw NodeOptionsError(description: "the node's data directory is empty") }
        guard heartbeatInterval > 0 else {
            throw NodeOptionsError(description: "heartbeat interval must be positive, got \(heartbeatInterval)")
        }
        guard (0...65535).contains(kubeletPort) else {
            throw NodeOptionsError(description: "kubelet port must be 0...65535, got \(kubeletPort)")
        }
        for (resource, value) in capacity where Quantity(value) == nil {
            throw NodeOptionsError(description: "capacity \(resource)=\"\(value)\" is not a quantity (e.g. 4, 500m, 16Gi)")
        }
        return try PodNetwork(cidr: podCIDR)
    }
}
