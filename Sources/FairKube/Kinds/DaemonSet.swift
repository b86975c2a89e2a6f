/// apps/v1 DaemonSet: one pod on every node its template fits (node selector, affinity,
/// taints). Defaults and checks are kube-apiserver's (pkg/apis/apps/v1/defaults.go,
/// pkg/apis/apps/validation).
extension KindDefinition {
    public static let daemonSet = KindDefinition(
        group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", namespaced: true,
        shortNames: ["ds"], categories: ["all"], subresources: ["status"],
        defaults: { object in
            if object.value(at: "spec.updateStrategy.type") == nil { object.set("RollingUpdate", at: ["spec", "updateStrategy", "type"]) }
            if object.value(at: "spec.updateStrategy.type")?.stringValue == "RollingUpdate" {
                if object.value(at: "spec.updateStrategy.rollingUpdate.maxUnavailable") == nil {
                    object.set(.int(1), at: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"])
                }
                if object.value(at: "spec.updateStrategy.rollingUpdate.maxSurge") == nil {
                    object.set(.int(0), at: ["spec", "updateStrategy", "rollingUpdate", "maxSurge"])
                }
            }
            if object.value(at: "spec.revisionHistoryLimit") == nil { object.set(.int(10), at: ["spec", "revisionHistoryLimit"]) }
            PodSpecRules.applyDefaults(&object, at: ["spec", "template", "spec"])
        },
        validate: { object in
            PodSpecRules.validateTemplate(object, selectorRequired: true)
                + WorkloadRules.restartAlwaysCauses(object)
                + WorkloadRules.updateStrategyTypeCauses(object)
                + WorkloadRules.nonNegativeCauses(object, ["spec.minReadySeconds", "spec.revisionHistoryLimit"])
                + daemonSetRollingUpdateCauses(object)
        },
        validateUpdate: { old, new in WorkloadRules.selectorImmutableCauses(old: old, new: new) },
        columns: [
            .name,
            .integer("Desired", "status.desiredNumberScheduled"),
            .integer("Current", "status.currentNumberScheduled"),
            .integer("Ready", "status.numberReady"),
            .integer("Up-to-date", "status.updatedNumberScheduled"),
            .integer("Available", "status.numberAvailable"),
            // kubectl prints the template's node selector as a label selector: "k=v,…" or <none>.
            TableColumn(name: "Node Selector") { object, _ in
                .string(Printing.selectorText(.object(object.value(at: "spec.template.spec.nodeSelector")?.objectValue ?? [:])))
            },
            .age,
        ] + TableColumn.workload)

    /// kube's ValidateRollingUpdateDaemonSet: both bounds are a count or a percentage, and a
    /// rollout that may neither take a pod down nor add one could never move.
    private static func daemonSetRollingUpdateCauses(_ object: JSONValue) -> [FieldCause] {
        guard object.value(at: "spec.updateStrategy.type")?.stringValue == "RollingUpdate" else {
            if object.value(at: "spec.updateStrategy.rollingUpdate") != nil {
                return [FieldCause("spec.updateStrategy.rollingUpdate", "Invalid value: \"OnDelete\": only allowed for updateStrategy 'RollingUpdate'")]
            }
            return []
        }
        var causes: [FieldCause] = []
        var zero: [String: Bool] = [:]
        for field in ["maxUnavailable", "maxSurge"] {
            let path = "spec.updateStrategy.rollingUpdate.\(field)"
            switch object.value(at: path) {
            case let .int(number)?:
                zero[field] = number == 0
                if number < 0 { causes.append(FieldCause(path, "Invalid value: \(number): must be greater than or equal to 0")) }
            case let .string(text)?:
                let percent = text.hasSuffix("%") ? Int(text.dropLast()) : nil
                if let percent, percent >= 0, percent <= 100 {
                    zero[field] = percent == 0
                } else {
                    causes.append(FieldCause(path, "Invalid value: \"\(text)\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
                }
            default:
                zero[field] = true
            }
        }
        if zero["maxUnavailable"] == true && zero["maxSurge"] == true {
            causes.append(FieldCause("spec.updateStrategy.rollingUpdate.maxUnavailable", "Invalid value: 0: may not be 0 when `maxSurge` is 0"))
        }
        return causes
    }
}

extension APIResource {
    public static let daemonSets = KindDefinition.daemonSet.resource
}
