/// The kinds fair serves. Adding a kind is a file in this folder and a line here; nothing else
/// lists kinds, and a kind that is not here is an error wherever it is asked for.
public enum KindCatalog {
    public static let all: [KindDefinition] = [
        .namespace,
        .pod,
        .node,
        .service,
        .endpoints,
        .event,
        .configMap,
        .secret,
        .serviceAccount,
        .deployment,
        .replicaSet,
        .statefulSet,
        .daemonSet,
        .job,
        .cronJob,
        .priorityClass,
        .persistentVolume,
        .persistentVolumeClaim,
        .storageClass,
        .role,
        .clusterRole,
        .roleBinding,
        .clusterRoleBinding,
        .certificateSigningRequest,
        .selfSubjectAccessReview,
        .selfSubjectRulesReview,
        .subjectAccessReview,
        .selfSubjectReview,
        .tokenReview,
        .nodeMetrics,
        .podMetrics,
    ]

    public static var groups: [String] { Array(Set(all.map(\.group).filter { !$0.isEmpty })).sorted() }

    public static func find(group: String, version: String, plural: String) -> KindDefinition? {
        all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    public static func find(apiVersion: String, kind: String) -> KindDefinition? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    /// The kind a client addresses through `resource`.
    public static func find(_ resource: APIResource) -> KindDefinition? {
        find(group: resource.group, version: resource.version, plural: resource.plural)
    }

    public static func resources(group: String, version: String) -> [KindDefinition] {
        all.filter { $0.group == group && $0.version == version }
    }
}
