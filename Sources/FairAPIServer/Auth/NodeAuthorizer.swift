import FairKube

/// What a node may do, as kube's Node authorizer and NodeRestriction admission decide it
/// together: a node (user `system:node:NAME` in group `system:nodes`) reads the Secrets,
/// ConfigMaps, claims and volumes of the pods bound to it and no others, asks tokens only for
/// those pods' accounts, changes only its own Node and the pods bound to it, and reads what a
/// kubelet needs (pods, nodes, services, endpoints). Anything else is left to RBAC, which binds
/// nothing to nodes by default: a stolen node credential reaches one node's pods, not the
/// cluster's.
struct NodeAuthorizer: Sendable {
    let store: ObjectStore

    /// The node a user is, or nil for any other user.
    static func nodeName(of user: UserInfo) -> String? {
        NodeIdentity.nodeName(user: user.name, groups: user.groups)
    }

    /// Allowed, or nil when this authorizer has no opinion (RBAC decides).
    func authorize(_ request: RequestAttributes) -> RBACAuthorizer.Decision? {
        guard request.isResourceRequest, let node = Self.nodeName(of: request.user) else { return nil }
        return allows(request, node: node) ? RBACAuthorizer.Decision(allowed: true, reason: "node \"\(node)\" may \(request.verb) it") : nil
    }

    private static let read: Set<String> = ["get", "list", "watch"]

    private func allows(_ r: RequestAttributes, node: String) -> Bool {
        // A list or watch that names one object (`metadata.name=`) is a get of it, as kube reads it.
        let getsOne = r.verb == "get" || (Self.read.contains(r.verb) && !r.name.isEmpty)
        switch (r.apiGroup, r.resource, r.subresource) {
        case ("", "secrets", ""), ("", "configmaps", ""), ("", "persistentvolumeclaims", ""):
            return getsOne && referenced(r.resource, name: r.name, namespace: r.namespace, byPodsOn: node)
        case ("", "persistentvolumes", ""):
            return getsOne && volumeUsed(r.name, byPodsOn: node)
        case ("", "serviceaccounts", "token"):
            // The token's pod is checked against this node when it is issued.
            return r.verb == "create" && referenced("serviceaccounts", name: r.name, namespace: r.namespace, byPodsOn: node)
        case ("", "pods", ""):
            if Self.read.contains(r.verb) { return true }
            return r.verb == "delete" && podBound(r.namespace, r.name, to: node)
        case ("", "pods", "status"):
            return ["get", "update", "patch"].contains(r.verb) && podBound(r.namespace, r.name, to: node)
        case ("", "nodes", ""):
            if Self.read.contains(r.verb) { return true }
            // Which Node a create makes is read from its body, at admission.
            if r.verb == "create" { return true }
            return ["update", "patch", "delete"].contains(r.verb) && r.name == node
        case ("", "nodes", "status"):
            return ["get", "update", "patch"].contains(r.verb) && r.name == node
        case ("", "services", ""), ("", "endpoints", ""):
            return Self.read.contains(r.verb)
        case ("", "events", ""), ("events.k8s.io", "events", ""):
            return ["create", "update", "patch"].contains(r.verb)
        case ("certificates.k8s.io", "certificatesigningrequests", ""):
            return ["create", "get", "list", "watch"].contains(r.verb)
        case ("certificates.k8s.io", "certificatesigningrequests", "selfnodeclient"):
            return r.verb == "create"
        case ("authentication.k8s.io", "tokenreviews", ""), ("authorization.k8s.io", "subjectaccessreviews", ""):
            return r.verb == "create"
        default:
            return false
        }
    }

    private func podsBound(to node: String, namespace: String?) -> [JSONValue] {
        store.list(KindDefinition.pod.storageKey, namespace: namespace, whereField: "spec.nodeName", is: node).map(\.object)
    }

    private func podBound(_ namespace: String, _ name: String, to node: String) -> Bool {
        guard !name.isEmpty, let pod = store.get(KindDefinition.pod.storageKey, namespace: namespace, name: name)?.object else { return false }
        return pod.value(at: "spec.nodeName")?.stringValue == node
    }

    private func referenced(_ resource: String, name: String, namespace: String, byPodsOn node: String) -> Bool {
        guard !name.isEmpty, !namespace.isEmpty else { return false }
        return podsBound(to: node, namespace: namespace).contains { PodReferences($0).names(of: resource).contains(name) }
    }

    private func volumeUsed(_ name: String, byPodsOn node: String) -> Bool {
        guard !name.isEmpty else { return false }
        for pod in podsBound(to: node, namespace: nil) {
            let namespace = pod.namespace ?? ""
            for claim in PodReferences(pod).names(of: "persistentvolumeclaims") {
                let stored = store.get(KindDefinition.persistentVolumeClaim.storageKey, namespace: namespace, name: claim)?.object
                if stored?.value(at: "spec.volumeName")?.stringValue == name { return true }
            }
        }
        return false
    }
}

/// The objects a pod names: what its node must be let read to run it.
struct PodReferences {
    private(set) var secrets: Set<String> = []
    private(set) var configMaps: Set<String> = []
    private(set) var claims: Set<String> = []
    let serviceAccount: String

    init(_ pod: JSONValue) {
        serviceAccount = pod.value(at: "spec.serviceAccountName")?.stringValue ?? KindDefinition.defaultServiceAccountName
        for reference in pod.value(at: "spec.imagePullSecrets")?.arrayValue ?? [] {
            if let name = reference["name"]?.stringValue { secrets.insert(name) }
        }
        for volume in pod.value(at: "spec.volumes")?.arrayValue ?? [] {
            if let name = volume.value(at: "secret.secretName")?.stringValue { secrets.insert(name) }
            if let name = volume.value(at: "configMap.name")?.stringValue { configMaps.insert(name) }
            if let name = volume.value(at: "persistentVolumeClaim.claimName")?.stringValue { claims.insert(name) }
            for source in volume.value(at: "projected.sources")?.arrayValue ?? [] {
                if let name = source.value(at: "secret.name")?.stringValue { secrets.insert(name) }
                if let name = source.value(at: "configMap.name")?.stringValue { configMaps.insert(name) }
            }
        }
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for container in pod.value(at: ["spec", list])?.arrayValue ?? [] {
                for variable in container["env"]?.arrayValue ?? [] {
                    if let name = variable.value(at: "valueFrom.secretKeyRef.name")?.stringValue { secrets.insert(name) }
                    if let name = variable.value(at: "valueFrom.configMapKeyRef.name")?.stringValue { configMaps.insert(name) }
                }
                for source in container["envFrom"]?.arrayValue ?? [] {
                    if let name = source.value(at: "secretRef.name")?.stringValue { secrets.insert(name) }
                    if let name = source.value(at: "configMapRef.name")?.stringValue { configMaps.insert(name) }
                }
            }
        }
    }

    func names(of resource: String) -> Set<String> {
        switch resource {
        case "secrets": return secrets
        case "configmaps": return configMaps
        case "persistentvolumeclaims": return claims
        case "serviceaccounts": return [serviceAccount]
        default: return []
        }
    }
}
