import FairKube
import Foundation
import Logging
import NIOCore
import NIOPosix

/// What kube-proxy and the cluster DNS do for the pods of one node: every Service's cluster IP
/// answers on each of its TCP ports and reaches a ready endpoint, and every Service's names are
/// published in the node's DNS. One watch on Services and Endpoints feeds both; each change is
/// applied at once.
///
/// Pods share the host's network and the service range lies inside 127.0.0.0/8, so every
/// connection to a cluster IP starts on this host. In nftables mode the kernel rewrites its
/// destination to an endpoint (`KernelClusterIPs`); in userspace mode the node binds the
/// address and copies the bytes (`ClusterIPListeners`).
public final class NodeServiceProxy: Sendable {
    public let table = EndpointTable()
    public let dns: ClusterDNSServer?
    /// The mode in use: never `.automatic`.
    public let mode: ServiceProxyMode
    /// The nftables table holding the node's rules, in nftables mode.
    public let nftablesTable: String?
    private let health = BackendHealth()
    private let listeners: ClusterIPListeners?
    private let kernel: KernelClusterIPs?
    private let informers: EndpointInformers

    /// Throws when `mode` is `.nftables` and this process cannot change the host's nftables;
    /// `.automatic` then falls back to userspace and logs why.
    public init(client: KubeClient, dns: ClusterDNSServer?, nodeName: String, mode: ServiceProxyMode = .automatic,
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "fair.service-proxy")) throws {
        self.dns = dns
        let table = self.table
        let health = self.health
        var kernel: KernelClusterIPs?
        if mode != .userspace {
            do {
                kernel = try Self.kernelClusterIPs(nodeName: nodeName, logger: logger)
            } catch {
                if mode == .nftables { throw error }
                logger.notice("cluster IPs in userspace: \(error)")
            }
        }
        if kernel == nil, geteuid() == 0, let nft = NFTables.find() {
            // Rules a dead node left would still send cluster IPs to addresses nobody serves,
            // whichever mode this node runs in.
            KernelClusterIPs.removeStaleTables(nft: nft, logger: logger)
        }
        self.kernel = kernel
        self.mode = kernel == nil ? .userspace : .nftables
        nftablesTable = kernel?.table
        let listeners = kernel == nil
            ? ClusterIPListeners(group: group, forwarding: ClusterIPForwarding(table: table, health: health, logger: logger), logger: logger)
            : nil
        self.listeners = listeners
        informers = EndpointInformers(client: client, table: table) { namespace, name, route in
            let routes = table.allRoutes()
            kernel?.want(ClusterIPRule.rules(routes))
            listeners?.want(Self.addresses(routes))
            health.retain(only: table.backends())
            dns?.publish(namespace: namespace, name: name, route: route)
        }
    }

    private static func kernelClusterIPs(nodeName: String, logger: Logger) throws -> KernelClusterIPs {
        guard geteuid() == 0 else { throw KernelClusterIPs.Unavailable(description: "nftables needs root") }
        guard let nft = NFTables.find() else { throw KernelClusterIPs.Unavailable(description: "no nft command (Debian's nftables package)") }
        return try KernelClusterIPs(nft: nft, nodeName: nodeName, logger: logger)
    }

    public func start() { informers.start() }

    @discardableResult
    public func waitUntilSynced(timeout: TimeInterval = 30) -> Bool { informers.waitUntilSynced(timeout: timeout) }

    public func stop() {
        informers.stop()
        listeners?.stop()
        kernel?.stop()
        dns?.stop()
    }

    /// `IP:PORT` for every cluster IP answering now.
    public var listening: [String] { (listeners?.listening ?? kernel?.listening ?? []).map(\.description).sorted() }

    static func addresses(_ routes: [ServiceRoute]) -> [ClusterIPListeners.Address: ClusterIPListeners.Target] {
        var addresses: [ClusterIPListeners.Address: ClusterIPListeners.Target] = [:]
        for route in routes {
            guard let clusterIP = route.clusterIP else { continue }
            for port in route.ports {
                addresses[.init(ip: clusterIP, port: port.port)] = .init(namespace: route.namespace, name: route.name, port: port.port)
            }
        }
        return addresses
    }
}
