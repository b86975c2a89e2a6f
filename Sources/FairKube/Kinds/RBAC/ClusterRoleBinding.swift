/// Grants a ClusterRole everywhere (rbac.authorization.k8s.io/v1 ClusterRoleBinding). Its role
/// cannot change once made.
extension KindDefinition {
    public static let clusterRoleBinding = KindDefinition(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", namespaced: false,
        defaults: { RBACRules.defaultSubjects(&$0) },
        validate: { RBACRules.bindingCauses($0, clusterScoped: true) },
        validateUpdate: { RBACRules.roleRefUpdateCauses(old: $0, new: $1) },
        columns: [.name, RBACRules.roleColumn(), .age] + RBACRules.subjectColumns())
}

extension APIResource {
    public static let clusterRoleBindings = KindDefinition.clusterRoleBinding.resource
}
