/// Permissions across the cluster, or a set of rules a RoleBinding grants within one namespace
/// (rbac.authorization.k8s.io/v1 ClusterRole). The server keeps `cluster-admin`, `admin`,
/// `edit`, `view` and the discovery roles as Kubernetes defines them.
extension KindDefinition {
    public static let clusterRole = KindDefinition(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", namespaced: false,
        validate: { RBACRules.ruleCauses($0, namespaced: false) },
        columns: [.name, RBACRules.createdAt])
}

extension APIResource {
    public static let clusterRoles = KindDefinition.clusterRole.resource
}
