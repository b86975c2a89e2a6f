import FairKube

/// The owner a controller acts for, as an ownerReference names it.
struct OwnerKind: Sendable, Equatable {
    let apiVersion: String
    let kind: String
    let resource: APIResource

    init(_ definition: KindDefinition) {
        apiVersion = definition.apiVersion
        kind = definition.kind
        resource = definition.resource
    }

    static let job = OwnerKind(.job)
    static let cronJob = OwnerKind(.cronJob)
    static let replicaSet = OwnerKind(.replicaSet)
    static let deployment = OwnerKind(.deployment)
    static let statefulSet = OwnerKind(.statefulSet)
    static let daemonSet = OwnerKind(.daemonSet)

    /// Every kind the garbage collector can check for existence.
    static let watched: [OwnerKind] = [.job, .cronJob, .replicaSet, .deployment, .statefulSet, .daemonSet]

    /// Matches by kind and API group (any version: the group owns the name).
    static func find(apiVersion: String?, kind: String?) -> OwnerKind? {
        let group = apiVersion.map(groupOf) ?? ""
        return watched.first { $0.kind == kind && groupOf($0.apiVersion) == group }
    }

    private static func groupOf(_ apiVersion: String) -> String {
        apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    }

    /// The ownerReference that makes `owner` the controller of a dependent.
    func controllerReference(to owner: JSONValue) -> JSONValue {
        ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(owner.name ?? ""),
         "uid": .string(owner.uid ?? ""), "controller": true, "blockOwnerDeletion": true]
    }
}

extension JSONValue {
    /// The one ownerReference with `controller: true`, if any.
    var controllerReference: OwnerReference? { ObjectMeta(json: self["metadata"] ?? [:]).controller }

    /// Whether `owner` (of `kind`) is this object's controller.
    func isControlled(by owner: JSONValue) -> Bool {
        guard let uid = owner.uid, let reference = controllerReference else { return false }
        return reference.uid == uid
    }

    /// The informer key ("namespace/name") of this object's controller when it is of `kind`.
    func controllerKey(ofKind kind: OwnerKind) -> String? {
        guard let reference = controllerReference, reference.kind == kind.kind,
              OwnerKind.find(apiVersion: reference.apiVersion, kind: kind.kind) == kind,
              let name = reference.name else { return nil }
        return Informer.key(namespace: namespace, name: name)
    }
}
