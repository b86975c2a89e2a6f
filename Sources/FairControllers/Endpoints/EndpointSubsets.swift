import FairKube

/// The `subsets` of a Service's Endpoints: its pods' addresses, ready ones in `addresses` and
/// the rest in `notReadyAddresses`, grouped by the ports they serve. A named `targetPort` is
/// looked up in each pod's containers, so pods may serve one name on different numbers.
enum EndpointSubsets {
    static func build(service: JSONValue, pods: [JSONValue]) -> [JSONValue] {
        let spec = Service(json: service).spec
        let servicePorts = spec.ports
        let publishNotReady = spec.publishNotReadyAddresses ?? false
        // Keyed by the ports (as JSON) so pods that resolve them alike share a subset.
        var groups: [JSONValue: (ready: [JSONValue], notReady: [JSONValue])] = [:]
        for pod in pods where isServing(pod) {
            let ports = JSONValue.array(servicePorts.compactMap { resolve($0, in: pod) })
            if !servicePorts.isEmpty && ports.arrayValue?.isEmpty == true { continue }
            var entry = groups[ports] ?? ([], [])
            if publishNotReady || pod.isReadyPod {
                entry.ready.append(address(of: pod, service: service))
            } else {
                entry.notReady.append(address(of: pod, service: service))
            }
            groups[ports] = entry
        }
        let subsets = groups.map { ports, addresses -> JSONValue in
            var subset: JSONValue = [:]
            if !addresses.ready.isEmpty { subset["addresses"] = .array(sortByIP(addresses.ready)) }
            if !addresses.notReady.isEmpty { subset["notReadyAddresses"] = .array(sortByIP(addresses.notReady)) }
            if ports.arrayValue?.isEmpty == false { subset["ports"] = ports }
            return subset
        }
        // A stable order, so an unchanged set of pods yields an identical object.
        return subsets.sorted { String(decoding: JSONCoding.encode($0), as: UTF8.self) < String(decoding: JSONCoding.encode($1), as: UTF8.self) }
    }

    /// A pod belongs in Endpoints once it has an IP, until it finishes or starts terminating.
    static func isServing(_ pod: JSONValue) -> Bool {
        guard let ip = Pod(json: pod).status.podIP, !ip.isEmpty else { return false }
        return pod.isActivePod
    }

    /// A pod that set `hostname` and a `subdomain` naming this Service is published under that
    /// hostname too (`HOSTNAME.SVC.NS.svc.DOMAIN`), as kube's endpoints controller does.
    private static func address(of pod: JSONValue, service: JSONValue) -> JSONValue {
        let typed = Pod(json: pod)
        var address: JSONValue = ["ip": .string(typed.status.podIP ?? ""),
                                  "targetRef": ["kind": "Pod", "namespace": .string(pod.namespace ?? ""),
                                                "name": .string(pod.name ?? ""), "uid": .string(pod.uid ?? "")]]
        if let node = typed.spec.nodeName { address["nodeName"] = .string(node) }
        if let hostname = typed.spec.hostname, !hostname.isEmpty,
           pod.value(at: "spec.subdomain")?.stringValue == service.name, pod.namespace == service.namespace {
            address["hostname"] = .string(hostname)
        }
        return address
    }

    /// An endpoint port for one service port on one pod; nil when a named target port is not
    /// among the pod's container ports.
    private static func resolve(_ servicePort: ServicePort, in pod: JSONValue) -> JSONValue? {
        let target = servicePort.targetPort ?? servicePort.port.map(JSONValue.int) ?? .null
        let number: Int64
        if let value = target.intValue {
            number = value
        } else if let name = target.stringValue {
            if let value = Int64(name) {
                number = value
            } else {
                let ports = Pod(json: pod).spec.containers.flatMap(\.ports)
                guard let match = ports.first(where: { $0.name == name }), let value = match.containerPort else { return nil }
                number = value
            }
        } else {
            return nil
        }
        var port: JSONValue = ["port": .int(number), "protocol": servicePort.json["protocol"] ?? "TCP"]
        if let name = servicePort.name, !name.isEmpty { port["name"] = .string(name) }
        if let appProtocol = servicePort.json["appProtocol"] { port["appProtocol"] = appProtocol }
        return port
    }

    private static func sortByIP(_ addresses: [JSONValue]) -> [JSONValue] {
        addresses.sorted { ($0["ip"]?.stringValue ?? "", $0.value(at: "targetRef.name")?.stringValue ?? "")
            < ($1["ip"]?.stringValue ?? "", $1.value(at: "targetRef.name")?.stringValue ?? "") }
    }
}
