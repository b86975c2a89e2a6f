/// How claims of a class get volumes (storage.k8s.io/v1 StorageClass). The bundled server keeps
/// one, `local`, marked default: its provisioner makes a directory on the node a claim's first
/// pod is scheduled to (`WaitForFirstConsumer`).
extension KindDefinition {
    public static let storageClass = KindDefinition(
        group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", namespaced: false,
        shortNames: ["sc"],
        defaults: { object in
            if object["reclaimPolicy"] == nil { object["reclaimPolicy"] = "Delete" }
            if object["volumeBindingMode"] == nil { object["volumeBindingMode"] = "Immediate" }
        },
        validate: { object in
            var causes: [FieldCause] = []
            if (object["provisioner"]?.stringValue ?? "").isEmpty { causes.append(FieldCause("provisioner", "Required value")) }
            if let policy = object["reclaimPolicy"]?.stringValue, !["Delete", "Retain"].contains(policy) {
                causes.append(FieldCause("reclaimPolicy", "Unsupported value: \"\(policy)\": supported values: \"Delete\", \"Retain\""))
            }
            if let mode = object["volumeBindingMode"]?.stringValue, !["Immediate", "WaitForFirstConsumer"].contains(mode) {
                causes.append(FieldCause("volumeBindingMode", "Unsupported value: \"\(mode)\": supported values: \"Immediate\", \"WaitForFirstConsumer\""))
            }
            return causes
        },
        validateUpdate: { old, new in
            var causes: [FieldCause] = []
            for field in ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"] where old[field] != new[field] {
                causes.append(FieldCause(field, "Forbidden: updates to \(field) are forbidden."))
            }
            return causes
        },
        columns: [
            TableColumn(name: "Name", format: "name") { object, _ in
                .string((object.name ?? "") + (isDefaultClass(object) ? " (default)" : ""))
            },
            .text("Provisioner", "provisioner", or: ""),
            .text("ReclaimPolicy", "reclaimPolicy", or: ""),
            .text("VolumeBindingMode", "volumeBindingMode", or: ""),
            TableColumn(name: "AllowVolumeExpansion", type: "boolean") { object, _ in .bool(object["allowVolumeExpansion"]?.boolValue ?? false) },
            .age,
        ])

    /// The annotation that makes a class the one claims without a class get.
    public static let defaultStorageClassAnnotation = "storageclass.kubernetes.io/is-default-class"

    public static func isDefaultClass(_ storageClass: JSONValue) -> Bool {
        storageClass.value(at: ["metadata", "annotations", defaultStorageClassAnnotation])?.stringValue == "true"
    }
}

extension APIResource {
    public static let storageClasses = KindDefinition.storageClass.resource
}
