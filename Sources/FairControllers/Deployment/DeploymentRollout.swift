import FairKube

/// The arithmetic of a rollout (kube-controller-manager's rolling.go and recreate.go): how far
/// the new ReplicaSet may grow and the old ones shrink in one step, so that at most
/// `replicas + maxSurge` pods exist and at least `replicas - maxUnavailable` stay available.
struct DeploymentRollout {
    let spec: EffectiveDeploymentSpec
    let scaler: ReplicaSetScaler
    let pods: Informer

    // MARK: - RollingUpdate

    /// The size the new ReplicaSet may have now, given the pods the others still hold.
    func replicasForNew(current: JSONValue?, old: [JSONValue]) -> Int64 {
        let currentSize = current?.specReplicas ?? 0
        let total = currentSize + old.reduce(0) { $0 + $1.specReplicas }
        let ceiling = spec.replicas + spec.maxSurge
        guard total < ceiling else { return currentSize }
        return currentSize + max(0, min(ceiling - total, spec.replicas - currentSize))
    }

    /// Scales the new ReplicaSet toward `replicas`; returns its size afterwards.
    func reconcileNew(_ current: JSONValue, old: [JSONValue]) throws -> Int64 {
        let size = current.specReplicas
        if size == spec.replicas { return size }
        let target = size > spec.replicas ? spec.replicas : replicasForNew(current: current, old: old)
        if target != size { try scaler.scale(current, to: target) }
        return target
    }

    /// Shrinks old ReplicaSets as far as availability allows: first the pods that are not
    /// available anyway, then available ones down to `replicas - maxUnavailable` in all.
    /// Returns whether anything was scaled.
    func scaleDownOld(current: JSONValue, old: inout [JSONValue]) throws -> Bool {
        let oldSize = old.reduce(0) { $0 + $1.specReplicas }
        guard oldSize > 0 else { return false }
        let allSize = oldSize + current.specReplicas
        let minAvailable = spec.replicas - spec.maxUnavailable
        let newUnavailable = current.specReplicas - current.availableReplicas
        let maxScaledDown = allSize - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return false }

        var scaledDown: Int64 = 0
        // Unhealthy pods of old ReplicaSets cost no availability.
        for index in old.indices {
            guard scaledDown < maxScaledDown else { break }
            let replicaSet = old[index]
            let unhealthy = replicaSet.specReplicas - replicaSet.availableReplicas
            guard replicaSet.specReplicas > 0, unhealthy > 0 else { continue }
            let count = min(maxScaledDown - scaledDown, unhealthy)
            old[index] = try scaler.scale(replicaSet, to: replicaSet.specReplicas - count)
            scaledDown += count
        }

        let available = old.reduce(current.availableReplicas) { $0 + $1.availableReplicas }
        if available > minAvailable {
            let allowed = available - minAvailable
            var taken: Int64 = 0
            for index in old.indices {
                guard taken < allowed else { break }
                let replicaSet = old[index]
                guard replicaSet.specReplicas > 0 else { continue }
                let count = min(replicaSet.specReplicas, allowed - taken)
                old[index] = try scaler.scale(replicaSet, to: replicaSet.specReplicas - count)
                taken += count
            }
            scaledDown += taken
        }
        return scaledDown > 0
    }

    // MARK: - Recreate

    enum RecreateStep { case waiting, proceed }

    /// Recreate: every old ReplicaSet goes to zero, and the new one starts only once their pods
    /// are gone (no two versions ever run side by side).
    func recreate(current: JSONValue?, old: inout [JSONValue]) throws -> RecreateStep {
        var scaled = false
        for index in old.indices where old[index].specReplicas > 0 {
            old[index] = try scaler.scale(old[index], to: 0)
            scaled = true
        }
        if scaled { return .waiting }
        let oldUIDs = Set(old.compactMap(\.uid))
        if old.contains(where: { $0.statusReplicas > 0 }) { return .waiting }
        let running = pods.list(namespace: scaler.deployment.namespace) { pod in
            guard let owner = pod.controllerReference?.uid, oldUIDs.contains(owner) else { return false }
            return !pod.isFinishedPod
        }
        return running.isEmpty ? .proceed : .waiting
    }
}
