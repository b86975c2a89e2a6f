import FairKube

/// What the proxies and the cluster's DNS know of one Service: its cluster IP, its ports in
/// declared order, each with the ready endpoints serving it, and its ready pods' addresses, from
/// the Service's `spec` and its Endpoints' `subsets`. Immutable: the endpoint table swaps in a
/// new one whenever either object changes.
public final class ServiceRoute: Sendable {
    public let namespace: String
    public let name: String
    public let ports: [RoutePort]
    /// The address the Service answers on; nil for a headless Service (`clusterIP: None`), an
    /// ExternalName one, or one not yet given an address.
    public let clusterIP: String?
    /// `clusterIP: None`: its name resolves to its pods' addresses instead of one of its own.
    public let isHeadless: Bool
    /// `type: ExternalName`: its name stands for this one, outside the cluster.
    public let externalName: String?
    /// Every ready address with the hostname its pod asked for (`hostname` + `subdomain` naming
    /// this Service), once each, in the Endpoints' order: the records a headless Service has.
    public let readyAddresses: [ReadyAddress]

    public struct ReadyAddress: Sendable, Equatable {
        public let ip: String
        public let hostname: String?
    }

    public init(service: JSONValue, endpoints: JSONValue?) {
        namespace = service.namespace ?? "default"
        name = service.name ?? ""
        let address = service.value(at: "spec.clusterIP")?.stringValue ?? ""
        let type = service.value(at: "spec.type")?.stringValue ?? "ClusterIP"
        isHeadless = address == "None" && type != "ExternalName"
        clusterIP = address.isEmpty || address == "None" || type == "ExternalName" ? nil : address
        externalName = type == "ExternalName" ? service.value(at: "spec.externalName")?.stringValue.flatMap { $0.isEmpty ? nil : $0 } : nil
        let subsets = endpoints?["subsets"]?.arrayValue ?? []
        var seen = Set<String>()
        readyAddresses = subsets.flatMap { $0["addresses"]?.arrayValue ?? [] }.compactMap { address in
            guard let ip = address["ip"]?.stringValue, seen.insert(ip).inserted else { return nil }
            return ReadyAddress(ip: ip, hostname: address["hostname"]?.stringValue)
        }
        ports = (service.value(at: "spec.ports")?.arrayValue ?? []).compactMap { servicePort in
            guard (servicePort["protocol"]?.stringValue ?? "TCP") == "TCP",
                  let number = servicePort["port"]?.intValue else { return nil }
            let portName = servicePort["name"]?.stringValue ?? ""
            return RoutePort(name: portName, port: Int(number), backends: Self.readyBackends(named: portName, in: subsets))
        }
    }

    /// The port a request asked for (a name or a number, as in `services/NAME:PORT/proxy`), or
    /// the first one when it named none.
    public func port(_ selector: Substring?) -> RoutePort? {
        guard let selector, !selector.isEmpty else { return ports.first }
        if let number = Int(selector), let match = ports.first(where: { $0.port == number }) { return match }
        return ports.first { $0.name == selector }
    }

    /// Ready addresses only: `notReadyAddresses` are pods still starting (or failing their
    /// readiness probe), which must never see traffic.
    private static func readyBackends(named portName: String, in subsets: [JSONValue]) -> [Backend] {
        var backends: [Backend] = []
        for subset in subsets {
            guard let endpointPort = (subset["ports"]?.arrayValue ?? []).first(where: {
                ($0["name"]?.stringValue ?? "") == portName && ($0["protocol"]?.stringValue ?? "TCP") == "TCP"
            }), let number = endpointPort["port"]?.intValue else { continue }
            for address in subset["addresses"]?.arrayValue ?? [] {
                guard let ip = address["ip"]?.stringValue, let backend = try? Backend(ip: ip, port: Int(number)),
                      !backends.contains(backend) else { continue }
                backends.append(backend)
            }
        }
        return backends
    }
}

/// One port of a Service and the backends that serve it, picked in turn.
public final class RoutePort: Sendable {
    /// Empty when the Service's port has no name (allowed when it has only one).
    public let name: String
    /// The Service's port number (not the pods' target port).
    public let port: Int
    public let backends: [Backend]
    let picker = RoundRobinPicker()

    init(name: String, port: Int, backends: [Backend]) {
        self.name = name
        self.port = port
        self.backends = backends
    }
}
