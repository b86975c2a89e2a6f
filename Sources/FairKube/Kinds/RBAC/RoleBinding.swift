/// Grants a Role or ClusterRole to users, groups and service accounts within one namespace
/// (rbac.authorization.k8s.io/v1 RoleBinding). Its role cannot change once made.
extension KindDefinition {
    public static let roleBinding = KindDefinition(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", namespaced: true,
        defaults: { RBACRules.defaultSubjects(&$0) },
        validate: { RBACRules.bindingCauses($0, clusterScoped: false) },
        validateUpdate: { RBACRules.roleRefUpdateCauses(old: $0, new: $1) },
        columns: [.name, RBACRules.roleColumn(), .age] + RBACRules.subjectColumns())
}

extension APIResource {
    public static let roleBindings = KindDefinition.roleBinding.resource
}
