import Foundation

/// The proxy subresource kube-apiserver serves for Services and pods,
/// `/api/v1/namespaces/{ns}/{services|pods}/[{scheme}:]{name}[:{port}]/proxy[/{rest}]`, split as
/// kube-apiserver splits it. Parsed from the request target as received, so the path and query
/// reach the pod byte for byte (percent-encoding included).
struct KubernetesProxyPath: Equatable {
    var namespace: Substring
    var name: Substring
    /// A port name or number; nil when the path names none.
    var port: Substring?
    /// `/` plus what followed `/proxy`, then the query if there was one.
    var forwardedTarget: String

    /// nil for any other path (the API server's to answer), `resource` being `services` or `pods`.
    static func parse(_ requestTarget: String, resource: String) throws(ProxyError) -> KubernetesProxyPath? {
        let prefix = "/api/v1/namespaces/"
        guard requestTarget.hasPrefix(prefix) else { return nil }
        let (path, query) = splitQuery(requestTarget.dropFirst(prefix.count))
        let (encodedNamespace, afterNamespace) = splitSegment(path)
        let namespace = Substring(encodedNamespace.removingPercentEncoding ?? String(encodedNamespace))
        let collection = "/\(resource)/"
        guard !namespace.isEmpty, afterNamespace.hasPrefix(collection) else { return nil }
        let (encodedNameSpec, afterName) = splitSegment(afterNamespace.dropFirst(collection.count))
        // Clients escape the colons (the Python client sends `logreg%3Ahttp`); the segment means
        // the same either way, as kube-apiserver decodes the path before splitting it.
        let nameSpec = Substring(encodedNameSpec.removingPercentEncoding ?? String(encodedNameSpec))
        guard afterName.hasPrefix("/proxy") else { return nil }
        let rest = afterName.dropFirst("/proxy".count)
        guard rest.isEmpty || rest.hasPrefix("/") else { return nil }
        // [scheme:]name[:port], as kube-apiserver splits it.
        let parts = nameSpec.split(separator: ":", omittingEmptySubsequences: false)
        let name: Substring, port: Substring?
        switch parts.count {
        case 1: (name, port) = (parts[0], nil)
        case 2: (name, port) = (parts[0], parts[1])
        case 3:
            guard parts[0].isEmpty || parts[0] == "http" else { throw ProxyError.unsupportedScheme(String(parts[0])) }
            (name, port) = (parts[1], parts[2])
        default: return nil
        }
        guard !name.isEmpty else { return nil }
        return KubernetesProxyPath(namespace: namespace, name: name, port: port?.isEmpty == true ? nil : port,
                                   forwardedTarget: forwarded(rest, query))
    }

    static func splitQuery(_ target: Substring) -> (path: Substring, query: Substring?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (target[..<mark], target[target.index(after: mark)...])
    }

    /// The first path segment, and the rest starting at its `/` (empty when there is none).
    static func splitSegment(_ path: Substring) -> (segment: Substring, rest: Substring) {
        guard let slash = path.firstIndex(of: "/") else { return (path, path[path.endIndex...]) }
        return (path[..<slash], path[slash...])
    }

    static func forwarded(_ rest: Substring, _ query: Substring?) -> String {
        let path = rest.isEmpty ? "/" : rest
        guard let query else { return String(path) }
        return "\(path)?\(query)"
    }
}
