import Foundation

/// What kube-apiserver's `ValidateRole`/`ValidateRoleBinding` check of RBAC objects, shared by
/// the four RBAC kinds: rules that can match something, and bindings that name a role and
/// subjects it can find.
public enum RBACRules {
    public static let group = "rbac.authorization.k8s.io"

    /// `namespaced`: a Role's rules, which cannot name non-resource URLs.
    static func ruleCauses(_ object: JSONValue, namespaced: Bool) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (index, rule) in (object["rules"]?.arrayValue ?? []).enumerated() {
            let field = "rules[\(index)]"
            let verbs = strings(rule["verbs"])
            let resources = strings(rule["resources"])
            let urls = strings(rule["nonResourceURLs"])
            if verbs.isEmpty {
                causes.append(FieldCause("\(field).verbs", "Required value: verbs must contain at least one value"))
            }
            if !urls.isEmpty {
                if namespaced {
                    causes.append(FieldCause("\(field).nonResourceURLs", "Invalid value: \(quotedList(urls)): namespaced rules cannot apply to non-resource URLs"))
                } else if !resources.isEmpty || !strings(rule["apiGroups"]).isEmpty || !strings(rule["resourceNames"]).isEmpty {
                    causes.append(FieldCause("\(field).nonResourceURLs", "Invalid value: \(quotedList(urls)): rules cannot apply to both regular resources and non-resource URLs"))
                }
                continue
            }
            if resources.isEmpty {
                causes.append(FieldCause("\(field).resources", "Required value: resource rules must supply at least one resource"))
            }
            if rule["apiGroups"]?.arrayValue == nil {
                causes.append(FieldCause("\(field).apiGroups", "Required value: resource rules must supply at least one api group"))
            }
        }
        return causes
    }

    /// `clusterScoped`: a ClusterRoleBinding, which may only name a ClusterRole and must say in
    /// which namespace each service account is.
    static func bindingCauses(_ object: JSONValue, clusterScoped: Bool) -> [FieldCause] {
        var causes: [FieldCause] = []
        let roleRef = object["roleRef"]
        let kind = roleRef?["kind"]?.stringValue ?? ""
        let allowedKinds = clusterScoped ? ["ClusterRole"] : ["Role", "ClusterRole"]
        if kind.isEmpty {
            causes.append(FieldCause("roleRef.kind", "Required value"))
        } else if !allowedKinds.contains(kind) {
            causes.append(FieldCause("roleRef.kind", "Unsupported value: \(ConfigDataRules.quoted(kind)): supported values: \(allowedKinds.map(ConfigDataRules.quoted).joined(separator: ", "))"))
        }
        if (roleRef?["name"]?.stringValue ?? "").isEmpty {
            causes.append(FieldCause("roleRef.name", "Required value"))
        }
        let apiGroup = roleRef?["apiGroup"]?.stringValue ?? ""
        if apiGroup != group {
            causes.append(FieldCause("roleRef.apiGroup", "Unsupported value: \(ConfigDataRules.quoted(apiGroup)): supported values: \"\(group)\""))
        }
        for (index, subject) in (object["subjects"]?.arrayValue ?? []).enumerated() {
            let field = "subjects[\(index)]"
            let subjectKind = subject["kind"]?.stringValue ?? ""
            if (subject["name"]?.stringValue ?? "").isEmpty {
                causes.append(FieldCause("\(field).name", "Required value"))
            }
            let subjectGroup = subject["apiGroup"]?.stringValue ?? ""
            switch subjectKind {
            case "ServiceAccount":
                if !subjectGroup.isEmpty {
                    causes.append(FieldCause("\(field).apiGroup", "Unsupported value: \(ConfigDataRules.quoted(subjectGroup)): supported values: \"\""))
                }
                if clusterScoped && (subject["namespace"]?.stringValue ?? "").isEmpty {
                    causes.append(FieldCause("\(field).namespace", "Required value"))
                }
            case "User", "Group":
                if subjectGroup != group {
                    causes.append(FieldCause("\(field).apiGroup", "Unsupported value: \(ConfigDataRules.quoted(subjectGroup)): supported values: \"\(group)\""))
                }
            default:
                causes.append(FieldCause("\(field).kind", "Unsupported value: \(ConfigDataRules.quoted(subjectKind)): supported values: \"ServiceAccount\", \"User\", \"Group\""))
            }
        }
        return causes
    }

    /// A binding's role cannot change: kube makes a new binding the only way to point elsewhere.
    static func roleRefUpdateCauses(old: JSONValue, new: JSONValue) -> [FieldCause] {
        guard old["roleRef"] != new["roleRef"] else { return [] }
        let ref = new["roleRef"]
        let text = "rbac.RoleRef{APIGroup:\(ConfigDataRules.quoted(ref?["apiGroup"]?.stringValue ?? "")), "
            + "Kind:\(ConfigDataRules.quoted(ref?["kind"]?.stringValue ?? "")), Name:\(ConfigDataRules.quoted(ref?["name"]?.stringValue ?? ""))}"
        return [FieldCause("roleRef", "Invalid value: \(text): cannot change roleRef")]
    }

    /// Sets what kube defaults on a binding's subjects (`apiGroup` of users and groups).
    static func defaultSubjects(_ object: inout JSONValue) {
        guard var subjects = object["subjects"]?.arrayValue else { return }
        for index in subjects.indices {
            let kind = subjects[index]["kind"]?.stringValue
            if (kind == "User" || kind == "Group"), subjects[index]["apiGroup"] == nil {
                subjects[index]["apiGroup"] = .string(group)
            }
        }
        object["subjects"] = .array(subjects)
    }

    public static func strings(_ value: JSONValue?) -> [String] {
        value?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private static func quotedList(_ values: [String]) -> String {
        "[]string{" + values.map(ConfigDataRules.quoted).joined(separator: ", ") + "}"
    }

    /// ROLE of `kubectl get rolebinding`: `ClusterRole/view`.
    static func roleColumn() -> TableColumn {
        TableColumn(name: "Role") { object, _ in
            .string("\(object.value(at: "roleRef.kind")?.stringValue ?? "")/\(object.value(at: "roleRef.name")?.stringValue ?? "")")
        }
    }

    /// USERS, GROUPS and SERVICEACCOUNTS of `kubectl get rolebinding -o wide`.
    static func subjectColumns() -> [TableColumn] {
        [
            TableColumn(name: "Users", priority: 1) { object, _ in .string(subjectNames(object, kind: "User")) },
            TableColumn(name: "Groups", priority: 1) { object, _ in .string(subjectNames(object, kind: "Group")) },
            TableColumn(name: "ServiceAccounts", priority: 1) { object, _ in .string(subjectNames(object, kind: "ServiceAccount")) },
        ]
    }

    private static func subjectNames(_ object: JSONValue, kind: String) -> String {
        (object["subjects"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == kind }.map { subject in
            let name = subject["name"]?.stringValue ?? ""
            guard kind == "ServiceAccount" else { return name }
            let namespace = subject["namespace"]?.stringValue ?? ""
            return namespace.isEmpty ? name : "\(namespace)/\(name)"
        }.joined(separator: ", ")
    }

    /// CREATED AT of `kubectl get role`: kube prints the timestamp, not an age, for roles.
    static let createdAt = TableColumn(name: "Created At", format: "date") { object, _ in
        .string(object.value(at: "metadata.creationTimestamp")?.stringValue ?? "")
    }
}
