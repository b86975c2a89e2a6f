import FairKube
import Foundation

/// Writes core/v1 Events about an object, the way `kubectl describe` shows them. An event that
/// cannot be written is logged and dropped: it must never fail the reconcile that caused it.
final class EventRecorder: @unchecked Sendable {
    enum Kind: String { case normal = "Normal", warning = "Warning" }

    private let client: KubeClient
    private let component: String
    private let log: (String) -> Void

    init(client: KubeClient, component: String, log: @escaping (String) -> Void) {
        self.client = client
        self.component = component
        self.log = log
    }

    func record(_ object: JSONValue, _ kind: Kind, reason: String, message: String) {
        guard let name = object.name else { return }
        // Events about cluster-scoped objects (nodes) live in "default", as Kubernetes keeps them.
        let namespace = object.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let now = KubeTime.now()
        // Unique per event like the kubelet's names: the object's name and a nanosecond stamp.
        let stamp = String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16)
        let event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(name).\(stamp)\(Int.random(in: 0..<4096))"), "namespace": .string(namespace)],
            "involvedObject": ["apiVersion": object["apiVersion"] ?? .null, "kind": object["kind"] ?? .null,
                               "name": .string(name), "namespace": .string(object.namespace ?? ""),
                               "uid": .string(object.uid ?? ""), "resourceVersion": .string(object.resourceVersion ?? "")],
            "reason": .string(reason), "message": .string(message), "type": .string(kind.rawValue),
            "source": ["component": .string(component)],
            "reportingComponent": .string(component), "reportingInstance": .string(component),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        do {
            _ = try client.create(.events, namespace: namespace, event)
        } catch {
            log("\(component): cannot record event \(reason) for \(namespace)/\(name): \(error)")
        }
    }
}
