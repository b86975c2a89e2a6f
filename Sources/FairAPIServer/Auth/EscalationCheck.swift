import FairKube

/// RBAC's guard against escalation, as kube's role and binding storage applies it: a user may
/// only write a role whose every rule they already hold (or `escalate` on it), and only bind a
/// role whose every rule they hold (or `bind` on it). So a service account allowed to manage
/// roles in its namespace cannot make itself `cluster-admin` there.
extension RBACAuthorizer {
    func checkEscalation(by user: UserInfo, writing object: JSONValue, _ definition: KindDefinition, namespace: String) throws {
        guard !user.isSuperuser else { return }
        let name = object.name ?? ""
        let granted: [PolicyRule]
        switch definition {
        case .role, .clusterRole:
            let escalate = RequestAttributes(user: user, verb: "escalate", resource: definition.plural, apiGroup: RBACRules.group,
                                             namespace: namespace, name: name)
            if authorize(escalate).allowed { return }
            granted = RBACRules.rules(of: object)
        case .roleBinding, .clusterRoleBinding:
            let roleKind = object.value(at: "roleRef.kind")?.stringValue ?? ""
            let roleName = object.value(at: "roleRef.name")?.stringValue ?? ""
            let roleDefinition: KindDefinition = roleKind == "Role" ? .role : .clusterRole
            let bind = RequestAttributes(user: user, verb: "bind", resource: roleDefinition.plural, apiGroup: RBACRules.group,
                                         namespace: roleKind == "Role" ? namespace : "", name: roleName)
            if authorize(bind).allowed { return }
            let roleNamespace = roleKind == "Role" ? namespace : ""
            guard let role = store.get(roleDefinition.storageKey, namespace: roleNamespace, name: roleName)?.object else {
                throw APIError.notFound(roleDefinition, roleName)
            }
            granted = RBACRules.rules(of: role)
        default:
            return
        }
        let held = rules(of: user, namespace: namespace)
        let missing = granted.flatMap(Self.atoms).filter { atom in !held.contains { $0.allows(atom.with(user)) } }
        guard !missing.isEmpty else { return }
        let listed = missing.map(\.description).joined(separator: "\n")
        let qualified = "\(definition.plural).\(RBACRules.group)"
        throw APIError(code: 403, reason: "Forbidden",
                       message: "\(qualified) \"\(name)\" is forbidden: user \"\(user.name)\" (groups=[\(user.groups.map { "\"\($0)\"" }.joined(separator: " "))]) is attempting to grant RBAC permissions not currently held:\n\(listed)",
                       details: .init(name: name, group: RBACRules.group, kind: definition.plural))
    }

    /// One verb on one resource (and name) or path: what a rule breaks down into, so that each
    /// can be checked against the rules a user holds. `*` stays a literal, covered only by `*`.
    struct Atom {
        var verb: String
        var apiGroup = ""
        var resource = ""
        var name = ""
        var path: String?

        func with(_ user: UserInfo) -> RequestAttributes {
            if let path { return RequestAttributes(user: user, verb: verb, nonResourcePath: path) }
            let parts = resource.split(separator: "/", maxSplits: 1).map(String.init)
            return RequestAttributes(user: user, verb: verb, resource: parts.first ?? "", subresource: parts.count > 1 ? parts[1] : "",
                                     apiGroup: apiGroup, name: name)
        }

        var description: String {
            if let path { return "{NonResourceURLs:[\"\(path)\"], Verbs:[\"\(verb)\"]}" }
            let names = name.isEmpty ? "" : " ResourceNames:[\"\(name)\"],"
            return "{APIGroups:[\"\(apiGroup)\"], Resources:[\"\(resource)\"],\(names) Verbs:[\"\(verb)\"]}"
        }
    }

    static func atoms(_ rule: PolicyRule) -> [Atom] {
        var atoms: [Atom] = []
        for verb in rule.verbs {
            for path in rule.nonResourceURLs { atoms.append(Atom(verb: verb, path: path)) }
            for group in rule.apiGroups {
                for resource in rule.resources {
                    if rule.resourceNames.isEmpty {
                        atoms.append(Atom(verb: verb, apiGroup: group, resource: resource))
                    } else {
                        atoms += rule.resourceNames.map { Atom(verb: verb, apiGroup: group, resource: resource, name: $0) }
                    }
                }
            }
        }
        return atoms
    }
}
