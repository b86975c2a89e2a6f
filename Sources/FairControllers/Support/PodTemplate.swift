import FairKube

/// A new pod from an owner's `spec.template`: the template's labels, annotations and spec, a
/// generated name after the owner's, and the controller reference that ties it to its owner.
enum PodTemplate {
    /// Kubernetes keeps generated names within 63 characters: base ≤ 58, then 5 random ones.
    static let maxGenerateNamePrefix = 58

    static func generateNamePrefix(for ownerName: String) -> String {
        let base = ownerName + "-"
        return base.count <= maxGenerateNamePrefix ? base : String(base.prefix(maxGenerateNamePrefix))
    }

    static func pod(from template: PodTemplateSpec, owner: JSONValue, kind: OwnerKind, extraLabels: [String: String] = [:]) -> JSONValue {
        var pod = Pod(json: ["apiVersion": "v1", "kind": "Pod"])
        var metadata = ObjectMeta()
        metadata.generateName = generateNamePrefix(for: owner.name ?? "pod")
        metadata.namespace = owner.namespace ?? "default"
        metadata.labels = template.metadata.labels.merging(extraLabels) { _, extra in extra }
        // Written even when empty, as the pods were before: `labels: {}`.
        if metadata.labels.isEmpty { metadata.json["labels"] = .object([:]) }
        metadata.ownerReferences = [OwnerReference(json: kind.controllerReference(to: owner))]
        metadata.annotations = template.metadata.annotations
        if let finalizers = template.metadata.json["finalizers"] { metadata.json["finalizers"] = finalizers }
        pod.metadata = metadata
        pod.spec = template.spec
        return pod.json
    }
}
