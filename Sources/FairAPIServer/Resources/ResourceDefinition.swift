/// One API resource the server serves: where it lives in the URL space, what kind it holds, and
/// what discovery says about it (kubectl builds its whole view of the server from discovery).
public struct ResourceDefinition: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var subresources: [String]
    public var categories: [String]
    /// DELETE answers with the deleted object rather than a `Status`, as kube-apiserver's store
    /// for this resource does (`ReturnDeletedObject`); clients decode the answer as that type.
    public var returnsDeletedObject = false

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var groupVersion: String { apiVersion }
    /// The URL path of the group-version, without the leading slash: `api/v1`, `apis/apps/v1`.
    public var groupVersionPath: String { group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)" }
    /// The key objects are stored under: `pods`, `deployments.apps`, …
    public var storageKey: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public static let verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
}

/// Every resource of the Kubernetes subset fair serves.
public enum ResourceCatalog {
    public static let all: [ResourceDefinition] = [
        .init(group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace", namespaced: false,
              shortNames: ["ns"], subresources: ["status"], categories: [], returnsDeletedObject: true),
        .init(group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true,
              shortNames: ["po"], subresources: ["status", "binding", "log"], categories: ["all"], returnsDeletedObject: true),
        .init(group: "", version: "v1", kind: "Node", plural: "nodes", singular: "node", namespaced: false,
              shortNames: ["no"], subresources: ["status"], categories: []),
        .init(group: "", version: "v1", kind: "Service", plural: "services", singular: "service", namespaced: true,
              shortNames: ["svc"], subresources: ["status"], categories: ["all"], returnsDeletedObject: true),
        .init(group: "", version: "v1", kind: "Endpoints", plural: "endpoints", singular: "endpoints", namespaced: true,
              shortNames: ["ep"], subresources: [], categories: []),
        .init(group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true,
              shortNames: ["ev"], subresources: [], categories: []),
        .init(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", singular: "configmap", namespaced: true,
              shortNames: ["cm"], subresources: [], categories: []),
        .init(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", singular: "deployment", namespaced: true,
              shortNames: ["deploy"], subresources: ["status", "scale"], categories: ["all"]),
        .init(group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", singular: "replicaset", namespaced: true,
              shortNames: ["rs"], subresources: ["status", "scale"], categories: ["all"]),
        .init(group: "batch", version: "v1", kind: "Job", plural: "jobs", singular: "job", namespaced: true,
              shortNames: [], subresources: ["status"], categories: ["all"]),
    ]

    public static var groups: [String] { Array(Set(all.map(\.group).filter { !$0.isEmpty })).sorted() }

    public static func find(group: String, version: String, plural: String) -> ResourceDefinition? {
        all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    public static func find(apiVersion: String, kind: String) -> ResourceDefinition? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    public static func resources(group: String, version: String) -> [ResourceDefinition] {
        all.filter { $0.group == group && $0.version == version }
    }
}
