/// apps/v1 StatefulSet: pods with stable names (`NAME-0`, `NAME-1`, …), each with its own claims
/// made from `volumeClaimTemplates`, created and removed in order. Defaults, checks and the
/// fields an update may change are kube-apiserver's (pkg/apis/apps/v1/defaults.go,
/// pkg/apis/apps/validation).
extension KindDefinition {
    public static let statefulSet = KindDefinition(
        group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true,
        shortNames: ["sts"], categories: ["all"], subresources: ["status", "scale"],
        defaults: { object in
            if object.value(at: "spec.replicas") == nil { object.set(.int(1), at: ["spec", "replicas"]) }
            if object.value(at: "spec.podManagementPolicy") == nil { object.set("OrderedReady", at: ["spec", "podManagementPolicy"]) }
            if object.value(at: "spec.updateStrategy.type") == nil { object.set("RollingUpdate", at: ["spec", "updateStrategy", "type"]) }
            if object.value(at: "spec.updateStrategy.type")?.stringValue == "RollingUpdate",
               object.value(at: "spec.updateStrategy.rollingUpdate.partition") == nil {
                object.set(.int(0), at: ["spec", "updateStrategy", "rollingUpdate", "partition"])
            }
            if object.value(at: "spec.revisionHistoryLimit") == nil { object.set(.int(10), at: ["spec", "revisionHistoryLimit"]) }
            for field in ["whenDeleted", "whenScaled"] where object.value(at: ["spec", "persistentVolumeClaimRetentionPolicy", field]) == nil {
                object.set("Retain", at: ["spec", "persistentVolumeClaimRetentionPolicy", field])
            }
            defaultClaimTemplates(&object)
            PodSpecRules.applyDefaults(&object, at: ["spec", "template", "spec"])
        },
        validate: { object in
            PodSpecRules.validateTemplate(object, selectorRequired: true)
                + WorkloadRules.restartAlwaysCauses(object)
                + WorkloadRules.updateStrategyTypeCauses(object)
                + WorkloadRules.nonNegativeCauses(object, ["spec.minReadySeconds", "spec.revisionHistoryLimit",
                                                           "spec.updateStrategy.rollingUpdate.partition", "spec.ordinals.start"])
                + statefulSetPolicyCauses(object)
                + claimTemplateCauses(object)
        },
        validateUpdate: { old, new in
            var before = old["spec"] ?? [:], after = new["spec"] ?? [:]
            for field in mutableStatefulSetFields {
                before[field] = nil
                after[field] = nil
            }
            guard before == after else {
                return [FieldCause("spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
            }
            return []
        },
        columns: [
            .name,
            TableColumn(name: "Ready") { object, _ in
                .string("\(Printing.int(object, "status.readyReplicas"))/\(Printing.int(object, "spec.replicas"))")
            },
            .age,
        ] + TableColumn.workload.prefix(2))

    /// What kube's ValidateStatefulSetUpdate lets an update change; the rest of the spec (the
    /// selector, serviceName, volumeClaimTemplates, podManagementPolicy) is fixed at creation.
    static let mutableStatefulSetFields = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                                           "persistentVolumeClaimRetentionPolicy", "minReadySeconds"]

    /// A claim template is a PersistentVolumeClaim, defaulted as one (kube applies
    /// SetDefaults_PersistentVolumeClaim to each), so `kubectl get sts -o yaml` shows the same.
    private static func defaultClaimTemplates(_ object: inout JSONValue) {
        guard var templates = object.value(at: "spec.volumeClaimTemplates")?.arrayValue else { return }
        for index in templates.indices where templates[index].objectValue != nil {
            if templates[index].value(at: "spec.volumeMode") == nil { templates[index].set("Filesystem", at: ["spec", "volumeMode"]) }
            if templates[index].value(at: "status.phase") == nil { templates[index].set("Pending", at: ["status", "phase"]) }
            if templates[index]["apiVersion"] == nil { templates[index]["apiVersion"] = "v1" }
            if templates[index]["kind"] == nil { templates[index]["kind"] = "PersistentVolumeClaim" }
        }
        object.set(.array(templates), at: ["spec", "volumeClaimTemplates"])
    }

    private static func statefulSetPolicyCauses(_ object: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        if let policy = object.value(at: "spec.podManagementPolicy")?.stringValue, !["OrderedReady", "Parallel"].contains(policy) {
            causes.append(FieldCause("spec.podManagementPolicy", "Unsupported value: \"\(policy)\": supported values: \"OrderedReady\", \"Parallel\""))
        }
        if object.value(at: "spec.updateStrategy.type")?.stringValue == "OnDelete", object.value(at: "spec.updateStrategy.rollingUpdate") != nil {
            causes.append(FieldCause("spec.updateStrategy.rollingUpdate", "Invalid value: \"OnDelete\": only allowed for updateStrategy 'RollingUpdate'"))
        }
        for field in ["whenDeleted", "whenScaled"] {
            guard let value = object.value(at: ["spec", "persistentVolumeClaimRetentionPolicy", field])?.stringValue,
                  !["Retain", "Delete"].contains(value) else { continue }
            causes.append(FieldCause("spec.persistentVolumeClaimRetentionPolicy.\(field)", "Unsupported value: \"\(value)\": supported values: \"Retain\", \"Delete\""))
        }
        return causes
    }

    /// Each template is checked as a claim would be, and needs a name (its claims are named
    /// after it), one that the pod template's volumes do not also use.
    private static func claimTemplateCauses(_ object: JSONValue) -> [FieldCause] {
        let volumeNames = Set((object.value(at: "spec.template.spec.volumes")?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        var causes: [FieldCause] = []
        var seen: Set<String> = []
        for (index, template) in (object.value(at: "spec.volumeClaimTemplates")?.arrayValue ?? []).enumerated() {
            let path = "spec.volumeClaimTemplates[\(index)]"
            let name = template.value(at: "metadata.name")?.stringValue ?? ""
            if name.isEmpty {
                causes.append(FieldCause("\(path).metadata.name", "Required value: name or generateName is required"))
            } else if !seen.insert(name).inserted {
                causes.append(FieldCause("\(path).metadata.name", "Duplicate value: \"\(name)\""))
            } else if volumeNames.contains(name) {
                causes.append(FieldCause("\(path).metadata.name", "Duplicate value: \"\(name)\": volume of the pod template"))
            }
            let claimCauses = StorageRules.accessModeCauses(template, at: "spec.accessModes")
                + StorageRules.sizeCauses(template, at: "spec.resources.requests.storage")
                + StorageRules.volumeModeCauses(template, at: "spec.volumeMode")
            causes += claimCauses.map { FieldCause("\(path).\($0.field)", $0.message) }
        }
        return causes
    }
}

extension APIResource {
    public static let statefulSets = KindDefinition.statefulSet.resource
}
