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
    init?(_ probe: JSONValue?, container: JSONValue) {
        guard let probe, probe.objectValue != nil else { return nil }
        func seconds(_ key: String, _ fallback: Int64, minimum: Int64) -> TimeInterval {
            TimeInterval(max(minimum, probe[key]?.intValue ?? fallback))
        }
        initialDelay = seconds("initialDelaySeconds", 0, minimum: 0)
        period = seconds("periodSeconds", 10, minimum: 1)
        timeout = seconds("timeoutSeconds", 1, minimum: 1)
        successThreshold = Int(max(1, probe["successThreshold"]?.intValue ?? 1))
        failureThreshold = Int(max(1, probe["failureThreshold"]?.intValue ?? 3))
        if let http = probe["httpGet"] {
            switch Self.port(http["port"], container: container) {
            case let .success(port):
                var path = http["path"]?.stringValue ?? "/"
                if !path.hasPrefix("/") { path = "/" + path }
                let headers = (http["httpHeaders"]?.arrayValue ?? []).compactMap { header -> (String, String)? in
                    guard let name = header["name"]?.stringValue else { return nil }
                    return (name, header["value"]?.stringValue ?? "")
                }
                action = .http(host: http["host"]?.stringValue, port: port, path: path, headers: headers,
                               https: http["scheme"]?.stringValue?.uppercased() == "HTTPS")
            case let .failure(error):
                action = .invalid(error.message)
            }
        } else if let tcp = probe["tcpSocket"] {
            switch Self.port(tcp["port"], container: container) {
            case let .success(port): action = .tcp(host: tcp["host"]?.stringValue, port: port)
            case let .failure(error): action = .invalid(error.message)
            }
        } else if let exec = probe["exec"] {
            action = .exec(KubernetesCommandLine.strings(exec["command"]))
        } else {
            action = .invalid("probe has no supported handler (httpGet, tcpSocket, exec)")
        }
    }

    struct PortError: Error { let message: String }

    /// A number, or the name of one of the container's ports.
    private static func port(_ value: JSONValue?, container: JSONValue) -> Result<Int, PortError> {
        if let number = value?.intValue, (1...65535).contains(number) { return .success(Int(number)) }
        if let text = value?.stringValue {
            if let number = Int(text), (1...65535).contains(number) { return .success(number) }
            let ports = container["ports"]?.arrayValue ?? []
            if let match = ports.first(where: { $0["name"]?.stringValue == text }), let number = match["containerPort"]?.intValue {
                return .success(Int(number))
            }
            return .failure(PortError(message: "probe port \"\(text)\" is not the name of a port of container \(container["name"]?.stringValue ?? "")"))
        }
        return .failure(PortError(message: "probe port is missing or out of range"))
    }
}
