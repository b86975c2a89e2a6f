import FairKube
import Foundation

extension KubeClient {
    /// A Job, or a not-found error that says where it was looked for.
    public func job(_ name: String, namespace: String) throws -> JSONValue {
        do {
            return try get(.jobs, namespace: namespace, name: name)
        } catch let error as KubeError where error.code == 404 {
            throw KubeError(code: 404, reason: "NotFound", message: "no job \(name) in namespace \(namespace)")
        }
    }

    /// The Job's pods (by the `job-name` label the Job controller sets), oldest first: attempt order.
    public func pods(ofJob name: String, namespace: String) throws -> [JSONValue] {
        let pods = try list(.pods, namespace: namespace, labelSelector: "job-name=\(name)")["items"]?.arrayValue ?? []
        return pods.sorted {
            ($0.value(at: "metadata.creationTimestamp")?.stringValue ?? "", $0.name ?? "")
                < ($1.value(at: "metadata.creationTimestamp")?.stringValue ?? "", $1.name ?? "")
        }
    }
}
