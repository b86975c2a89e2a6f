import FairKube
import Foundation

/// The ClusterRoles and ClusterRoleBindings every Kubernetes cluster starts with, as the RBAC
/// post-start hook of kube-apiserver keeps them: made when missing, and given back any rule a
/// role lost while its `rbac.authorization.kubernetes.io/autoupdate` annotation is "true" (an
/// administrator who sets it to "false" keeps their edits). `admin`, `edit` and `view` are
/// written out whole (kube aggregates them from parts), over the kinds Kubernetes defines,
/// served here or not, so the same bindings mean the same on any cluster.
enum BootstrapPolicy {
    static let read = ["get", "list", "watch"]
    static let write = ["create", "delete", "deletecollection", "patch", "update"]

    static let viewRules: [PolicyRule] = [
        PolicyRule(verbs: read, apiGroups: [""], resources: [
            "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
            "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
        ]),
        PolicyRule(verbs: read, apiGroups: [""], resources: [
            "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
            "replicationcontrollers/status", "resourcequotas", "resourcequotas/status",
        ]),
        PolicyRule(verbs: read, apiGroups: [""], resources: ["namespaces"]),
        PolicyRule(verbs: read, apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"]),
        PolicyRule(verbs: read, apiGroups: ["apps"], resources: [
            "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
            "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status",
        ]),
        PolicyRule(verbs: read, apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        PolicyRule(verbs: read, apiGroups: ["batch"], resources: ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
        PolicyRule(verbs: read, apiGroups: ["extensions"], resources: [
            "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses",
            "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status",
            "replicationcontrollers/scale",
        ]),
        PolicyRule(verbs: read, apiGroups: ["policy"], resources: ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        PolicyRule(verbs: read, apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingresses/status", "networkpolicies"]),
        // metrics-server's system:aggregated-metrics-reader, which it aggregates into view,
        // edit and admin: `kubectl top` for whoever may read pods.
        PolicyRule(verbs: read, apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"]),
    ]

    /// What `edit` adds to `view`: changing workloads and reading and writing Secrets, but not
    /// roles or bindings.
    static let editRules: [PolicyRule] = viewRules + [
        PolicyRule(verbs: read, apiGroups: [""], resources: ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
        PolicyRule(verbs: ["impersonate"], apiGroups: [""], resources: ["serviceaccounts"]),
        PolicyRule(verbs: write, apiGroups: [""], resources: ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
        PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["pods/eviction"]),
        PolicyRule(verbs: write, apiGroups: [""], resources: [
            "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
            "secrets", "serviceaccounts", "services", "services/proxy",
        ]),
        PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["serviceaccounts/token"]),
        PolicyRule(verbs: write, apiGroups: ["apps"], resources: [
            "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale",
            "statefulsets", "statefulsets/scale",
        ]),
        PolicyRule(verbs: write, apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"]),
        PolicyRule(verbs: write, apiGroups: ["batch"], resources: ["cronjobs", "jobs"]),
        PolicyRule(verbs: write, apiGroups: ["extensions"], resources: [
            "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses", "networkpolicies",
            "replicasets", "replicasets/scale", "replicationcontrollers/scale",
        ]),
        PolicyRule(verbs: write, apiGroups: ["policy"], resources: ["poddisruptionbudgets"]),
        PolicyRule(verbs: write, apiGroups: ["networking.k8s.io"], resources: ["ingresses", "networkpolicies"]),
        PolicyRule(verbs: read + write, apiGroups: ["coordination.k8s.io"], resources: ["leases"]),
    ]

    /// What `admin` adds to `edit`: roles and bindings within the namespace.
    static let adminRules: [PolicyRule] = editRules + [
        PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["localsubjectaccessreviews"]),
        PolicyRule(verbs: write + read, apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings", "roles"]),
    ]

    static let clusterRoles: [(name: String, rules: [PolicyRule])] = [
        ("cluster-admin", [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]),
        ("admin", adminRules),
        ("edit", editRules),
        ("view", viewRules),
        ("system:discovery", [PolicyRule(verbs: ["get"], nonResourceURLs: [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/",
        ])]),
        ("system:basic-user", [
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
        ]),
        ("system:public-info-viewer", [PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        // Joining nodes: the credential a node starts with may ask for its client certificate
        // (kubelet's TLS bootstrap); a node may ask to renew its own.
        ("system:node-bootstrapper", [
            PolicyRule(verbs: ["create", "get", "list", "watch"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"]),
        ]),
        ("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
            PolicyRule(verbs: ["create"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/nodeclient"]),
        ]),
        ("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
            PolicyRule(verbs: ["create"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/selfnodeclient"]),
        ]),
        ("system:service-account-issuer-discovery", [PolicyRule(verbs: ["get"], nonResourceURLs: [
            "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/",
        ])]),
    ]

    /// Binding name and role name are the same in each, as in Kubernetes.
    static let clusterRoleBindings: [(name: String, groups: [String])] = [
        ("cluster-admin", [UserInfo.mastersGroup]),
        ("system:discovery", [UserInfo.authenticatedGroup]),
        ("system:basic-user", [UserInfo.authenticatedGroup]),
        ("system:public-info-viewer", [UserInfo.authenticatedGroup, UserInfo.unauthenticatedGroup]),
        ("system:service-account-issuer-discovery", ["system:serviceaccounts"]),
        ("system:node-bootstrapper", [bootstrappersGroup]),
        ("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [bootstrappersGroup]),
        ("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [NodeIdentity.group]),
    ]

    /// The group of credentials made for joining nodes, as kubeadm's bootstrap tokens are.
    static let bootstrappersGroup = "system:bootstrappers"

    static let autoupdate = "rbac.authorization.kubernetes.io/autoupdate"

    static func ensure(in store: ObjectStore) throws {
        let metadata = { (name: String) -> JSONValue in
            ["name": .string(name), "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"], "annotations": [autoupdate: "true"]]
        }
        for (name, rules) in clusterRoles {
            let object: JSONValue = ["metadata": metadata(name), "rules": .array(rules.map(\.json))]
            try reconcile(.clusterRole, name: name, wanted: object, store: store) { existing in
                let kept = RBACRules.rules(of: existing)
                let missing = rules.filter { !kept.contains($0) }
                guard !missing.isEmpty else { return nil }
                var updated = existing
                updated["rules"] = .array((kept + missing).map(\.json))
                return updated
            }
        }
        for (name, groups) in clusterRoleBindings {
            let subjects = groups.map { group -> JSONValue in ["kind": "Group", "apiGroup": .string(RBACRules.group), "name": .string(group)] }
            let object: JSONValue = [
                "metadata": metadata(name), "subjects": .array(subjects),
                "roleRef": ["apiGroup": .string(RBACRules.group), "kind": "ClusterRole", "name": .string(name)],
            ]
            try reconcile(.clusterRoleBinding, name: name, wanted: object, store: store) { existing in
                let kept = existing["subjects"]?.arrayValue ?? []
                let missing = subjects.filter { !kept.contains($0) }
                guard !missing.isEmpty else { return nil }
                var updated = existing
                updated["subjects"] = .array(kept + missing)
                return updated
            }
        }
    }

    /// Creates `wanted` when missing; else, if its annotation allows, writes what `repair`
    /// makes of it (nil: nothing to repair).
    private static func reconcile(_ definition: KindDefinition, name: String, wanted: JSONValue, store: ObjectStore,
                                  repair: @escaping (JSONValue) -> JSONValue?) throws {
        do {
            try store.write(definition.storageKey, namespace: "", name: name) { existing in
                guard let existing = existing?.object else {
                    var object = wanted
                    Admission.prepareNew(&object, definition, namespace: "")
                    return object
                }
                guard existing.value(at: "metadata.annotations")?[autoupdate]?.stringValue == "true",
                      let repaired = repair(existing) else { throw BootstrapUnchanged() }
                return repaired
            }
        } catch is BootstrapUnchanged {
            // Already as it should be, or left to the administrator.
        }
    }

    private struct BootstrapUnchanged: Error {}
}
