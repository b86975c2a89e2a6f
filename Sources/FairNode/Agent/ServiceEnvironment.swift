import FairKube

/// The variables kubelet gives every container for each Service of its namespace (unless the
/// pod sets `enableServiceLinks: false`), the docker-links shape old programs still read:
/// `SVC_SERVICE_HOST`, `SVC_SERVICE_PORT` (the first port), `SVC_SERVICE_PORT_NAME` for each
/// named port, `SVC_PORT=tcp://IP:PORT` and `SVC_PORT_PORT_TCP{,_PROTO,_PORT,_ADDR}`. A
/// Service without a cluster IP (headless, ExternalName, not yet allocated) has none.
enum ServiceEnvironment {
    static func variables(for services: [JSONValue]) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = []
        for service in services.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            guard let name = service.name,
                  let ip = service.value(at: "spec.clusterIP")?.stringValue, !ip.isEmpty, ip != "None",
                  let ports = service.value(at: "spec.ports")?.arrayValue, let first = ports.first?["port"]?.intValue
            else { continue }
            let prefix = variableName(name)
            let host = ip.contains(":") ? "[\(ip)]" : ip
            variables.append(("\(prefix)_SERVICE_HOST", ip))
            variables.append(("\(prefix)_SERVICE_PORT", String(first)))
            for port in ports {
                guard let portName = port["name"]?.stringValue, !portName.isEmpty, let number = port["port"]?.intValue else { continue }
                variables.append(("\(prefix)_SERVICE_PORT_\(variableName(portName))", String(number)))
            }
            for (index, port) in ports.enumerated() {
                guard let number = port["port"]?.intValue else { continue }
                let proto = port["protocol"]?.stringValue ?? "TCP"
                let url = "\(proto.lowercased())://\(host):\(number)"
                if index == 0 { variables.append(("\(prefix)_PORT", url)) }
                let portPrefix = "\(prefix)_PORT_\(number)_\(proto.uppercased())"
                variables.append((portPrefix, url))
                variables.append(("\(portPrefix)_PROTO", proto.lowercased()))
                variables.append(("\(portPrefix)_PORT", String(number)))
                variables.append(("\(portPrefix)_ADDR", ip))
            }
        }
        return variables
    }

    /// `my-svc` → `MY_SVC`.
    static func variableName(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
