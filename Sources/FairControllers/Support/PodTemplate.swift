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

    static func pod(from template: JSONValue?, owner: JSONValue, kind: OwnerKind, extraLabels: [String: String] = [:]) -> JSONValue {
        var labels = template?.value(at: "metadata.labels")?.objectValue ?? [:]
        for (key, value) in extraLabels { labels[key] = .string(value) }
        var metadata: JSONValue = [
            "generateName": .string(generateNamePrefix(for: owner.name ?? "pod")),
            "namespace": .string(owner.namespace ?? "default"),
            "labels": .object(labels),
            "ownerReferences": [kind.controllerReference(to: owner)],
        ]
        if let annotations = template?.value(at: "metadata.annotations"), annotations.objectValue?.isEmpty == false {
            metadata["annotations"] = annotations
        }
        if let finalizers = template?.value(at: "metadata.finalizers") { metadata["finalizers"] = finalizers }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                "spec": template?["spec"] ?? .object([:])]
    }
}
