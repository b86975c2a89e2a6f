extension KindDefinition {
    public static let namespace = KindDefinition(
        group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false,
        shortNames: ["ns"], subresources: ["status"], returnsDeletedObject: true,
        selectableFields: ["status.phase"],
        defaults: { object in
            if object.value(at: "status.phase") == nil { object.set("Active", at: ["status", "phase"]) }
        },
        columns: [.name, .text("Status", "status.phase", or: "Active"), .age],
        containsObjects: true)
}

extension APIResource {
    public static let namespaces = KindDefinition.namespace.resource
}
