import FairKube
import Foundation

/// A Deployment's status, computed from its ReplicaSets: the counts, the `Available` condition
/// (at least `replicas - maxUnavailable` available) and the `Progressing` condition that
/// `kubectl rollout status` reads (reason `NewReplicaSetAvailable` once the rollout is done,
/// `ProgressDeadlineExceeded` when it stalled for `progressDeadlineSeconds`).
struct ComputedDeploymentStatus {
    private(set) var status: JSONValue
    /// When to look again for a stalled rollout, if one is under way.
    private(set) var checkProgressAfter: TimeInterval?

    init(deployment: JSONValue, spec: EffectiveDeploymentSpec, current: JSONValue?, old: [JSONValue], createdNew: String?, now: Date) {
        let previous = deployment["status"] ?? .object([:])
        let all = (current.map { [$0] } ?? []) + old
        let replicas = all.reduce(0) { $0 + $1.statusReplicas }
        let updated = current?.statusReplicas ?? 0
        let ready = all.reduce(0) { $0 + $1.readyReplicas }
        let available = all.reduce(0) { $0 + $1.availableReplicas }
        let declared = all.reduce(0) { $0 + $1.specReplicas }

        var status = DeploymentStatus(json: previous)
        status.observedGeneration = deployment.metadata.generation ?? 1
        status.replicas = replicas
        status.updatedReplicas = updated
        status.readyReplicas = ready
        status.availableReplicas = available
        status.unavailableReplicas = max(0, declared - available)

        let stamp = KubeTime.format(now)
        var conditions = Conditions(previous)
        if available >= spec.replicas - spec.maxUnavailable {
            conditions.set("Available", status: "True", reason: "MinimumReplicasAvailable",
                           message: "Deployment has minimum availability.", now: stamp, probeField: "lastUpdateTime")
        } else {
            conditions.set("Available", status: "False", reason: "MinimumReplicasUnavailable",
                           message: "Deployment does not have minimum availability.", now: stamp, probeField: "lastUpdateTime")
        }

        let name = current?.name ?? ""
        let complete = updated == spec.replicas && replicas == spec.replicas && available == spec.replicas
        let progressing = conditions.get("Progressing")
        if spec.paused {
            conditions.set("Progressing", status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused",
                           now: stamp, probeField: "lastUpdateTime")
        } else if let createdNew {
            conditions.set("Progressing", status: "True", reason: "NewReplicaSetCreated",
                           message: "Created new replica set \"\(createdNew)\"", now: stamp, probeField: "lastUpdateTime")
        } else if complete {
            conditions.set("Progressing", status: "True", reason: "NewReplicaSetAvailable",
                           message: "ReplicaSet \"\(name)\" has successfully progressed.", now: stamp, probeField: "lastUpdateTime")
        } else if progressing == nil || progressing?.reason == "DeploymentPaused"
                    || Self.madeProgress(from: previous, replicas: replicas, updated: updated, ready: ready, available: available) {
            conditions.set("Progressing", status: "True", reason: "ReplicaSetUpdated",
                           message: "ReplicaSet \"\(name)\" is progressing.", now: stamp, probeField: "lastUpdateTime", touch: true)
        } else if progressing?.isTrue == true, progressing?.reason != "NewReplicaSetAvailable" {
            let since = KubeTime.parse(progressing?.json["lastUpdateTime"]) ?? now
            let remaining = since.addingTimeInterval(Double(spec.progressDeadlineSeconds)).timeIntervalSince(now)
            if remaining <= 0 {
                conditions.set("Progressing", status: "False", reason: "ProgressDeadlineExceeded",
                               message: "ReplicaSet \"\(name)\" has timed out progressing.", now: stamp, probeField: "lastUpdateTime")
            } else {
                checkProgressAfter = remaining + 0.05
            }
        }
        if !complete, !spec.paused, conditions.isTrue("Progressing"), checkProgressAfter == nil {
            checkProgressAfter = Double(spec.progressDeadlineSeconds) + 0.05
        }
        status.json["conditions"] = conditions.json
        self.status = status.json
    }

    /// Kubernetes' DeploymentProgressing: more new pods, fewer old ones, or more ready/available.
    private static func madeProgress(from previous: JSONValue, replicas: Int64, updated: Int64, ready: Int64, available: Int64) -> Bool {
        let int = { (field: String) in previous[field]?.intValue ?? 0 }
        let oldBefore = int("replicas") - int("updatedReplicas")
        return updated > int("updatedReplicas") || (replicas - updated) < oldBefore
            || ready > int("readyReplicas") || available > int("availableReplicas")
    }
}
