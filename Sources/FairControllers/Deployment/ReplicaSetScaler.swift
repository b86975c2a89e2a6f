import FairKube

/// Creates and scales the ReplicaSets of one Deployment, recording each step as an event.
struct ReplicaSetScaler {
    let client: KubeClient
    let deployment: JSONValue
    let spec: EffectiveDeploymentSpec
    let events: EventRecorder

    /// Sets `spec.replicas` (against the resourceVersion read: a stale view retries instead of
    /// overwriting). Returns the ReplicaSet as stored.
    @discardableResult
    func scale(_ replicaSet: JSONValue, to replicas: Int64) throws -> JSONValue {
        let from = replicaSet.specReplicas
        let annotations = replicaSet.value(at: "metadata.annotations")
        let desired = String(spec.replicas), maximum = String(spec.replicas + spec.maxSurge)
        guard from != replicas || annotations?[EffectiveDeploymentSpec.desiredReplicasAnnotation]?.stringValue != desired
                || annotations?[EffectiveDeploymentSpec.maxReplicasAnnotation]?.stringValue != maximum else { return replicaSet }
        var updated = replicaSet
        updated.set(.int(replicas), at: "spec.replicas")
        updated.set(.string(desired), at: ["metadata", "annotations", EffectiveDeploymentSpec.desiredReplicasAnnotation])
        updated.set(.string(maximum), at: ["metadata", "annotations", EffectiveDeploymentSpec.maxReplicasAnnotation])
        let stored = try client.update(.replicaSets, updated)
        if from != replicas {
            let direction = replicas > from ? "up" : "down"
            events.record(deployment, .normal, reason: "ScalingReplicaSet",
                          message: "Scaled \(direction) replica set \(replicaSet.name ?? "") from \(from) to \(replicas)")
        }
        return stored
    }

    /// A new ReplicaSet for the Deployment's current template, named after its hash.
    func create(revision: Int64, replicas: Int64) throws -> JSONValue {
        let template = deployment.value(at: "spec.template") ?? .object([:])
        let collisionCount = deployment.value(at: "status.collisionCount")?.intValue
        let hash = TemplateHash.compute(template, collisionCount: collisionCount)
        let name = "\(deployment.name ?? "")-\(hash)"

        var podTemplate = template
        podTemplate.set(.string(hash), at: ["metadata", "labels", TemplateHash.label])
        var selector = deployment.value(at: "spec.selector") ?? .object([:])
        selector.set(.string(hash), at: ["matchLabels", TemplateHash.label])
        var annotations = deployment.value(at: "metadata.annotations")?.objectValue ?? [:]
        for key in ["kubectl.kubernetes.io/last-applied-configuration", EffectiveDeploymentSpec.revisionAnnotation] { annotations[key] = nil }
        annotations[EffectiveDeploymentSpec.revisionAnnotation] = .string(String(revision))
        annotations[EffectiveDeploymentSpec.desiredReplicasAnnotation] = .string(String(spec.replicas))
        annotations[EffectiveDeploymentSpec.maxReplicasAnnotation] = .string(String(spec.replicas + spec.maxSurge))

        let replicaSet: JSONValue = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": ["name": .string(name), "namespace": .string(deployment.namespace ?? "default"),
                         "labels": podTemplate.value(at: "metadata.labels") ?? .object([:]),
                         "annotations": .object(annotations),
                         "ownerReferences": [OwnerKind.deployment.controllerReference(to: deployment)]],
            "spec": ["replicas": .int(replicas), "minReadySeconds": .int(spec.minReadySeconds),
                     "selector": selector, "template": podTemplate],
        ]
        let created = try client.create(.replicaSets, namespace: deployment.namespace, replicaSet)
        events.record(deployment, .normal, reason: "ScalingReplicaSet", message: "Scaled up replica set \(name) to \(replicas)")
        return created
    }

    /// Gives a ReplicaSet that becomes the Deployment's current one again the newest revision.
    func markRevision(_ replicaSet: JSONValue, _ revision: Int64) throws -> JSONValue {
        guard replicaSet.revision < revision else { return replicaSet }
        var updated = replicaSet
        updated.set(.string(String(revision)), at: ["metadata", "annotations", EffectiveDeploymentSpec.revisionAnnotation])
        return try client.update(.replicaSets, updated)
    }
}
