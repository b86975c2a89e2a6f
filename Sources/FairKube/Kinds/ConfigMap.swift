extension KindDefinition {
    public static let configMap = KindDefinition(
        group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"],
        validate: { object in
            var causes = ConfigDataRules.keyCauses(object, "data") + ConfigDataRules.keyCauses(object, "binaryData")
            let data = object["data"]?.objectValue ?? [:], binary = object["binaryData"]?.objectValue ?? [:]
            for key in Set(data.keys).intersection(binary.keys).sorted() {
                causes.append(FieldCause("data[\(key)]", "Invalid value: \(ConfigDataRules.quoted(key)): duplicate of key present in binaryData"))
            }
            let size = data.values.reduce(0) { $0 + ($1.stringValue?.utf8.count ?? 0) }
                + binary.values.reduce(0) { $0 + ($1.stringValue.flatMap(SecretData.decode)?.count ?? 0) }
            if size > ConfigDataRules.maxSize {
                causes.append(FieldCause("data", "Too long: must have at most \(ConfigDataRules.maxSize) bytes"))
            }
            return causes
        },
        validateUpdate: { old, new in ConfigDataRules.immutabilityCauses(old: old, new: new, dataFields: ["data", "binaryData"]) },
        columns: [.name, TableColumn(name: "Data", type: "integer") { object, _ in .int(Int64(object["data"]?.objectValue?.count ?? 0)) }, .age])
}

extension APIResource {
    public static let configMaps = KindDefinition.configMap.resource
}
