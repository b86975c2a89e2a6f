import Foundation

extension KubeClient {
    /// Creates `object`, or replaces the existing one of the same name with it (kept: its
    /// resourceVersion, and a Service's allocated cluster IPs). What `fair serve` needs from
    /// `kubectl apply` for objects it owns whole.
    @discardableResult
    public func createOrReplace(_ resource: APIResource, _ object: JSONValue) throws -> JSONValue {
        let namespace = object.namespace ?? config.namespace
        do {
            return try create(resource, namespace: namespace, object)
        } catch let error as KubeError where error.code == 409 {
            for _ in 0..<5 {
                let current = try get(resource, namespace: namespace, name: object.name ?? "")
                var replacement = object
                replacement["metadata"]?["resourceVersion"] = current.value(at: "metadata.resourceVersion")
                for field in KindCatalog.find(resource)?.allocatedFields ?? [] {
                    if let value = current.value(at: field) { replacement.set(value, at: field) }
                }
                do {
                    return try update(resource, replacement)
                } catch let error as KubeError where error.code == 409 {
                    continue  // changed in between: read it again
                }
            }
            throw KubeError(code: 409, reason: "Conflict", message: "\(resource.plural)/\(object.name ?? "") kept changing while it was replaced; try again")
        }
    }
}
