import FairKube

/// Decides a request from the RBAC objects in the store, as kube's RBAC authorizer does: allowed
/// when a ClusterRoleBinding, or a RoleBinding in the request's namespace, grants the user a role
/// with a rule that matches. Nothing is allowed by default; members of `system:masters` are
/// allowed everything without asking. Bindings are read from the store's memory on each request,
/// so a new binding counts from the next request on.
struct RBACAuthorizer: Sendable {
    let store: ObjectStore

    struct Decision: Equatable {
        var allowed: Bool
        /// Why it was allowed: the binding and role that granted it, as kube reports it.
        var reason: String
    }

    func authorize(_ request: RequestAttributes) -> Decision {
        if request.user.isSuperuser { return Decision(allowed: true, reason: "") }
        // Nodes first, as kube-apiserver's `--authorization-mode=Node,RBAC`.
        if let decision = NodeAuthorizer(store: store).authorize(request) { return decision }
        var reason: String?
        visitRules(of: request.user, namespace: request.namespace) { source, rules in
            guard rules.contains(where: { $0.allows(request) }) else { return true }
            reason = "RBAC: allowed by \(source)"
            return false
        }
        return Decision(allowed: reason != nil, reason: reason ?? "")
    }

    /// Every rule the user holds in `namespace` (cluster-wide ones included): what
    /// `kubectl auth can-i --list` shows.
    func rules(of user: UserInfo, namespace: String) -> [PolicyRule] {
        if user.isSuperuser {
            return [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]
        }
        var all: [PolicyRule] = []
        visitRules(of: user, namespace: namespace) { _, rules in
            all += rules
            return true
        }
        return all
    }

    /// Calls `visit` with the rules of each role bound to the user (cluster bindings first, then
    /// the namespace's), until it returns false.
    private func visitRules(of user: UserInfo, namespace: String, _ visit: (String, [PolicyRule]) -> Bool) {
        for stored in store.list(KindDefinition.clusterRoleBinding.storageKey, namespace: nil).items {
            let binding = stored.object
            guard Self.binds(binding, to: user, bindingNamespace: ""),
                  let rules = roleRules(binding, bindingNamespace: "") else { continue }
            let source = "ClusterRoleBinding \"\(binding.name ?? "")\" of ClusterRole \"\(binding.value(at: "roleRef.name")?.stringValue ?? "")\" to \(Self.subjectText(binding, user))"
            if !visit(source, rules) { return }
        }
        guard !namespace.isEmpty else { return }
        for stored in store.list(KindDefinition.roleBinding.storageKey, namespace: namespace).items {
            let binding = stored.object
            guard Self.binds(binding, to: user, bindingNamespace: namespace),
                  let rules = roleRules(binding, bindingNamespace: namespace) else { continue }
            let source = "RoleBinding \"\(binding.name ?? "")/\(namespace)\" of \(binding.value(at: "roleRef.kind")?.stringValue ?? "") \"\(binding.value(at: "roleRef.name")?.stringValue ?? "")\" to \(Self.subjectText(binding, user))"
            if !visit(source, rules) { return }
        }
    }

    /// The rules of the role a binding names; nil when that role does not exist (yet).
    private func roleRules(_ binding: JSONValue, bindingNamespace: String) -> [PolicyRule]? {
        guard let name = binding.value(at: "roleRef.name")?.stringValue else { return nil }
        let role: ObjectStore.Stored?
        switch binding.value(at: "roleRef.kind")?.stringValue {
        case "ClusterRole": role = store.get(KindDefinition.clusterRole.storageKey, namespace: "", name: name)
        case "Role" where !bindingNamespace.isEmpty: role = store.get(KindDefinition.role.storageKey, namespace: bindingNamespace, name: name)
        default: role = nil
        }
        return role.map { RBACRules.rules(of: $0.object) }
    }

    static func binds(_ binding: JSONValue, to user: UserInfo, bindingNamespace: String) -> Bool {
        (binding["subjects"]?.arrayValue ?? []).contains { matches($0, user, bindingNamespace: bindingNamespace) }
    }

    private static func matches(_ subject: JSONValue, _ user: UserInfo, bindingNamespace: String) -> Bool {
        guard let name = subject["name"]?.stringValue else { return false }
        switch subject["kind"]?.stringValue {
        case "User": return user.name == name
        case "Group": return user.groups.contains(name)
        case "ServiceAccount":
            let namespace = subject["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? bindingNamespace
            return !namespace.isEmpty && user.name == UserInfo.serviceAccountName(namespace: namespace, name: name)
        default: return false
        }
    }

    private static func subjectText(_ binding: JSONValue, _ user: UserInfo) -> String {
        let subject = (binding["subjects"]?.arrayValue ?? []).first { matches($0, user, bindingNamespace: binding.namespace ?? "") }
        let kind = subject?["kind"]?.stringValue ?? ""
        let name = subject?["name"]?.stringValue ?? ""
        if kind == "ServiceAccount" { return "ServiceAccount \"\(name)/\(subject?["namespace"]?.stringValue ?? binding.namespace ?? "")\"" }
        return "\(kind) \"\(name)\""
    }
}
