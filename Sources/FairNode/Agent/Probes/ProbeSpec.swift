import FairKube
import Foundation

/// A container's readiness or liveness probe as declared, with Kubernetes' defaults.
struct ProbeSpec: Equatable, Sendable {
    enum Action: Equatable, Sendable {
        case http(host: String?, port: Int, path: String, headers: [(String, String)], https: Bool)
        case tcp(host: String?, port: Int)
        case exec([String])
        /// What the probe cannot do here (a named port that does not exist, gRPC); it fails with this message.
        case invalid(String)

        static func == (lhs: Action, rhs: Action) -> Bool {
            switch (lhs, rhs) {
            case let (.http(h1, p1, path1, headers1, s1), .http(h2, p2, path2, headers2, s2)):
                return h1 == h2 && p1 == p2 && path1 == path2 && s1 == s2 && headers1.elementsEqual(headers2) { $0 == $1 }
            case let (.tcp(h1, p1), .tcp(h2, p2)): return h1 == h2 && p1 == p2
            case let (.exec(a), .exec(b)): return a == b
            case let (.invalid(a), .invalid(b)): return a == b
            default: return false
            }
        }
    }

    var action: Action
    var initialDelay: TimeInterval
    var period: TimeInterval
    var timeout: TimeInterval
    var successThreshold: Int
    var failureThreshold: Int

    /// nil when the container declares no such probe.
    init?(_ probe: Probe?, container: Container) {
        guard let probe else { return nil }
        initialDelay = TimeInterval(max(0, probe.initialDelaySeconds ?? 0))
        period = TimeInterval(max(1, probe.periodSeconds ?? 10))
        timeout = TimeInterval(max(1, probe.timeoutSeconds ?? 1))
        successThreshold = Int(max(1, probe.successThreshold ?? 1))
        failureThreshold = Int(max(1, probe.failureThreshold ?? 3))
        if let http = probe.httpGet {
            switch Self.port(http.port, container: container) {
            case let .success(port):
                var path = http.path ?? "/"
                if !path.hasPrefix("/") { path = "/" + path }
                action = .http(host: http.host, port: port, path: path, headers: http.httpHeaders.map { ($0.name, $0.value) },
                               https: http.scheme?.uppercased() == "HTTPS")
            case let .failure(error):
                action = .invalid(error.message)
            }
        } else if let tcp = probe.tcpSocket {
            switch Self.port(tcp.port, container: container) {
            case let .success(port): action = .tcp(host: tcp.host, port: port)
            case let .failure(error): action = .invalid(error.message)
            }
        } else if let command = probe.execCommand {
            action = .exec(command)
        } else {
            action = .invalid("probe has no supported handler (httpGet, tcpSocket, exec)")
        }
    }

    struct PortError: Error { let message: String }

    /// A number, or the name of one of the container's ports.
    private static func port(_ value: JSONValue?, container: Container) -> Result<Int, PortError> {
        if let number = value?.intValue, (1...65535).contains(number) { return .success(Int(number)) }
        if let text = value?.stringValue {
            if let number = Int(text), (1...65535).contains(number) { return .success(number) }
            if let match = container.ports.first(where: { $0.name == text }), let number = match.containerPort {
                return .success(Int(number))
            }
            return .failure(PortError(message: "probe port \"\(text)\" is not the name of a port of container \(container.name ?? "")"))
        }
        return .failure(PortError(message: "probe port is missing or out of range"))
    }
}
