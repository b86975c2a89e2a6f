/// Where a kind of object lives in the API: `/api/v1/namespaces/NS/pods`, `/apis/batch/v1/jobs`, …
public struct APIResource: Sendable, Hashable {
    public var group: String
    public var version: String
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.namespaced = namespaced
    }

    public static let namespaces = APIResource(group: "", version: "v1", plural: "namespaces", namespaced: false)
    public static let pods = APIResource(group: "", version: "v1", plural: "pods", namespaced: true)
    public static let nodes = APIResource(group: "", version: "v1", plural: "nodes", namespaced: false)
    public static let services = APIResource(group: "", version: "v1", plural: "services", namespaced: true)
    public static let endpoints = APIResource(group: "", version: "v1", plural: "endpoints", namespaced: true)
    public static let events = APIResource(group: "", version: "v1", plural: "events", namespaced: true)
    public static let configMaps = APIResource(group: "", version: "v1", plural: "configmaps", namespaced: true)
    public static let deployments = APIResource(group: "apps", version: "v1", plural: "deployments", namespaced: true)
    public static let replicaSets = APIResource(group: "apps", version: "v1", plural: "replicasets", namespaced: true)
    public static let jobs = APIResource(group: "batch", version: "v1", plural: "jobs", namespaced: true)

    /// The URL path of the collection (in `namespace` when namespaced), or of one object.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(plural)"
        if let name { path += "/\(name)" }
        if let subresource { path += "/\(subresource)" }
        return path
    }
}
