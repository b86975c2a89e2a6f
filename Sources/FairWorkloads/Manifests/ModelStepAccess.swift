import FairKube
import Foundation

/// The identity a training Job's model step stores its model with, on a cluster whose registry
/// takes service accounts' tokens (fair's own): a ServiceAccount named after the Job, a Role that
/// may `push` and `pull` the model's repository and nothing else, and a RoleBinding between them.
/// No secret sits in the Job: the node mounts a short-lived token bound to the pod, and the
/// three objects go with the Job when it is deleted (the Job owns them).
public struct ModelStepAccess: Sendable {
    public var name: String
    public var namespace: String
    public var repository: String

    public init(name: String, namespace: String, repository: String) {
        self.name = name
        self.namespace = namespace
        self.repository = repository
    }

    private var metadata: JSONValue {
        [
            "name": .string(name), "namespace": .string(namespace),
            "labels": ["app.kubernetes.io/managed-by": "fair"],
        ]
    }

    public var serviceAccount: JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata]
    }

    public var role: JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata,
            "rules": [[
                "apiGroups": [.string(RegistryAccountAccess.apiGroup)],
                "resources": [.string(RegistryAccountAccess.resource)],
                "resourceNames": [.string(repository)],
                "verbs": ["push", "pull"],
            ]],
        ]
    }

    public var roleBinding: JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata,
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(name)],
            "subjects": [["kind": "ServiceAccount", "name": .string(name), "namespace": .string(namespace)]],
        ]
    }

    /// The three, in the order they are made (the account before anything names it).
    public var manifests: [JSONValue] { [serviceAccount, role, roleBinding] }

    private var resources: [APIResource] { [.serviceAccounts, .roles, .roleBindings] }

    /// Makes the three, before the Job (whose pods name the account; the caller has checked that
    /// no Job of this name exists). A leftover of an earlier Job of the same name is replaced, so
    /// no stale grant survives into the new one.
    public func create(with client: KubeClient) throws {
        for (resource, object) in zip(resources, manifests) {
            do {
                _ = try client.create(resource, namespace: namespace, object)
            } catch let error as KubeError where error.code == 409 {
                _ = try client.delete(resource, namespace: namespace, name: name)
                _ = try client.create(resource, namespace: namespace, object)
            }
        }
    }

    /// Hands the three to the Job (or the CronJob of a scheduled training), so the garbage
    /// collector removes them with it.
    public func adopt(by owner: JSONValue, with client: KubeClient) throws {
        try Adoption.adopt(resources.map { ($0, name) }, namespace: namespace, by: owner, with: client)
    }

    /// Removes the three, when what was to own them was refused: nothing half-made stays.
    public func delete(with client: KubeClient) {
        for resource in resources.reversed() { _ = try? client.delete(resource, namespace: namespace, name: name) }
    }
}
