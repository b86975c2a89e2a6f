/// Checks that StatefulSet and DaemonSet share as kube-apiserver's apps validation has them:
/// their pods run for good, so a template may restart them only `Always`, and an update
/// strategy is one of two types.
enum WorkloadRules {
    /// kube's ValidatePodTemplateSpecForStatefulSet and ValidateDaemonSetSpec: the only
    /// restart policy is Always (a pod that ends is restarted in place, never replaced).
    static func restartAlwaysCauses(_ object: JSONValue) -> [FieldCause] {
        guard let policy = object.value(at: "spec.template.spec.restartPolicy")?.stringValue, policy != "Always" else { return [] }
        return [FieldCause("spec.template.spec.restartPolicy", "Unsupported value: \"\(policy)\": supported values: \"Always\"")]
    }

    static func updateStrategyTypeCauses(_ object: JSONValue) -> [FieldCause] {
        guard let type = object.value(at: "spec.updateStrategy.type")?.stringValue else { return [] }
        guard !["RollingUpdate", "OnDelete"].contains(type) else { return [] }
        return [FieldCause("spec.updateStrategy.type", "Unsupported value: \"\(type)\": supported values: \"OnDelete\", \"RollingUpdate\"")]
    }

    static func nonNegativeCauses(_ object: JSONValue, _ paths: [String]) -> [FieldCause] {
        paths.compactMap { path in
            guard let value = object.value(at: path)?.intValue, value < 0 else { return nil }
            return FieldCause(path, "Invalid value: \(value): must be greater than or equal to 0")
        }
    }

    /// The selector of an existing workload may not change: its pods are found by it.
    static func selectorImmutableCauses(old: JSONValue, new: JSONValue) -> [FieldCause] {
        guard old.value(at: "spec.selector") != new.value(at: "spec.selector") else { return [] }
        let text = String(decoding: JSONCoding.encodeBytes(new.value(at: "spec.selector") ?? .null), as: UTF8.self)
        return [FieldCause("spec.selector", "Invalid value: \(text): field is immutable")]
    }
}
