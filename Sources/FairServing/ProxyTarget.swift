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
        let (path, query) = KubernetesProxyPath.splitQuery(requestTarget.dropFirst(prefix.count))
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex else { throw ProxyError.notAServingPath }
        let namespace = path[..<slash]
        let (servicePart, rest) = KubernetesProxyPath.splitSegment(path[path.index(after: slash)...])
        var service = servicePart, port: Substring?
        if let colon = servicePart.firstIndex(of: ":") {
            service = servicePart[..<colon]
            port = servicePart[servicePart.index(after: colon)...]
        }
        guard !service.isEmpty else { throw ProxyError.notAServingPath }
        return ProxyTarget(namespace: namespace, service: service, port: port, forwardedTarget: KubernetesProxyPath.forwarded(rest, query))
    }

    /// The Kubernetes service proxy: `/api/v1/namespaces/{ns}/services/[{scheme}:]{name}[:{port}]/proxy[/{rest}]`.
    /// nil for any other path (the API server's to answer).
    public static func kubernetes(_ requestTarget: String) throws(ProxyError) -> ProxyTarget? {
        guard let path = try KubernetesProxyPath.parse(requestTarget, resource: "services") else { return nil }
        return ProxyTarget(namespace: path.namespace, service: path.name, port: path.port, forwardedTarget: path.forwardedTarget)
    }
}
