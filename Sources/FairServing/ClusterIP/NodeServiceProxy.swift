import FairKube
import Foundation
import Logging
import NIOCore
import NIOPosix

/// What kube-proxy and the cluster DNS do for the pods of one node: every Service's cluster IP
/// answers on each of its TCP ports and forwards to a ready endpoint (pods share the host's
/// network, and the service range lies inside 127.0.0.0/8, so binding the address is all it
/// takes), and every Service's names are published in the node's DNS. One watch on Services
/// and Endpoints feeds both; each change is applied at once.
public final class NodeServiceProxy: Sendable {
    public let table = EndpointTable()
    public let dns: ClusterDNSServer?
    private let health = BackendHealth()
    private let listeners: ClusterIPListeners
    private let informers: EndpointInformers

    public init(client: KubeClient, dns: ClusterDNSServer?,
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "fair.service-proxy")) {
        self.dns = dns
        let table = self.table
        let listeners = ClusterIPListeners(group: group, forwarding: ClusterIPForwarding(table: table, health: health, logger: logger),
                                           logger: logger)
        self.listeners = listeners
        let health = self.health
        informers = EndpointInformers(client: client, table: table) { namespace, name, route in
            listeners.want(Self.addresses(table.allRoutes()))
            health.retain(only: table.backends())
            dns?.publish(namespace: namespace, name: name, route: route)
        }
    }

    public func start() { informers.start() }

    @discardableResult
    public func waitUntilSynced(timeout: TimeInterval = 30) -> Bool { informers.waitUntilSynced(timeout: timeout) }

    public func stop() {
        informers.stop()
        listeners.stop()
        dns?.stop()
    }

    /// `IP:PORT` for every cluster IP listened on now.
    public var listening: [String] { listeners.listening.map(\.description).sorted() }

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
