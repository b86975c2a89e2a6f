/// A piece of storage (core/v1 PersistentVolume), made by an administrator or by a class's
/// provisioner, bound to at most one claim (`spec.claimRef`). Kept while bound
/// (`kubernetes.io/pv-protection`). The bundled node mounts `hostPath` and `local` volumes.
extension KindDefinition {
    public static let persistentVolume = KindDefinition(
        group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", namespaced: false,
        shortNames: ["pv"], subresources: ["status"],
        prepareCreate: { volume in
            volume.set(.object(["phase": "Pending"]), at: "status")
            addFinalizer(&volume, pvProtectionFinalizer)
        },
        defaults: { volume in
            if volume.value(at: "spec.persistentVolumeReclaimPolicy") == nil {
                volume.set("Retain", at: ["spec", "persistentVolumeReclaimPolicy"])
            }
            if volume.value(at: "spec.volumeMode") == nil { volume.set("Filesystem", at: ["spec", "volumeMode"]) }
        },
        validate: { volume in
            var causes = StorageRules.accessModeCauses(volume, at: "spec.accessModes")
                + StorageRules.sizeCauses(volume, at: "spec.capacity.storage")
                + StorageRules.volumeModeCauses(volume, at: "spec.volumeMode")
            let policy = volume.value(at: "spec.persistentVolumeReclaimPolicy")?.stringValue ?? ""
            if !["Retain", "Delete", "Recycle"].contains(policy) {
                causes.append(FieldCause("spec.persistentVolumeReclaimPolicy", "Unsupported value: \"\(policy)\": supported values: \"Delete\", \"Recycle\", \"Retain\""))
            }
            let sources = (volume["spec"]?.objectValue ?? [:]).keys.filter(volumeSources.contains)
            if sources.isEmpty {
                causes.append(FieldCause("spec", "Required value: must specify a volume type"))
            } else if sources.count > 1 {
                causes.append(FieldCause("spec", "Forbidden: may not specify more than 1 volume type"))
            }
            if let path = volume.value(at: "spec.local.path")?.stringValue, !path.hasPrefix("/") {
                causes.append(FieldCause("spec.local.path", "Invalid value: \"\(path)\": must be an absolute path"))
            }
            if volume.value(at: "spec.local") != nil && volume.value(at: "spec.nodeAffinity") == nil {
                causes.append(FieldCause("spec.nodeAffinity", "Required value: Local volume requires node affinity"))
            }
            return causes
        },
        validateUpdate: { old, new in
            var causes: [FieldCause] = []
            for source in volumeSources where old.value(at: ["spec", source]) != nil && old.value(at: ["spec", source]) != new.value(at: ["spec", source]) {
                causes.append(FieldCause("spec.persistentvolumesource", "Forbidden: spec.persistentvolumesource is immutable after creation"))
            }
            if let affinity = old.value(at: "spec.nodeAffinity"), affinity != new.value(at: "spec.nodeAffinity") {
                causes.append(FieldCause("nodeAffinity", "Invalid value: field is immutable"))
            }
            return causes
        },
        columns: [
            .name,
            TableColumn(name: "Capacity") { object, _ in .string(object.value(at: ["spec", "capacity", "storage"])?.stringValue ?? "") },
            TableColumn(name: "Access Modes") { object, _ in .string(StorageRules.modesText(object.value(at: "spec.accessModes")?.arrayValue)) },
            .text("Reclaim Policy", "spec.persistentVolumeReclaimPolicy", or: ""),
            // kubectl shows a claim or volume being deleted as Terminating, whatever its phase.
            TableColumn(name: "Status") { object, _ in
                .string(object.value(at: "metadata.deletionTimestamp") != nil ? "Terminating" : Printing.text(object, "status.phase", or: ""))
            },
            TableColumn(name: "Claim") { object, _ in
                guard let name = object.value(at: "spec.claimRef.name")?.stringValue else { return "" }
                return .string("\(object.value(at: "spec.claimRef.namespace")?.stringValue ?? "")/\(name)")
            },
            .text("StorageClass", "spec.storageClassName", or: ""),
            .text("VolumeAttributesClass", "spec.volumeAttributesClassName", or: "<unset>"),
            .text("Reason", "status.reason", or: ""),
            .age,
            .text("VolumeMode", "spec.volumeMode", or: "", priority: 1),
        ])

    public static let pvProtectionFinalizer = "kubernetes.io/pv-protection"

    /// The sources a PersistentVolume may name (one of them); the node mounts the first two.
    static let volumeSources = ["hostPath", "local", "nfs", "csi", "iscsi", "fc", "rbd", "cephfs", "cinder",
                                "awsElasticBlockStore", "gcePersistentDisk", "azureDisk", "azureFile"]
}

extension APIResource {
    public static let persistentVolumes = KindDefinition.persistentVolume.resource
}
