/// The names a Service has in the cluster's DNS, as kube-dns/CoreDNS publish them, written as
/// a hosts file (one per Service) for the DNS server to read:
/// - `SVC.NS.svc.DOMAIN` is the cluster IP; for a headless Service, every ready pod address.
/// - `HOSTNAME.SVC.NS.svc.DOMAIN` is a pod of a headless Service that set `hostname` and a
///   `subdomain` naming the Service (Indexed Jobs and StatefulSets use this).
/// - `SVC.NS.svc.DOMAIN` of an ExternalName Service is what its external name resolves to.
/// Short names (`SVC`, `SVC.NS`) come from the search path in each pod's resolv.conf.
public struct ClusterDNSRecords: Sendable {
    public let domain: String

    public init(domain: String) { self.domain = domain }

    /// The hosts file's name for a Service: namespace and name are DNS labels, which cannot hold
    /// `_`, so no two Services share one.
    public static func fileName(namespace: String, name: String) -> String { "\(namespace)_\(name)" }

    public func serviceName(namespace: String, name: String) -> String { "\(name).\(namespace).svc.\(domain)" }

    /// An ExternalName Service's file: its name at each address its external name resolves to.
    public func hostsFile(for route: ServiceRoute, externalAddresses: [String]) -> String {
        let name = serviceName(namespace: route.namespace, name: route.name)
        return externalAddresses.map { "\($0)\t\(name)\n" }.joined()
    }

    /// The file's text; empty when the Service has no address to publish yet.
    public func hostsFile(for route: ServiceRoute) -> String {
        let name = serviceName(namespace: route.namespace, name: route.name)
        if let clusterIP = route.clusterIP { return "\(clusterIP)\t\(name)\n" }
        guard route.isHeadless else { return "" }
        var text = ""
        for address in route.readyAddresses {
            text += "\(address.ip)\t\(name)\n"
            if let hostname = address.hostname, !hostname.isEmpty { text += "\(address.ip)\t\(hostname).\(name)\n" }
        }
        return text
    }
}
