/// One cluster IP and TCP port of a Service with the ready endpoints behind it: what the
/// kernel's rules send a new connection to.
struct ClusterIPRule: Equatable, Sendable {
    let ip: String
    let port: Int
    let endpoints: [Backend]

    /// Every cluster IP and port of every Service, in a stable order (so equal tables give equal
    /// rules, and an unchanged table is not applied again).
    static func rules(_ routes: [ServiceRoute]) -> [ClusterIPRule] {
        var rules: [ClusterIPRule] = []
        for route in routes {
            guard let clusterIP = route.clusterIP else { continue }
            for port in route.ports {
                rules.append(ClusterIPRule(ip: clusterIP, port: port.port, endpoints: port.backends))
            }
        }
        return rules.sorted { ($0.ip, $0.port) < ($1.ip, $1.port) }
    }
}
