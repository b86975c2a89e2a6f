import FairKube

/// The fields of a Deployment the controller acts on, with Kubernetes' defaults resolved.
struct EffectiveDeploymentSpec {
    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"

    let replicas: Int64
    let isRecreate: Bool
    /// How many pods may exist above `replicas` during a rolling update (0 for Recreate).
    let maxSurge: Int64
    /// How many of `replicas` may be unavailable during a rolling update (0 for Recreate).
    let maxUnavailable: Int64
    let minReadySeconds: Int64
    let revisionHistoryLimit: Int64
    let progressDeadlineSeconds: Int64
    let paused: Bool

    init(_ deployment: JSONValue) throws {
        let spec = Deployment(json: deployment).spec
        replicas = max(0, spec.replicas ?? 1)
        isRecreate = spec.strategy.type == "Recreate"
        minReadySeconds = max(0, spec.minReadySeconds ?? 0)
        revisionHistoryLimit = max(0, spec.revisionHistoryLimit ?? 10)
        progressDeadlineSeconds = spec.progressDeadlineSeconds ?? 600
        paused = spec.paused ?? false
        if isRecreate {
            maxSurge = 0
            maxUnavailable = 0
        } else {
            // Kubernetes' ResolveFenceposts: surge rounds up, unavailability down, and a rollout
            // that could neither add nor remove a pod may take one down.
            let surge = try IntOrPercent.resolve(spec.strategy.maxSurge,
                                                 field: "spec.strategy.rollingUpdate.maxSurge", total: replicas,
                                                 roundUp: true, default: "25%")
            var unavailable = try IntOrPercent.resolve(spec.strategy.maxUnavailable,
                                                       field: "spec.strategy.rollingUpdate.maxUnavailable", total: replicas,
                                                       roundUp: false, default: "25%")
            if surge == 0 && unavailable == 0 { unavailable = 1 }
            maxSurge = surge
            maxUnavailable = min(unavailable, replicas)
        }
    }
}

/// Reading a ReplicaSet the way a Deployment weighs it.
extension JSONValue {
    var specReplicas: Int64 { ReplicaSet(json: self).spec.replicas ?? 1 }
    var statusReplicas: Int64 { ReplicaSet(json: self).status.replicas ?? 0 }
    var readyReplicas: Int64 { ReplicaSet(json: self).status.readyReplicas ?? 0 }
    /// Available pods, never more than the spec asks for: a status not yet caught up with a
    /// scale-down must not make the rollout take down more than it may.
    var availableReplicas: Int64 { min(ReplicaSet(json: self).status.availableReplicas ?? 0, specReplicas) }
    var revision: Int64 { Int64(metadata.annotations[EffectiveDeploymentSpec.revisionAnnotation] ?? "") ?? 0 }
}
