import FairKube
import Foundation

/// Where a `pods/NAME/proxy` request goes: a pod, which of its ports, and the request target for
/// it. kube-apiserver serves this subresource on every cluster, which is what lets a client reach
/// a pod's HTTP server through the API alone (no Service, no port-forward).
public struct PodProxyTarget: Equatable, Sendable {
    public var namespace: Substring
    public var pod: Substring
    /// A port number (or a container port's name); nil for the pod's first declared port.
    public var port: Substring?
    /// `/` plus what followed `/proxy`, then the query if there was one.
    public var forwardedTarget: String

    /// `/api/v1/namespaces/{ns}/pods/[{scheme}:]{name}[:{port}]/proxy[/{rest}]`; nil for any other path.
    public static func kubernetes(_ requestTarget: String) throws(ProxyError) -> PodProxyTarget? {
        guard let path = try KubernetesProxyPath.parse(requestTarget, resource: "pods") else { return nil }
        return PodProxyTarget(namespace: path.namespace, pod: path.name, port: path.port, forwardedTarget: path.forwardedTarget)
    }

    /// The address to forward to in `pod` (the object as stored, nil when there is none), picked
    /// as kube-apiserver's pod `ResourceLocation` picks it: the pod's IP, and the port asked for,
    /// else the first container port the pod declares, else 80. Unlike kube-apiserver it takes
    /// loopback addresses: on `fair server` every pod has one.
    public func backend(in pod: JSONValue?) throws(ProxyError) -> Backend {
        let namespace = String(self.namespace), name = String(self.pod)
        guard let pod else { throw .podNotFound(namespace: namespace, name: name) }
        let typed = Pod(json: pod)
        guard let ip = typed.status.podIP, !ip.isEmpty else {
            throw .podWithoutAddress(namespace: namespace, name: name, phase: typed.status.phase ?? "Pending")
        }
        let ports = typed.spec.containers.flatMap(\.ports)
        let number: Int
        if let port {
            if let value = Int(port) {
                number = value
            } else if let named = ports.first(where: { $0.name.map { Substring($0) } == port })?.containerPort {
                number = Int(named)
            } else {
                throw .noSuchPodPort(namespace: namespace, name: name, port: String(port))
            }
        } else {
            number = ports.first?.containerPort.map { Int($0) } ?? 80
        }
        guard (1...65535).contains(number), let backend = try? Backend(ip: ip, port: number) else {
            throw .noSuchPodPort(namespace: namespace, name: name, port: String(port ?? "\(number)"))
        }
        return backend
    }
}
