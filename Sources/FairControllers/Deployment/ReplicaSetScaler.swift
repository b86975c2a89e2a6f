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
        let annotations = replicaSet.metadata.annotations
        let desired = String(spec.replicas), maximum = String(spec.replicas + spec.maxSurge)
        guard from != replicas || annotations[EffectiveDeploymentSpec.desiredReplicasAnnotation] != desired
                || annotations[EffectiveDeploymentSpec.maxReplicasAnnotation] != maximum else { return replicaSet }
        var updated = ReplicaSet(json: replicaSet)
        updated.spec.replicas = replicas
        updated.metadata.annotations[EffectiveDeploymentSpec.desiredReplicasAnnotation] = desired
        updated.metadata.annotations[EffectiveDeploymentSpec.maxReplicasAnnotation] = maximum
        let stored = try client.update(.replicaSets, updated.json)
        if from != replicas {
            let direction = replicas > from ? "up" : "down"
            events.record(deployment, .normal, reason: "ScalingReplicaSet",
                          message: "Scaled \(direction) replica set \(replicaSet.name ?? "") from \(from) to \(replicas)")
        }
        return stored
    }

    /// A new ReplicaSet for the Deployment's current template, named after its hash.
    func create(revision: Int64, replicas: Int64) throws -> JSONValue {
        let owner = Deployment(json: deployment)
        let hash = TemplateHash.compute(owner.spec.template.json, collisionCount: owner.status.collisionCount)
        let name = "\(deployment.name ?? "")-\(hash)"

        var podTemplate = owner.spec.template
        podTemplate.metadata.labels[TemplateHash.label] = hash
        var selector = owner.spec.selector ?? .object([:])
        selector.set(.string(hash), at: ["matchLabels", TemplateHash.label])
        var annotations = owner.metadata.annotations
        for key in ["kubectl.kubernetes.io/last-applied-configuration", EffectiveDeploymentSpec.revisionAnnotation] { annotations[key] = nil }
        annotations[EffectiveDeploymentSpec.revisionAnnotation] = String(revision)
        annotations[EffectiveDeploymentSpec.desiredReplicasAnnotation] = String(spec.replicas)
        annotations[EffectiveDeploymentSpec.maxReplicasAnnotation] = String(spec.replicas + spec.maxSurge)

        var replicaSet = ReplicaSet(json: ["apiVersion": "apps/v1", "kind": "ReplicaSet"])
        replicaSet.metadata.name = name
        replicaSet.metadata.namespace = deployment.namespace ?? "default"
        replicaSet.metadata.labels = podTemplate.metadata.labels
        replicaSet.metadata.annotations = annotations
        replicaSet.metadata.ownerReferences = [OwnerReference(json: OwnerKind.deployment.controllerReference(to: deployment))]
        replicaSet.spec.replicas = replicas
        replicaSet.spec.minReadySeconds = spec.minReadySeconds
        replicaSet.spec.json["selector"] = selector
        replicaSet.spec.template = podTemplate
        let created = try client.create(.replicaSets, namespace: deployment.namespace, replicaSet.json)
        events.record(deployment, .normal, reason: "ScalingReplicaSet", message: "Scaled up replica set \(name) to \(replicas)")
        return created
    }

    /// Gives a ReplicaSet that becomes the Deployment's current one again the newest revision.
    func markRevision(_ replicaSet: JSONValue, _ revision: Int64) throws -> JSONValue {
        guard replicaSet.revision < revision else { return replicaSet }
        var updated = ReplicaSet(json: replicaSet)
        updated.metadata.annotations[EffectiveDeploymentSpec.revisionAnnotation] = String(revision)
        return try client.update(.replicaSets, updated.json)
    }
}
