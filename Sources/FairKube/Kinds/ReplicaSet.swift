extension KindDefinition {
    public static let replicaSet = KindDefinition(
        group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true,
        shortNames: ["rs"], categories: ["all"], subresources: ["status", "scale"], selectableFields: ["status.replicas"],
        defaults: { object in
            if object.value(at: "spec.replicas") == nil { object.set(.int(1), at: ["spec", "replicas"]) }
            PodSpecRules.applyDefaults(&object, at: ["spec", "template", "spec"])
        },
        validate: { PodSpecRules.validateTemplate($0, selectorRequired: true) },
        columns: [
            .name,
            .integer("Desired", "spec.replicas"),
            .integer("Current", "status.replicas"),
            .integer("Ready", "status.readyReplicas"),
            .age,
        ] + TableColumn.workload)
}

extension APIResource {
    public static let replicaSets = KindDefinition.replicaSet.resource
}
