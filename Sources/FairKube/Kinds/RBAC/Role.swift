/// Permissions within one namespace (rbac.authorization.k8s.io/v1 Role): rules of API groups,
/// resources, verbs and names, granted to subjects by a RoleBinding in the same namespace.
extension KindDefinition {
    public static let role = KindDefinition(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true,
        validate: { RBACRules.ruleCauses($0, namespaced: true) },
        columns: [.name, RBACRules.createdAt])
}

extension APIResource {
    public static let roles = KindDefinition.role.resource
}
