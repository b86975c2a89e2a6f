extension KindDefinition {
    public static let deployment = KindDefinition(
        group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true,
        shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"],
        defaults: { object in
            if object.value(at: "spec.replicas") == nil { object.set(.int(1), at: ["spec", "replicas"]) }
            if object.value(at: "spec.strategy.type") == nil {
                object.set("RollingUpdate", at: ["spec", "strategy", "type"])
                object.set("25%", at: ["spec", "strategy", "rollingUpdate", "maxSurge"])
                object.set("25%", at: ["spec", "strategy", "rollingUpdate", "maxUnavailable"])
            }
            if object.value(at: "spec.revisionHistoryLimit") == nil { object.set(.int(10), at: ["spec", "revisionHistoryLimit"]) }
            PodSpecRules.applyDefaults(&object, at: ["spec", "template", "spec"])
        },
        validate: { PodSpecRules.validateTemplate($0, selectorRequired: true) },
        columns: [
            .name,
            TableColumn(name: "Ready") { object, _ in
                .string("\(Printing.int(object, "status.readyReplicas"))/\(Printing.int(object, "spec.replicas"))")
            },
            .integer("Up-to-date", "status.updatedReplicas"),
            .integer("Available", "status.availableReplicas"),
            .age,
        ] + TableColumn.workload)
}

extension APIResource {
    public static let deployments = KindDefinition.deployment.resource
}
