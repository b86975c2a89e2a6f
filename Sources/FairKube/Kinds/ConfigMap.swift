extension KindDefinition {
    public static let configMap = KindDefinition(
        group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"],
        columns: [.name, TableColumn(name: "Data", type: "integer") { object, _ in .int(Int64(object["data"]?.objectValue?.count ?? 0)) }, .age])
}

extension APIResource {
    public static let configMaps = KindDefinition.configMap.resource
}
