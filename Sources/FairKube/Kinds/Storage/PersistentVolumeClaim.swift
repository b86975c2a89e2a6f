/// A request for storage (core/v1 PersistentVolumeClaim): bound to a PersistentVolume by the
/// volume binder, or given a new one by its class's provisioner. A claim is kept while a pod
/// uses it (`kubernetes.io/pvc-protection`, added on create and removed by its controller).
extension KindDefinition {
    public static let persistentVolumeClaim = KindDefinition(
        group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true,
        shortNames: ["pvc"], subresources: ["status"],
        prepareCreate: { claim in
            claim.set(.object(["phase": "Pending"]), at: "status")
            addFinalizer(&claim, pvcProtectionFinalizer)
        },
        defaults: { claim in
            if claim.value(at: "spec.volumeMode") == nil { claim.set("Filesystem", at: ["spec", "volumeMode"]) }
        },
        validate: { claim in
            StorageRules.accessModeCauses(claim, at: "spec.accessModes")
                + StorageRules.sizeCauses(claim, at: "spec.resources.requests.storage")
                + StorageRules.volumeModeCauses(claim, at: "spec.volumeMode")
        },
        validateUpdate: { old, new in
            // The spec is fixed once made, but for a larger request and the binder filling in
            // the volume's name (kube's ValidatePersistentVolumeClaimUpdate).
            var before = old["spec"] ?? [:], after = new["spec"] ?? [:]
            if before["volumeName"] == nil { before["volumeName"] = after["volumeName"] }
            if before["storageClassName"] == nil { before["storageClassName"] = after["storageClassName"] }
            before.set(nil, at: ["resources", "requests"])
            after.set(nil, at: ["resources", "requests"])
            guard before != after else { return [] }
            return [FieldCause("spec", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")]
        },
        columns: [
            .name,
            // kubectl shows a claim or volume being deleted as Terminating, whatever its phase.
            TableColumn(name: "Status") { object, _ in
                .string(object.value(at: "metadata.deletionTimestamp") != nil ? "Terminating" : Printing.text(object, "status.phase", or: ""))
            },
            .text("Volume", "spec.volumeName", or: ""),
            TableColumn(name: "Capacity") { object, _ in .string(object.value(at: ["status", "capacity", "storage"])?.stringValue ?? "") },
            TableColumn(name: "Access Modes") { object, _ in .string(StorageRules.modesText(object.value(at: "status.accessModes")?.arrayValue)) },
            .text("StorageClass", "spec.storageClassName", or: "<unset>"),
            .text("VolumeAttributesClass", "spec.volumeAttributesClassName", or: "<unset>"),
            .age,
            .text("VolumeMode", "spec.volumeMode", or: "", priority: 1),
        ])

    public static let pvcProtectionFinalizer = "kubernetes.io/pvc-protection"

    static func addFinalizer(_ object: inout JSONValue, _ finalizer: String) {
        var finalizers = object.value(at: "metadata.finalizers")?.arrayValue ?? []
        if !finalizers.contains(.string(finalizer)) { finalizers.append(.string(finalizer)) }
        object.set(.array(finalizers), at: "metadata.finalizers")
    }
}

extension APIResource {
    public static let persistentVolumeClaims = KindDefinition.persistentVolumeClaim.resource
}
