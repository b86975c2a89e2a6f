import Foundation

/// Where a proxied request goes: a Service, which of its ports, and the request target for the
/// pod. Parsed from the request target as received, so the path and query reach the pod
/// byte-for-byte (percent-encoding included).
public struct ProxyTarget: Equatable, Sendable {
    public var namespace: Substring
    public var service: Substring
    /// A port name or number; nil for the Service's first port.
    public var port: Substring?
    /// `/` plus what followed the Service in the path, then the query if there was one.
    public var forwardedTarget: String

    /// The dedicated serving port's route: `/serving/{namespace}/{service}[:{port}]/{rest}`.
    /// nil when the path is not under `/serving/`; a `ProxyError` when it is, but names no Service.
    public static func serving(_ requestTarget: String) throws(ProxyError) -> ProxyTarget? {
        let prefix = "/serving/"
        guard requestTarget.hasPrefix(prefix) else { return nil }
        let (path, query) = splitQuery(requestTarget.dropFirst(prefix.count))
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex else { throw ProxyError.notAServingPath }
        let namespace = path[..<slash]
        let (servicePart, rest) = splitSegment(path[path.index(after: slash)...])
        var service = servicePart, port: Substring?
        if let colon = servicePart.firstIndex(of: ":") {
            service = servicePart[..<colon]
            port = servicePart[servicePart.index(after: colon)...]
        }
        guard !service.isEmpty else { throw ProxyError.notAServingPath }
        return ProxyTarget(namespace: namespace, service: service, port: port, forwardedTarget: forwarded(rest, query))
    }

    /// The Kubernetes service proxy: `/api/v1/namespaces/{ns}/services/[{scheme}:]{name}[:{port}]/proxy[/{rest}]`.
    /// nil for any other path (the API server's to answer).
    public static func kubernetes(_ requestTarget: String) throws(ProxyError) -> ProxyTarget? {
        let prefix = "/api/v1/namespaces/"
        guard requestTarget.hasPrefix(prefix) else { return nil }
        let (path, query) = splitQuery(requestTarget.dropFirst(prefix.count))
        let (encodedNamespace, afterNamespace) = splitSegment(path)
        let namespace = Substring(encodedNamespace.removingPercentEncoding ?? String(encodedNamespace))
        guard !namespace.isEmpty, afterNamespace.hasPrefix("/services/") else { return nil }
        let (encodedNameSpec, afterName) = splitSegment(afterNamespace.dropFirst("/services/".count))
        // Clients escape the colons (the Python client sends `logreg%3Ahttp`); the segment means
        // the same either way, as kube-apiserver decodes the path before splitting it.
        let nameSpec = Substring(encodedNameSpec.removingPercentEncoding ?? String(encodedNameSpec))
        guard afterName.hasPrefix("/proxy") else { return nil }
        let rest = afterName.dropFirst("/proxy".count)
        guard rest.isEmpty || rest.hasPrefix("/") else { return nil }
        // [scheme:]name[:port], as kube-apiserver splits it.
        let parts = nameSpec.split(separator: ":", omittingEmptySubsequences: false)
        let service: Substring, port: Substring?
        switch parts.count {
        case 1: (service, port) = (parts[0], nil)
        case 2: (service, port) = (parts[0], parts[1])
        case 3:
            guard parts[0].isEmpty || parts[0] == "http" else { throw ProxyError.unsupportedScheme(String(parts[0])) }
            (service, port) = (parts[1], parts[2])
        default: return nil
        }
        guard !service.isEmpty else { return nil }
        return ProxyTarget(namespace: namespace, service: service, port: port?.isEmpty == true ? nil : port,
                           forwardedTarget: forwarded(rest, query))
    }

    private static func splitQuery(_ target: Substring) -> (path: Substring, query: Substring?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (target[..<mark], target[target.index(after: mark)...])
    }

    /// The first path segment, and the rest starting at its `/` (empty when there is none).
    private static func splitSegment(_ path: Substring) -> (segment: Substring, rest: Substring) {
        guard let slash = path.firstIndex(of: "/") else { return (path, path[path.endIndex...]) }
        return (path[..<slash], path[slash...])
    }

    private static func forwarded(_ rest: Substring, _ query: Substring?) -> String {
        let path = rest.isEmpty ? "/" : rest
        guard let query else { return String(path) }
        return "\(path)?\(query)"
    }
}
